//! Tokens in the store: what every token query shares (the visibility scope, rows read as
//! records, the policy and the live count, a rotation's chain), with one file per job: `list`,
//! `create`, `rotate` (regenerate), `suspend`, `delete` (by hand or on a report) and `story`
//! (a token's page). Every query is scoped by a `Visibility`, so a token outside it is simply
//! not found. Whether an action may happen is `domain::tokens`'s decision; these files load
//! its facts under the account's lock and write its plan.

mod create;
mod delete;
mod list;
mod rotate;
mod story;
mod suspend;

pub use create::create_token;
pub use delete::{Reported, delete_token, revoke_reported};
pub use list::{TokenPage, any_expiring_soon, list_tokens};
pub use rotate::regenerate_token;
pub use story::{StoryShown, TokenStory, find_story};
pub use suspend::set_suspended;

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::audit::{self, AuditEvent};
use super::error::taken_as;
use super::rows::TokenRow;
use super::schema::{account_policies, tokens, users};
use super::status_sql::{StatusSql, word_sql};
use super::{AnyConnection, MultiBackend, StoreResult};
use crate::domain::allowlist::IpAllowlist;
use crate::domain::credential::LAST_USED_INTERVAL_SECONDS;
use crate::domain::policy::TokenPolicy;
use crate::domain::scopes::{Access, Resource, stored_pattern};
use crate::domain::secret::{PlainToken, TokenDigest};
use crate::domain::status::StatusWord;
use crate::domain::tokens::{AuditNote, NewToken, TokenRecord, Visibility};
use crate::domain::{AccountId, Role, TokenId, User, UserId};

#[diesel::declare_sql_function]
extern "SQL" {
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

fn visible(visibility: &Visibility) -> tokens::BoxedQuery<'static, MultiBackend> {
    let query = tokens::table
        .filter(tokens::account_id.eq(visibility.account().as_str().to_owned()))
        .into_boxed();
    match visibility {
        Visibility::Account(_) => query,
        Visibility::Issuer(_, issuer) => {
            query.filter(tokens::issuer_id.eq(issuer.as_str().to_owned()))
        }
    }
}

/// Display names of the people a page of tokens mentions: issuers, and who deleted them.
fn people_names(
    conn: &mut AnyConnection,
    rows: &[TokenRow],
) -> StoreResult<HashMap<String, String>> {
    let mut ids: Vec<&str> = rows
        .iter()
        .flat_map(|row| std::iter::once(row.issuer_id.as_str()).chain(row.deleted_by.as_deref()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let names = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(String, String)>(conn)?;
    Ok(names.into_iter().collect())
}

fn to_records(conn: &mut AnyConnection, rows: Vec<TokenRow>) -> StoreResult<Vec<TokenRecord>> {
    let names = people_names(conn, &rows)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let issuer_name = names.get(&row.issuer_id).cloned().unwrap_or_default();
            let deleted_by_name = row
                .deleted_by
                .as_ref()
                .and_then(|id| names.get(id))
                .cloned();
            TokenRecord {
                deleted_by_name,
                ..to_record(row, issuer_name)
            }
        })
        .collect())
}

fn to_record(row: TokenRow, issuer_name: String) -> TokenRecord {
    TokenRecord {
        id: TokenId::from_trusted(row.id),
        issuer_id: UserId::from_trusted(row.issuer_id),
        issuer_name,
        name: row.name,
        description: row.description,
        role: Role::parse(&row.role).unwrap_or(Role::ReadOnly),
        last_four: row.last_four,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        last_used_ip: row.last_used_ip,
        deleted_at: row.deleted_at,
        suspended_at: row.suspended_at,
        replaced_by: row.replaced_by.map(TokenId::from_trusted),
        deleted_by_name: None,
        deleted_reason: row.deleted_reason,
        allowed_ips: IpAllowlist::from_stored(&row.allowed_ips),
        access: Access::from_stored(row.scopes.as_deref()),
    }
}

pub fn find_policy(conn: &mut AnyConnection, account: &AccountId) -> StoreResult<TokenPolicy> {
    let found = account_policies::table
        .filter(account_policies::account_id.eq(account.as_str()))
        .select((
            account_policies::max_lifetime_days,
            account_policies::allow_never,
            account_policies::max_tokens,
        ))
        .first::<(i32, bool, i32)>(conn)
        .optional()?;
    Ok(match found {
        Some((max_lifetime_days, allow_never, max_tokens)) => TokenPolicy {
            max_lifetime_days: u32::try_from(max_lifetime_days).unwrap_or(0),
            allow_never,
            max_tokens: u32::try_from(max_tokens).unwrap_or(0),
        },
        None => TokenPolicy::default(),
    })
}

