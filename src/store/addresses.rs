//! The addresses each token was used from (the last 50), with the User-Agent last seen from
//! each: for new-address alerts and the token's page.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::token_addresses;
use super::{AnyConnection, StoreResult};
use crate::domain::TokenId;

/// Addresses remembered per token; the least recently seen go first.
pub const ADDRESSES_KEPT: i64 = 50;

/// Records that `token` was used from `ip` at `now`. True when `ip` is new for a token that had
/// been used before: the moment for a new-address alert. `last_used_ip` (the address of the
/// last recorded use) counts as known, so a token first used before addresses were kept does
/// not alert on its usual address.
pub fn note_address(
    conn: &mut AnyConnection,
    token: &TokenId,
    ip: &str,
    user_agent: &str,
    last_used_ip: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let this = token_addresses::table
        .filter(token_addresses::token_id.eq(token.as_str()))
        .filter(token_addresses::ip.eq(ip));
    if diesel::update(this)
        .set((
            token_addresses::last_seen.eq(now),
            token_addresses::user_agent.eq(user_agent),
        ))
        .execute(conn)?
        > 0
    {
        return Ok(false);
    }
    let known_before: i64 = token_addresses::table
        .filter(token_addresses::token_id.eq(token.as_str()))
        .count()
        .get_result(conn)?;
    let inserted = diesel::insert_into(token_addresses::table)
        .values((
            token_addresses::token_id.eq(token.as_str()),
            token_addresses::ip.eq(ip),
            token_addresses::first_seen.eq(now),
            token_addresses::last_seen.eq(now),
            token_addresses::user_agent.eq(user_agent),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => {}
        // Another instance recorded it a moment ago: it is not new to this one either.
        Err(error) if super::error::is_unique_violation(&error) => return Ok(false),
        Err(error) => return Err(error.into()),
    }
    if known_before >= ADDRESSES_KEPT {
        let keep: Vec<String> = token_addresses::table
            .filter(token_addresses::token_id.eq(token.as_str()))
            .order(token_addresses::last_seen.desc())
            .select(token_addresses::ip)
            .limit(ADDRESSES_KEPT)
            .load(conn)?;
        diesel::delete(
            token_addresses::table
                .filter(token_addresses::token_id.eq(token.as_str()))
                .filter(token_addresses::ip.ne_all(keep)),
        )
        .execute(conn)?;
    }
    let used_elsewhere_before = known_before > 0 || last_used_ip.is_some_and(|last| last != ip);
    Ok(used_elsewhere_before)
}

/// One address a token was used from.
pub struct SeenAddress {
    pub ip: String,
    pub user_agent: String,
    pub first_seen: NaiveDateTime,
    pub last_seen: NaiveDateTime,
}

/// The `limit` addresses `token` was used from most recently.
pub fn recent_addresses(
    conn: &mut AnyConnection,
    token: &TokenId,
    limit: i64,
) -> StoreResult<Vec<SeenAddress>> {
    let rows: Vec<(String, String, NaiveDateTime, NaiveDateTime)> = token_addresses::table
        .filter(token_addresses::token_id.eq(token.as_str()))
        .order(token_addresses::last_seen.desc())
        .limit(limit)
        .select((
            token_addresses::ip,
            token_addresses::user_agent,
            token_addresses::first_seen,
            token_addresses::last_seen,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(ip, user_agent, first_seen, last_seen)| SeenAddress {
            ip,
            user_agent,
            first_seen,
            last_seen,
        })
        .collect())
}
