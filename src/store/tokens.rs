//! Tokens: create within the account limit, list with filters, find, delete, regenerate.
//! Every query is scoped by a `Visibility`, so a token outside it is simply not found.

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::audit::{self, AuditEvent};
use super::error::taken_as;
use super::rows::{IssuerRow, TokenRow};
use super::schema::{account_policies, accounts, tokens, users};
use super::{AnyConnection, MultiBackend, StoreError, StoreResult, locked_transaction};
use crate::domain::allowlist::IpAllowlist;
use crate::domain::audit::AuditKind;
use crate::domain::credential::{Credential, LAST_USED_INTERVAL_SECONDS};
use crate::domain::expiry::{self, WARNING_DAYS};
use crate::domain::lifecycle::{NewToken, NewTokenInput, TokenFilter, TokenRecord, Visibility};
use crate::domain::name::{TokenDescription, TokenName};
use crate::domain::policy::TokenPolicy;
use crate::domain::status::{StatusFilter, TokenStatus, status_at};
use crate::domain::token::{PlainToken, TokenDigest};
use crate::domain::{AccountId, DomainError, Role, TokenId, User, UserId};
use crate::metrics::METRICS;

#[diesel::declare_sql_function]
extern "SQL" {
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

type StatusSql =
    Box<dyn BoxableExpression<tokens::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// Not deleted yet: never, or a rotation's deletion time still ahead.
fn not_deleted_sql(now: NaiveDateTime) -> StatusSql {
    Box::new(
        tokens::deleted_at
            .is_null()
            .or(tokens::deleted_at.gt(now).assume_not_null()),
    )
}

fn not_expired_sql(now: NaiveDateTime) -> StatusSql {
    Box::new(
        tokens::expires_at
            .is_null()
            .or(tokens::expires_at.gt(now).assume_not_null()),
    )
}

/// The SQL twin of `domain::status::status_at`; tests/it/status_sql.rs checks that the two agree
/// on every combination of dates, on both backends.
pub(crate) fn status_sql(status: TokenStatus, now: NaiveDateTime) -> StatusSql {
    match status {
        TokenStatus::Deleted => Box::new(tokens::deleted_at.le(now).assume_not_null()),
        TokenStatus::Expired => {
            Box::new(not_deleted_sql(now).and(tokens::expires_at.le(now).assume_not_null()))
        }
        TokenStatus::Suspended => Box::new(
            not_deleted_sql(now)
                .and(not_expired_sql(now))
                .and(tokens::suspended_at.is_not_null()),
        ),
        TokenStatus::Active => Box::new(
            not_deleted_sql(now)
                .and(not_expired_sql(now))
                .and(tokens::suspended_at.is_null()),
        ),
    }
}

/// What the account's limit counts (product.md §3): not deleted and not expired, suspended or not.
pub(crate) fn live_sql(now: NaiveDateTime) -> StatusSql {
    Box::new(not_deleted_sql(now).and(not_expired_sql(now)))
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

/// `%` and `_` typed in a search are literal characters, not wildcards.
fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn filtered(
    visibility: &Visibility,
    filter: &TokenFilter,
    now: NaiveDateTime,
) -> tokens::BoxedQuery<'static, MultiBackend> {
    let mut query = visible(visibility);
    if visibility.sees_whole_account()
        && let Some(issuer) = &filter.issuer
    {
        query = query.filter(tokens::issuer_id.eq(issuer.as_str().to_owned()));
    }
    if let Some(role) = filter.role {
        query = query.filter(tokens::role.eq(role.as_str()));
    }
    if let StatusFilter::Only(status) = filter.status {
        query = query.filter(status_sql(status, now));
    }
    if let Some(needle) = &filter.name_contains {
        query = query.filter(lower(tokens::name).like(like_pattern(needle)).escape('\\'));
    }
    query
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

/// Non-deleted, unexpired tokens of the account (what the limit counts), up to `cap`.
pub fn count_live(
    conn: &mut AnyConnection,
    account: &AccountId,
    now: NaiveDateTime,
    cap: i64,
) -> StoreResult<Count> {
    let visibility = Visibility::Account(account.clone());
    count_up_to(conn, || visible(&visibility).filter(live_sql(now)), cap)
}

pub struct TokenPage {
    pub tokens: Vec<TokenRecord>,
    /// Tokens matching the filters, over all pages, counted up to `COUNT_AHEAD` past this page.
    pub matching: Count,
    /// Live tokens in the account, for "12 of 50 tokens", counted up to `COUNT_AHEAD`.
    pub live_in_account: Count,
    pub policy: TokenPolicy,
}

pub fn list_tokens(
    conn: &mut AnyConnection,
    visibility: &Visibility,
    filter: &TokenFilter,
    page: i64,
    per_page: i64,
    now: NaiveDateTime,
) -> StoreResult<TokenPage> {
    // Any page number parses; one past i64's range of rows simply finds nothing.
    let offset = (page.max(1) - 1).saturating_mul(per_page);
    // One walk of the index (account or issuer, created_at, id) gives both the page's ids and
    // the count ahead of it: the ids from here to COUNT_AHEAD past the page's start. Only the
    // page's own rows are read after that, so a deep page skips index entries, not rows.
    // (A subselect does not pass through the two-backend connection; two queries do.)
    let ahead = COUNT_AHEAD.max(per_page);
    let mut ids: Vec<String> = filtered(visibility, filter, now)
        .select(tokens::id)
        .order((tokens::created_at.desc(), tokens::id.desc()))
        .limit(ahead + 1)
        .offset(offset)
        .load(conn)?;
    let found = ids.len() as i64;
    let matching = if found > ahead {
        Count {
            value: offset.saturating_add(ahead),
            exact: false,
        }
    } else if found > 0 || offset == 0 {
        Count {
            value: offset + found,
            exact: true,
        }
    } else {
        // A page past the end (a stale link): how many there are, for the last page.
        count_up_to(conn, || filtered(visibility, filter, now), offset)?
    };
    ids.truncate(usize::try_from(per_page).unwrap_or(usize::MAX));
    let page_ids = ids;
    let rows = tokens::table
        .filter(tokens::id.eq_any(page_ids))
        .select(TokenRow::as_select())
        .order((tokens::created_at.desc(), tokens::id.desc()))
        .load(conn)?;
    let tokens = to_records(conn, rows)?;
    let policy = find_policy(conn, visibility.account())?;
    // Exact up to a thousand, so "3 of 1 tokens" still says how far over a small limit it is;
    // a huge account reads "1000+ of 10000 tokens".
    let live_in_account = count_live(conn, visibility.account(), now, COUNT_AHEAD)?;
    Ok(TokenPage {
        tokens,
        matching,
        live_in_account,
        policy,
    })
}

pub fn find_token(
    conn: &mut AnyConnection,
    visibility: &Visibility,
    id: &TokenId,
) -> StoreResult<Option<TokenRecord>> {
    let row = visible(visibility)
        .filter(tokens::id.eq(id.as_str().to_owned()))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?;
    Ok(to_records(conn, row.into_iter().collect())?.pop())
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
    let row = visible(visibility)
        .filter(tokens::digest.eq(digest.as_bytes().to_vec()))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?;
    Ok(to_records(conn, row.into_iter().collect())?.pop())
}

/// What a secret-scanning report did with one reported token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// No token of this deployment has this digest.
    NotOurs,
    /// Ours, but already deleted or expired: nothing to revoke.
    AlreadyDead,
    /// Ours and live: revoked now.
    Revoked(TokenId),
}

/// Revokes the live token with this digest, reported leaked at `url`: deleted by nobody, with the
/// reason kept on the row and in the audit log.
pub fn revoke_reported(
    conn: &mut AnyConnection,
    digest: &TokenDigest,
    url: &str,
    now: NaiveDateTime,
) -> StoreResult<Reported> {
    let outcome = locked_transaction(conn, "secret-scanning", |conn| {
        let found = tokens::table
            .filter(tokens::digest.eq(digest.as_bytes().to_vec()))
            .select(TokenRow::as_select())
            .get_result::<TokenRow>(conn)
            .optional()?;
        let Some(row) = found else {
            return Ok(Reported::NotOurs);
        };
        let status = status_at(row.deleted_at, row.expires_at, row.suspended_at, now);
        if !matches!(status, TokenStatus::Active | TokenStatus::Suspended) {
            return Ok(Reported::AlreadyDead);
        }
        let reason = format!("reported leaked at {url}");
        let changed = diesel::update(
            tokens::table
                .filter(tokens::id.eq(&row.id))
                .filter(not_deleted_sql(now)),
        )
        .set((
            tokens::deleted_at.eq(now),
            tokens::deleted_by.eq(None::<String>),
            tokens::deleted_reason.eq(&reason),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Ok(Reported::AlreadyDead);
        }
        // A leaked token's older secret, still in a rotation's overlap, goes with it.
        let id = TokenId::from_trusted(row.id.clone());
        let chain = retiring_chain(conn, &id, now)?;
        if !chain.is_empty() {
            diesel::update(tokens::table.filter(tokens::id.eq_any(chain)))
                .set(tokens::deleted_at.eq(now))
                .execute(conn)?;
        }
        audit::record(
            conn,
            AuditEvent {
                account_id: Some(&row.account_id),
                actor_id: None,
                kind: AuditKind::TokenReportedLeaked,
                subject: &row.id,
                ip: None,
                detail: &format!("{}, {reason}", row.name),
            },
        )?;
        Ok(Reported::Revoked(TokenId::from_trusted(row.id)))
    })?;
    if matches!(outcome, Reported::Revoked(_)) {
        METRICS.tokens_deleted.inc();
    }
    Ok(outcome)
}

/// True when a live token the viewer can see expires within the warning window (the "!" badge).
pub fn any_expiring_soon(
    conn: &mut AnyConnection,
    visibility: &Visibility,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let soon = now + TimeDelta::days(WARNING_DAYS);
    let query = visible(visibility)
        .filter(tokens::deleted_at.is_null())
        .filter(tokens::expires_at.gt(now).assume_not_null())
        .filter(tokens::expires_at.le(soon).assume_not_null())
        .select(tokens::id)
        .limit(1);
    Ok(query.first::<String>(conn).optional()?.is_some())
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

pub enum CreateOutcome {
    Created(Box<TokenRecord>),
    Invalid(Vec<DomainError>),
    LimitReached(u32),
}

fn name_taken() -> DomainError {
    DomainError::new(
        "name",
        "You already have a token with this name. Choose another name.",
    )
}

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
    };
    diesel::insert_into(tokens::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| taken_as(e, "name"))?;
    Ok(row)
}

fn live_name_exists(conn: &mut AnyConnection, issuer: &UserId, name: &str) -> StoreResult<bool> {
    let query = tokens::table
        .filter(tokens::issuer_id.eq(issuer.as_str()))
        .filter(tokens::name.eq(name))
        .filter(tokens::deleted_at.is_null())
        .select(tokens::id);
    Ok(diesel::select(diesel::dsl::exists(query)).get_result(conn)?)
}

fn lock_key(account: &AccountId) -> String {
    format!("account-tokens:{account}")
}

/// Creates a token for `creator` if every rule holds. The policy is read and the limit counted
/// under the account's write lock, so concurrent creates cannot overshoot it.
pub fn create_token(
    conn: &mut AnyConnection,
    creator: &User,
    input: &NewTokenInput,
    secret: &PlainToken,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<CreateOutcome> {
    let account = &creator.account_id;
    let outcome = locked_transaction(conn, &lock_key(account), |conn| {
        let policy = find_policy(conn, account)?;
        let new = match NewToken::parse(input, creator.role, &policy, now) {
            Ok(new) => new,
            Err(errors) => return Ok(CreateOutcome::Invalid(errors)),
        };
        if live_name_exists(conn, &creator.id, new.name.as_str())? {
            return Ok(CreateOutcome::Invalid(vec![name_taken()]));
        }
        let max = i64::from(policy.max_tokens);
        if count_live(conn, account, now, max)?.value >= max {
            return Ok(CreateOutcome::LimitReached(policy.max_tokens));
        }
        let row = insert_token(conn, account, &creator.id, &new, secret, now)?;
        audit::record(
            conn,
            AuditEvent {
                account_id: Some(account.as_str()),
                actor_id: Some(creator.id.as_str()),
                kind: AuditKind::TokenCreated,
                subject: &row.id,
                ip,
                detail: &row.name,
            },
        )?;
        Ok(CreateOutcome::Created(Box::new(to_record(
            row,
            creator.display_name.clone(),
        ))))
    })?;
    if matches!(outcome, CreateOutcome::Created(_)) {
        METRICS.tokens_created.inc();
    }
    Ok(outcome)
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
            .filter(tokens::deleted_at.gt(now).assume_not_null())
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
            .filter(not_deleted_sql(now)),
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

pub enum DeleteOutcome {
    Deleted(TokenRecord),
    AlreadyDeleted(TokenRecord),
    NotFound,
}

/// Soft-deletes a token the actor can see: it stops authenticating at once, the row stays.
pub fn delete_token(
    conn: &mut AnyConnection,
    actor: &User,
    id: &TokenId,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<DeleteOutcome> {
    let visibility = Visibility::of(actor);
    // Under the account's write lock from the first statement, as create and regenerate are: a
    // deferred SQLite transaction that reads and then writes fails at once (busy) when another
    // write, such as the request-count flush, committed in between.
    let outcome = locked_transaction(conn, &lock_key(&actor.account_id), |conn| {
        let Some(token) = find_token(conn, &visibility, id)? else {
            return Ok(DeleteOutcome::NotFound);
        };
        if !mark_deleted(conn, id, &actor.id, now, now)? {
            return Ok(DeleteOutcome::AlreadyDeleted(token));
        }
        audit::record(
            conn,
            AuditEvent {
                account_id: Some(actor.account_id.as_str()),
                actor_id: Some(actor.id.as_str()),
                kind: AuditKind::TokenDeleted,
                subject: id.as_str(),
                ip,
                detail: &token.name,
            },
        )?;
        Ok(DeleteOutcome::Deleted(TokenRecord {
            deleted_at: Some(now),
            ..token
        }))
    })?;
    if matches!(outcome, DeleteOutcome::Deleted(_)) {
        METRICS.tokens_deleted.inc();
    }
    Ok(outcome)
}

pub enum RegenerateOutcome {
    Regenerated(TokenRecord),
    Deleted(TokenRecord),
    LimitReached(u32),
    /// The token's role is above the actor's (their effective role, for an API caller): a new
    /// secret would be a higher role than they hold.
    AboveYourRole(TokenRecord),
    NotFound,
}

/// How a regenerate goes: the new allowlist (`None` keeps the old one) and the overlap during
/// which the old secret still works (zero: it dies at once).
pub struct Regeneration {
    pub allowed_ips: Option<IpAllowlist>,
    pub overlap: TimeDelta,
}

/// Replaces a token's secret: a new token with the same name, description, role and issuer gets
/// the same lifetime again (capped by the policy); the old one is deleted, at once or at the end
/// of the overlap, and points to its replacement so that deleting the new one ends it too.
pub fn regenerate_token(
    conn: &mut AnyConnection,
    actor: &User,
    id: &TokenId,
    secret: &PlainToken,
    how: Regeneration,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<RegenerateOutcome> {
    let visibility = Visibility::of(actor);
    let account = &actor.account_id;
    let outcome = locked_transaction(conn, &lock_key(account), |conn| {
        let Some(old) = find_token(conn, &visibility, id)? else {
            return Ok(RegenerateOutcome::NotFound);
        };
        // A secret already on its way out is not regenerated again: its replacement is.
        if old.deleted_at.is_some() {
            return Ok(RegenerateOutcome::Deleted(old));
        }
        if old.role > actor.role {
            return Ok(RegenerateOutcome::AboveYourRole(old));
        }
        let policy = find_policy(conn, account)?;
        // An expired token does not count against the limit; its successor would.
        if old.status_at(now) == TokenStatus::Expired
            && count_live(conn, account, now, i64::from(policy.max_tokens))?.value
                >= i64::from(policy.max_tokens)
        {
            return Ok(RegenerateOutcome::LimitReached(policy.max_tokens));
        }
        // The old secret dies no later than it would have by itself.
        let ends = (now + how.overlap.max(TimeDelta::zero()))
            .min(old.expires_at.unwrap_or(NaiveDateTime::MAX))
            .max(now);
        mark_deleted(conn, &old.id, &actor.id, ends, now)?;
        let corrupt = |e: DomainError| StoreError::Corrupt(format!("token {}: {e}", old.id));
        let new = NewToken {
            name: TokenName::parse(&old.name).map_err(corrupt)?,
            description: TokenDescription::parse(&old.description).map_err(corrupt)?,
            role: old.role,
            expires_at: expiry::regenerated_expiry(old.created_at, old.expires_at, now, &policy),
            allowed_ips: how.allowed_ips.unwrap_or_else(|| old.allowed_ips.clone()),
        };
        let row = insert_token(conn, account, &old.issuer_id, &new, secret, now)?;
        diesel::update(tokens::table.filter(tokens::id.eq(old.id.as_str())))
            .set(tokens::replaced_by.eq(&row.id))
            .execute(conn)?;
        audit::record(
            conn,
            AuditEvent {
                account_id: Some(account.as_str()),
                actor_id: Some(actor.id.as_str()),
                kind: AuditKind::TokenRegenerated,
                subject: &row.id,
                ip,
                detail: &if ends > now {
                    format!(
                        "{} (replaces {}, which works until {})",
                        row.name,
                        old.id,
                        ends.format("%Y-%m-%d %H:%M UTC")
                    )
                } else {
                    format!("{} (replaces {})", row.name, old.id)
                },
            },
        )?;
        Ok(RegenerateOutcome::Regenerated(to_record(
            row,
            old.issuer_name,
        )))
    })?;
    // A new token, and the old one on its way out (at once or after the overlap).
    if matches!(outcome, RegenerateOutcome::Regenerated(_)) {
        METRICS.tokens_created.inc();
        METRICS.tokens_deleted.inc();
    }
    Ok(outcome)
}

pub enum SuspendOutcome {
    Done(TokenRecord),
    /// The token's role is above the actor's: they may not change its standing.
    AboveYourRole(TokenRecord),
    /// Already suspended (or already active): nothing written.
    Unchanged(TokenRecord),
    /// Deleted or expired: there is nothing to suspend or resume.
    NotLive(TokenRecord),
    NotFound,
}

/// Suspends (`suspend`) or resumes a token the actor can see. A suspended token answers 401 at
/// once; its expiry clock keeps running.
pub fn set_suspended(
    conn: &mut AnyConnection,
    actor: &User,
    id: &TokenId,
    suspend: bool,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<SuspendOutcome> {
    let visibility = Visibility::of(actor);
    locked_transaction(conn, &lock_key(&actor.account_id), |conn| {
        let Some(token) = find_token(conn, &visibility, id)? else {
            return Ok(SuspendOutcome::NotFound);
        };
        if token.role > actor.role {
            return Ok(SuspendOutcome::AboveYourRole(token));
        }
        match (token.status_at(now), suspend) {
            (TokenStatus::Deleted | TokenStatus::Expired, _) => {
                return Ok(SuspendOutcome::NotLive(token));
            }
            (TokenStatus::Suspended, true) | (TokenStatus::Active, false) => {
                return Ok(SuspendOutcome::Unchanged(token));
            }
            _ => {}
        }
        let suspended_at = suspend.then_some(now);
        // A secret being rotated out for this token is suspended and resumed with it.
        let mut ids = retiring_chain(conn, id, now)?;
        ids.push(id.as_str().to_owned());
        diesel::update(tokens::table.filter(tokens::id.eq_any(ids)))
            .set(tokens::suspended_at.eq(suspended_at))
            .execute(conn)?;
        audit::record(
            conn,
            AuditEvent {
                account_id: Some(actor.account_id.as_str()),
                actor_id: Some(actor.id.as_str()),
                kind: if suspend {
                    AuditKind::TokenSuspended
                } else {
                    AuditKind::TokenResumed
                },
                subject: id.as_str(),
                ip,
                detail: &token.name,
            },
        )?;
        Ok(SuspendOutcome::Done(TokenRecord {
            suspended_at,
            ..token
        }))
    })
}

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
                    tokens::expires_at,
                    tokens::deleted_at,
                    tokens::suspended_at,
                    tokens::last_used_at,
                    tokens::last_used_ip,
                    tokens::allowed_ips,
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
/// asynchronous one (`pg_async`), so both read a row the same way.
pub(super) fn to_credential(
    (
        (
            id,
            name,
            role,
            expires_at,
            deleted_at,
            suspended_at,
            last_used_at,
            last_used_ip,
            allowed,
            _digest,
        ),
        issuer,
        account_name,
    ): CredentialRow,
) -> Credential {
    Credential {
        token_id: TokenId::from_trusted(id),
        token_name: name,
        token_role: Role::parse(&role).unwrap_or(Role::ReadOnly),
        expires_at,
        deleted_at,
        suspended_at,
        last_used_at,
        last_used_ip,
        allowed_ips: IpAllowlist::from_stored(&allowed),
        issuer: issuer.into_user(account_name),
    }
}

/// The credential query's row: the token's columns, its issuer's, the account's name.
pub(super) type CredentialRow = (CredentialColumns, IssuerRow, String);

pub(super) type CredentialColumns = (
    String,
    String,
    String,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
    String,
    Vec<u8>,
);

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