/// Counting stops this many rows past the page shown, so a list over a huge account says
/// "1,000+" instead of walking every row of it on every page (GitLab's lists do the same).
pub const COUNT_AHEAD: i64 = 1_000;

/// A count that may have stopped early: `exact` false means "more than `value`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub value: i64,
    pub exact: bool,
}

/// Counts the rows `query` finds, up to `cap`: past it the answer is "more than `cap`". Both
/// steps read at most `cap + 1` index entries, however many rows match.
fn count_up_to(
    conn: &mut AnyConnection,
    query: impl Fn() -> tokens::BoxedQuery<'static, MultiBackend>,
    cap: i64,
) -> StoreResult<Count> {
    // A column every index of the table leads with, so the probe can read the index alone.
    let beyond: Vec<String> = query()
        .select(tokens::account_id)
        .limit(1)
        .offset(cap)
        .load(conn)?;
    if beyond.is_empty() {
        let value = query().count().get_result(conn)?;
        Ok(Count { value, exact: true })
    } else {
        Ok(Count {
            value: cap,
            exact: false,
        })
    }
}

/// The account's live tokens (what the limit counts), up to `cap`.
pub fn count_live(
    conn: &mut AnyConnection,
    account: &AccountId,
    now: NaiveDateTime,
    cap: i64,
) -> StoreResult<Count> {
    let visibility = Visibility::Account(account.clone());
    count_up_to(
        conn,
        || visible(&visibility).filter(word_sql(StatusWord::Live, now)),
        cap,
    )
}

/// Tokens whose scopes name `resource` (the stored form of `Access::to_stored`).
pub(super) fn names_resource_sql(resource: &Resource) -> StatusSql {
    Box::new(
        tokens::scopes
            .like(stored_pattern(resource))
            .assume_not_null(),
    )
}

/// Tokens that reach `resource` at any level: scoped ones that name it, and full ones whose
/// role's ceiling includes it (the twin of `Access::level_on` for the token's own role).
pub(super) fn reaches_sql(resource: &Resource) -> StatusSql {
    let roles: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|role| resource.ceiling(*role).is_some())
        .map(Role::as_str)
        .collect();
    Box::new(
        tokens::scopes
            .is_null()
            .and(tokens::role.eq_any(roles))
            .or(names_resource_sql(resource)),
    )
}

/// The one token `query` finds (by a unique column), as a record.
fn first_record(
    conn: &mut AnyConnection,
    query: tokens::BoxedQuery<'static, MultiBackend>,
) -> StoreResult<Option<TokenRecord>> {
    let row = query.select(TokenRow::as_select()).first(conn).optional()?;
    Ok(to_records(conn, row.into_iter().collect())?.pop())
}

pub fn find_token(
    conn: &mut AnyConnection,
    visibility: &Visibility,
    id: &TokenId,
) -> StoreResult<Option<TokenRecord>> {
    let query = visible(visibility).filter(tokens::id.eq(id.as_str().to_owned()));
    first_record(conn, query)
}

/// The tokens `id` replaced in a regenerate (the secret it rotated out), newest first.
pub fn find_replaced(
    conn: &mut AnyConnection,
    visibility: &Visibility,
    id: &TokenId,
) -> StoreResult<Vec<TokenRecord>> {
    let rows = visible(visibility)
        .filter(tokens::replaced_by.eq(id.as_str().to_owned()))
        .order(tokens::created_at.desc())
        .select(TokenRow::as_select())
        .load(conn)?;
    to_records(conn, rows)
}

/// The token with this digest, if the viewer may see it: "whose token is this?".
pub fn find_token_by_digest(
    conn: &mut AnyConnection,
    visibility: &Visibility,
    digest: &TokenDigest,
) -> StoreResult<Option<TokenRecord>> {
    let query = visible(visibility).filter(tokens::digest.eq(digest.as_bytes().to_vec()));
    first_record(conn, query)
}

/// Everyone who may appear in the "issued by" filter of an account.
pub fn list_issuers(
    conn: &mut AnyConnection,
    account: &AccountId,
) -> StoreResult<Vec<(UserId, String)>> {
    let rows = users::table
        .filter(users::account_id.eq(account.as_str()))
        .order(users::display_name.asc())
        .select((users::id, users::display_name))
        .load::<(String, String)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| (UserId::from_trusted(id), name))
        .collect())
}

/// The lock every write to an account's tokens takes, so a rule read under it (the limit, a
/// name) still holds when the write commits.
pub(super) fn lock_key(account: &AccountId) -> String {
    format!("account-tokens:{account}")
}

/// The audit entry a plan asked for, about token `subject`, by `actor` (nobody: a report).
pub(super) fn record_note(
    conn: &mut AnyConnection,
    account: &AccountId,
    actor: Option<&User>,
    subject: &str,
    note: &AuditNote,
    ip: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    audit::record(
        conn,
        AuditEvent {
            account_id: Some(account.as_str()),
            actor_id: actor.map(|a| a.id.as_str()),
            kind: note.kind,
            subject,
            ip,
            detail: &note.detail,
            at: now,
        },
    )
}

