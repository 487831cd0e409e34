//! The API's credential check: a token's digest to the token, its issuer and the account, on
//! the hot path of every API call. The checks of one worker turn are gathered (`batch`) and read
//! together: in one read transaction on SQLite (`sqlite`), in one query on Postgres
//! (`postgres`). Reads only; what a check decides is `domain::credential`'s.

mod batch;
pub(super) mod postgres;
pub(super) mod sqlite;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::IssuerRow;
use super::schema::{accounts, tokens, users};
use super::{AnyConnection, StoreResult};
use crate::domain::allowlist::IpAllowlist;
use crate::domain::credential::Credential;
use crate::domain::scopes::Access;
use crate::domain::secret::TokenDigest;
use crate::domain::{Role, TokenId};

/// The API's credential query, for the tokens `$filter` picks (by digest). Written once, run on
/// the inner connection of either backend: through the multi-backend wrapper diesel rebuilt the
/// SQL text on every call (a fifth of the request's time), while the native connections reuse
/// their cached statement. The digest is read back so a batch can tell its rows apart.
macro_rules! credential_query {
    ($filter:expr) => {
        tokens::table
            .inner_join(users::table.on(users::id.eq(tokens::issuer_id)))
            .inner_join(accounts::table.on(accounts::id.eq(tokens::account_id)))
            .filter($filter)
            .select((
                (
                    tokens::id,
                    tokens::name,
                    tokens::role,
                    tokens::created_at,
                    tokens::expires_at,
                    tokens::deleted_at,
                    tokens::suspended_at,
                    tokens::last_used_at,
                    tokens::last_used_ip,
                    tokens::allowed_ips,
                    tokens::scopes,
                    tokens::digest,
                ),
                IssuerRow::as_select(),
                accounts::name,
            ))
    };
}
pub(super) use credential_query;

/// The token with this digest and its issuer, by the unique digest index. One query.
pub fn find_credential_by_digest(
    conn: &mut AnyConnection,
    digest: &TokenDigest,
) -> StoreResult<Option<Credential>> {
    // No `.first()`: its `LIMIT ?` makes SQLite re-prepare the statement on every run (a bound
    // limit counts as plan-relevant), which cost a third of this path's time. The digest is
    // unique, so there is at most one row anyway.
    let bytes = digest.as_bytes();
    let found = match conn {
        AnyConnection::Sqlite(conn) => credential_query!(tokens::digest.eq(bytes))
            .get_result::<CredentialRow>(conn)
            .optional()?,
        AnyConnection::Postgres(conn) => credential_query!(tokens::digest.eq(bytes))
            .get_result::<CredentialRow>(conn)
            .optional()?,
    };
    Ok(found.map(to_credential))
}

/// The credential query's row as the domain's `Credential`: shared by the pool's path and the
/// asynchronous one (`postgres`), so both read a row the same way.
pub(super) fn to_credential((token, issuer, account_name): CredentialRow) -> Credential {
    Credential {
        token_id: TokenId::from_trusted(token.id),
        token_name: token.name,
        token_role: Role::parse(&token.role).unwrap_or(Role::ReadOnly),
        created_at: token.created_at,
        expires_at: token.expires_at,
        deleted_at: token.deleted_at,
        suspended_at: token.suspended_at,
        last_used_at: token.last_used_at,
        last_used_ip: token.last_used_ip,
        allowed_ips: IpAllowlist::from_stored(&token.allowed_ips),
        access: Access::from_stored(token.scopes.as_deref()),
        issuer: issuer.into_user(account_name),
    }
}

/// The credential query's row: the token's columns, its issuer's, the account's name.
pub(super) type CredentialRow = (CredentialColumns, IssuerRow, String);

/// The token's columns the check reads, in the credential query's order.
#[derive(Queryable)]
pub(super) struct CredentialColumns {
    id: String,
    name: String,
    role: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    deleted_at: Option<NaiveDateTime>,
    suspended_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    last_used_ip: Option<String>,
    allowed_ips: String,
    scopes: Option<String>,
    /// Read back so that a batch can tell its rows apart.
    pub(super) digest: Vec<u8>,
}
