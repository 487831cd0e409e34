//! Accounts and their token policy.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::{self, AuditEvent};
use super::rows::AccountRow;
use super::schema::{account_policies, accounts};
use super::{AnyConnection, StoreResult};
use crate::domain::audit::AuditKind;
use crate::domain::policy::TokenPolicy;
use crate::domain::{AccountName, User};

/// Finds the account by name, creating it with the default policy when it is new.
/// Call inside a transaction: the two inserts belong together.
pub(crate) fn find_or_create_account(
    conn: &mut AnyConnection,
    name: &AccountName,
    now: NaiveDateTime,
) -> StoreResult<AccountRow> {
    let existing = accounts::table
        .filter(accounts::name.eq(name.as_str()))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(account) = existing {
        return Ok(account);
    }
    let account = AccountRow {
        id: crate::domain::AccountId::generate().to_string(),
        name: name.as_str().to_owned(),
        created_at: now,
    };
    diesel::insert_into(accounts::table)
        .values(&account)
        .execute(conn)?;
    // The domain's defaults, written out: the columns' own defaults only serve old rows.
    let policy = TokenPolicy::default();
    diesel::insert_into(account_policies::table)
        .values((
            account_policies::account_id.eq(&account.id),
            account_policies::max_lifetime_days.eq(to_column(policy.max_lifetime_days)),
            account_policies::allow_never.eq(policy.allow_never),
            account_policies::max_tokens.eq(to_column(policy.max_tokens)),
            account_policies::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(account)
}

/// Sets the account's token policy. Existing tokens keep their expiry; the next create, on the
/// page or through the API, reads the new values (it reads the policy under the account lock).
pub fn update_policy(
    conn: &mut AnyConnection,
    actor: &User,
    policy: &TokenPolicy,
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let account = actor.account_id.as_str();
    conn.transaction(|conn| {
        diesel::update(account_policies::table.filter(account_policies::account_id.eq(account)))
            .set((
                account_policies::max_lifetime_days.eq(to_column(policy.max_lifetime_days)),
                account_policies::allow_never.eq(policy.allow_never),
                account_policies::max_tokens.eq(to_column(policy.max_tokens)),
                account_policies::updated_at.eq(now),
            ))
            .execute(conn)?;
        let detail = policy.audit_detail();
        audit::record(
            conn,
            AuditEvent {
                account_id: Some(account),
                actor_id: Some(actor.id.as_str()),
                kind: AuditKind::PolicyChanged,
                subject: account,
                ip: Some(ip),
                detail: &detail,
                at: now,
            },
        )
    })
}

/// Policy values are bounded far below `i32::MAX` by the domain; saturate rather than wrap.
fn to_column(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