/// Writes a new token row for `issuer`; a name another live token holds is the unique index's
/// refusal, reported on the name field.
fn insert_token(
    conn: &mut AnyConnection,
    account: &AccountId,
    issuer: &UserId,
    new: &NewToken,
    secret: &PlainToken,
    now: NaiveDateTime,
) -> StoreResult<TokenRow> {
    let row = TokenRow {
        id: TokenId::generate().to_string(),
        account_id: account.to_string(),
        issuer_id: issuer.to_string(),
        name: new.name.as_str().to_owned(),
        description: new.description.as_str().to_owned(),
        role: new.role.as_str().to_owned(),
        digest: secret.digest().as_bytes().to_vec(),
        last_four: secret.last_four(),
        created_at: now,
        expires_at: new.expires_at,
        last_used_at: None,
        last_used_ip: None,
        deleted_at: None,
        deleted_by: None,
        notified_7d_at: None,
        notified_1d_at: None,
        allowed_ips: new.allowed_ips.to_stored(),
        deleted_reason: None,
        suspended_at: None,
        replaced_by: None,
        scopes: new.access.to_stored(),
    };
    diesel::insert_into(tokens::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| taken_as(e, "name"))?;
    Ok(row)
}

/// The secrets still being rotated out for `id`: those it replaced whose deletion time is ahead,
/// and those they replaced in turn (a rotation during a rotation).
fn retiring_chain(
    conn: &mut AnyConnection,
    id: &TokenId,
    now: NaiveDateTime,
) -> StoreResult<Vec<String>> {
    let mut chain: Vec<String> = Vec::new();
    let mut frontier = vec![id.as_str().to_owned()];
    // Bounded: a chain longer than this is not a rotation anyone made by hand.
    for _ in 0..32 {
        let older: Vec<String> = tokens::table
            .filter(tokens::replaced_by.eq_any(&frontier))
            .filter(word_sql(StatusWord::Retiring, now))
            .select(tokens::id)
            .load(conn)?;
        if older.is_empty() {
            break;
        }
        chain.extend(older.iter().cloned());
        frontier = older;
    }
    Ok(chain)
}

/// The soft delete shared by delete and regenerate, taking effect at `at` (now, or the end of a
/// rotation's overlap). False when the token was already deleted: the condition makes a
/// concurrent second delete a no-op, not a rewrite. A secret being rotated out for this token
/// ends with it: deleting a token ends both its secrets at once.
fn mark_deleted(
    conn: &mut AnyConnection,
    id: &TokenId,
    by: &UserId,
    at: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let changed = diesel::update(
        tokens::table
            .filter(tokens::id.eq(id.as_str()))
            .filter(word_sql(StatusWord::NotDeleted, now)),
    )
    .set((
        tokens::deleted_at.eq(at),
        tokens::deleted_by.eq(by.as_str()),
    ))
    .execute(conn)?;
    if changed > 0 && at <= now {
        let chain = retiring_chain(conn, id, now)?;
        if !chain.is_empty() {
            diesel::update(tokens::table.filter(tokens::id.eq_any(chain)))
                .set(tokens::deleted_at.eq(now))
                .execute(conn)?;
        }
    }
    Ok(changed > 0)
}

/// Records a use unless one was recorded within the interval. The condition lives in the
/// UPDATE itself, so concurrent requests write once, not once each.
pub fn record_use(
    conn: &mut AnyConnection,
    id: &TokenId,
    now: NaiveDateTime,
    ip: &str,
) -> StoreResult<()> {
    let due_before = now - TimeDelta::seconds(LAST_USED_INTERVAL_SECONDS);
    diesel::update(
        tokens::table.filter(tokens::id.eq(id.as_str())).filter(
            tokens::last_used_at
                .is_null()
                .or(tokens::last_used_at.le(due_before).assume_not_null()),
        ),
    )
    .set((tokens::last_used_at.eq(now), tokens::last_used_ip.eq(ip)))
    .execute(conn)?;
    Ok(())
}

/// Sets the account's token limit alone, without an audit event: for the seed tool and tests.
/// People change it on the policy page (`accounts::update_policy`).
pub fn set_max_tokens(conn: &mut AnyConnection, account: &AccountId, max: u32) -> StoreResult<()> {
    diesel::update(
        account_policies::table.filter(account_policies::account_id.eq(account.as_str())),
    )
    .set(account_policies::max_tokens.eq(i32::try_from(max).unwrap_or(i32::MAX)))
    .execute(conn)?;
    Ok(())
}
