//! Limits shared by every instance over one Postgres database: "at most N per window per key"
//! as one row per key, counted in one statement, so that the row lock orders instances that hit
//! the same key at once. Asked only where a rule could fire (a refused address about to be
//! audited, a secret-scanning report), after the instance's own memory allowed it: the hot path
//! of the token check never comes here. SQLite serves one process, whose memory is the limit.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use super::{AnyConnection, StoreResult};

#[derive(QueryableByName)]
struct Hits {
    #[diesel(sql_type = Integer)]
    hits: i32,
}

/// Rows whose window ended this long ago are removed when a new window starts.
const KEEP: TimeDelta = TimeDelta::days(1);

/// Counts one hit of `key` and says whether it is within `limit` for the window of length
/// `window` it falls in (a window starts at its first hit). Always true on SQLite.
pub fn hit(
    conn: &mut AnyConnection,
    key: &str,
    limit: u32,
    window: TimeDelta,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let AnyConnection::Postgres(pg) = conn else {
        return Ok(true);
    };
    let counted = diesel::sql_query(
        "INSERT INTO throttles (key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           window_start = CASE WHEN throttles.window_start <= $3 \
                               THEN EXCLUDED.window_start ELSE throttles.window_start END, \
           hits = CASE WHEN throttles.window_start <= $3 THEN 1 ELSE throttles.hits + 1 END \
         RETURNING hits",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamp, _>(now)
    .bind::<Timestamp, _>(now - window)
    .get_result::<Hits>(pg)?;
    if counted.hits == 1 {
        diesel::sql_query("DELETE FROM throttles WHERE window_start < $1")
            .bind::<Timestamp, _>(now - KEEP)
            .execute(pg)?;
    }
    Ok(u32::try_from(counted.hits).is_ok_and(|hits| hits <= limit))
}
