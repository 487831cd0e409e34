//! Creating a token: the facts a create is decided on, read under the account's write lock so
//! that concurrent creates cannot overshoot the limit or share a name.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::schema::tokens;
use super::super::services;
use super::super::status_sql::word_sql;
use super::super::{AnyConnection, StoreResult, locked_transaction};
use super::{count_live, find_policy, insert_token, lock_key, record_note, to_record};
use crate::domain::User;
use crate::domain::UserId;
use crate::domain::secret::PlainToken;
use crate::domain::status::StatusWord;
use crate::domain::tokens::{AccountFacts, NewTokenRequest, Refusal, TokenRecord, plan_create};
use crate::metrics::METRICS;

/// Whether one of `issuer`'s tokens holds `name` (`StatusWord::HoldsName`).
fn name_is_held(
    conn: &mut AnyConnection,
    issuer: &UserId,
    name: &str,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let holders: i64 = tokens::table
        .filter(tokens::issuer_id.eq(issuer.as_str().to_owned()))
        .filter(tokens::name.eq(name.to_owned()))
        .into_boxed()
        .filter(word_sql(StatusWord::HoldsName, now))
        .count()
        .get_result(conn)?;
    Ok(holders > 0)
}

/// Creates a token issued by `creator`, if the account's rules allow it. `actor` asked for it:
/// the creator themselves, or an administrator making a service account's token.
pub fn create_token(
    conn: &mut AnyConnection,
    creator: &User,
    actor: &User,
    request: &NewTokenRequest,
    secret: &PlainToken,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<Result<TokenRecord, Refusal>> {
    let account = &creator.account_id;
    let outcome = locked_transaction(conn, &lock_key(account), |conn| {
        let policy = find_policy(conn, account)?;
        let live = count_live(conn, account, now, i64::from(policy.max_tokens))?.value;
        let held = name_is_held(conn, &creator.id, request.name.as_str(), now)?;
        let services = services::names(conn, account)?;
        let facts = AccountFacts {
            policy: &policy,
            live,
            services: &services,
        };
        let plan = match plan_create(request, &facts, held, now) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let row = insert_token(conn, account, &creator.id, &plan.token, secret, now)?;
        record_note(conn, account, Some(actor), &row.id, &plan.audit, ip, now)?;
        Ok(Ok(to_record(row, creator.display_name.clone())))
    })?;
    if outcome.is_ok() {
        METRICS.tokens_created.inc();
    }
    Ok(outcome)
}
