//! Requests per token and day. The API counts in memory and adds its counts here in batches
//! (`add_counts`), so a busy token is a few writes a minute, not one per request.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::token_activity;
use super::{AnyConnection, StoreResult};
use crate::domain::TokenId;

/// Adds a batch of (token, day, requests) to the stored counts, in one transaction. Another
/// instance may add to the same (token, day) at the same moment: an insert that loses that race
/// becomes an update.
pub fn add_counts(
    conn: &mut AnyConnection,
    counts: &[(TokenId, NaiveDate, i64)],
) -> StoreResult<()> {
    conn.transaction(|conn| {
        for (token, day, requests) in counts {
            let add = |conn: &mut AnyConnection| {
                diesel::update(
                    token_activity::table
                        .filter(token_activity::token_id.eq(token.as_str()))
                        .filter(token_activity::day.eq(day)),
                )
                .set(token_activity::requests.eq(token_activity::requests + requests))
                .execute(conn)
            };
            if add(conn)? > 0 {
                continue;
            }
            // A savepoint, so a lost race does not abort the batch on Postgres.
            let inserted = conn.transaction(|conn| {
                diesel::insert_into(token_activity::table)
                    .values((
                        token_activity::token_id.eq(token.as_str()),
                        token_activity::day.eq(day),
                        token_activity::requests.eq(requests),
                    ))
                    .execute(conn)
            });
            match inserted {
                Ok(_) => {}
                Err(error) if super::error::is_unique_violation(&error) => {
                    add(conn)?;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    })
}

/// A token's requests per day since `since` (inclusive), oldest first; days without requests
/// are absent.
pub fn daily_counts(
    conn: &mut AnyConnection,
    token: &TokenId,
    since: NaiveDate,
) -> StoreResult<Vec<(NaiveDate, i64)>> {
    Ok(token_activity::table
        .filter(token_activity::token_id.eq(token.as_str()))
        .filter(token_activity::day.ge(since))
        .order(token_activity::day.asc())
        .select((token_activity::day, token_activity::requests))
        .load(conn)?)
}
