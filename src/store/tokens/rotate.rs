//! Regenerating a token: a new secret under the old one's name, role and issuer, while the old
//! one ends at once or at the end of its overlap, pointing to its replacement so that deleting
//! the new one ends it too.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::schema::tokens;
use super::super::services;
use super::super::{AnyConnection, StoreResult, locked_transaction};
use super::{
    count_live, find_policy, find_token, insert_token, lock_key, mark_deleted, record_note,
    to_record,
};
use crate::domain::secret::PlainToken;
use crate::domain::tokens::{
    AccountFacts, Refusal, Regeneration, TokenRecord, Visibility, plan_regenerate,
    regenerate_adds_a_live_token,
};
use crate::domain::{TokenId, User};
use crate::metrics::METRICS;

/// Regenerates a token `actor` can see, acting with `actor.role` (an API caller's effective
/// role). The answer is the new token.
pub fn regenerate_token(
    conn: &mut AnyConnection,
    actor: &User,
    id: &TokenId,
    secret: &PlainToken,
    how: &Regeneration,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<Result<TokenRecord, Refusal>> {
    let visibility = Visibility::of(actor);
    let account = &actor.account_id;
    let outcome = locked_transaction(conn, &lock_key(account), |conn| {
        let Some(old) = find_token(conn, &visibility, id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let policy = find_policy(conn, account)?;
        let live = if regenerate_adds_a_live_token(&old, now) {
            count_live(conn, account, now, i64::from(policy.max_tokens))?.value
        } else {
            0
        };
        let services = services::names(conn, account)?;
        let facts = AccountFacts {
            policy: &policy,
            live,
            services: &services,
        };
        let plan = match plan_regenerate(&old, actor.role, &facts, how, now) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        mark_deleted(conn, &old.id, &actor.id, plan.old_ends, now)?;
        let row = insert_token(conn, account, &old.issuer_id, &plan.token, secret, now)?;
        diesel::update(tokens::table.filter(tokens::id.eq(old.id.as_str())))
            .set(tokens::replaced_by.eq(&row.id))
            .execute(conn)?;
        record_note(conn, account, Some(actor), &row.id, &plan.audit, ip, now)?;
        Ok(Ok(to_record(row, old.issuer_name)))
    })?;
    // A new token, and the old one on its way out (at once or after the overlap).
    if outcome.is_ok() {
        METRICS.tokens_created.inc();
        METRICS.tokens_deleted.inc();
    }
    Ok(outcome)
}
