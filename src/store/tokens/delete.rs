//! Deleting a token: by hand (its row stays, with status deleted) or on a secret-scanning
//! report (deleted by nobody, the reason kept on the row). Either ends any old secret still being
//! rotated out for it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::rows::TokenRow;
use super::super::schema::tokens;
use super::super::status_sql::word_sql;
use super::super::{AnyConnection, StoreResult, locked_transaction};
use super::{find_token, lock_key, mark_deleted, record_note, retiring_chain};
use crate::domain::secret::TokenDigest;
use crate::domain::status::{StatusDates, StatusWord};
use crate::domain::tokens::{Refusal, TokenRecord, Visibility, plan_delete, plan_revoke_reported};
use crate::domain::{AccountId, TokenId, User};
use crate::metrics::METRICS;

/// Soft-deletes a token the actor can see: it stops authenticating at once, the row stays.
pub fn delete_token(
    conn: &mut AnyConnection,
    actor: &User,
    id: &TokenId,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<Result<TokenRecord, Refusal>> {
    let visibility = Visibility::of(actor);
    // Under the account's write lock from the first statement, as create and regenerate are: a
    // deferred SQLite transaction that reads and then writes fails at once (busy) when another
    // write, such as the request-count flush, committed in between.
    let outcome = locked_transaction(conn, &lock_key(&actor.account_id), |conn| {
        let Some(token) = find_token(conn, &visibility, id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let note = match plan_delete(&token, now) {
            Ok(note) => note,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if !mark_deleted(conn, id, &actor.id, now, now)? {
            return Ok(Err(Refusal::AlreadyDeleted { name: token.name }));
        }
        record_note(
            conn,
            &actor.account_id,
            Some(actor),
            id.as_str(),
            &note,
            ip,
            now,
        )?;
        Ok(Ok(TokenRecord {
            deleted_at: Some(now),
            ..token
        }))
    })?;
    if outcome.is_ok() {
        METRICS.tokens_deleted.inc();
    }
    Ok(outcome)
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

/// Revokes the live token with this digest, reported leaked at `url`.
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
        let dates = StatusDates {
            deleted_at: row.deleted_at,
            expires_at: row.expires_at,
            suspended_at: row.suspended_at,
        };
        let Some(plan) = plan_revoke_reported(&row.name, &dates, url, now) else {
            return Ok(Reported::AlreadyDead);
        };
        let changed = diesel::update(
            tokens::table
                .filter(tokens::id.eq(&row.id))
                .filter(word_sql(StatusWord::NotDeleted, now)),
        )
        .set((
            tokens::deleted_at.eq(now),
            tokens::deleted_by.eq(None::<String>),
            tokens::deleted_reason.eq(&plan.reason),
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
        let account = AccountId::from_trusted(row.account_id);
        record_note(conn, &account, None, id.as_str(), &plan.audit, None, now)?;
        Ok(Reported::Revoked(id))
    })?;
    if matches!(outcome, Reported::Revoked(_)) {
        METRICS.tokens_deleted.inc();
    }
    Ok(outcome)
}
