//! Suspending and resuming a token, with any old secret still being rotated out for it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::schema::tokens;
use super::super::{AnyConnection, StoreResult, locked_transaction};
use super::{find_token, lock_key, record_note, retiring_chain};
use crate::domain::tokens::{Refusal, TokenRecord, Visibility, plan_suspension};
use crate::domain::{TokenId, User};

/// Suspends (`suspend`) or resumes a token the actor can see. The answer is the token as it
/// now stands, and whether this call changed it (false: it already stood so).
pub fn set_suspended(
    conn: &mut AnyConnection,
    actor: &User,
    id: &TokenId,
    suspend: bool,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<Result<(TokenRecord, bool), Refusal>> {
    let visibility = Visibility::of(actor);
    locked_transaction(conn, &lock_key(&actor.account_id), |conn| {
        let Some(token) = find_token(conn, &visibility, id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let plan = match plan_suspension(&token, actor.role, suspend, now) {
            Ok(Some(plan)) => plan,
            Ok(None) => return Ok(Ok((token, false))),
            Err(refusal) => return Ok(Err(refusal)),
        };
        // A secret being rotated out for this token is suspended and resumed with it.
        let mut ids = retiring_chain(conn, id, now)?;
        ids.push(id.as_str().to_owned());
        diesel::update(tokens::table.filter(tokens::id.eq_any(ids)))
            .set(tokens::suspended_at.eq(plan.suspended_at))
            .execute(conn)?;
        record_note(
            conn,
            &actor.account_id,
            Some(actor),
            id.as_str(),
            &plan.audit,
            ip,
            now,
        )?;
        let token = TokenRecord {
            suspended_at: plan.suspended_at,
            ..token
        };
        Ok(Ok((token, true)))
    })
}
