//! The one clock. Times are UTC, stored without zone, truncated to microseconds so that a value
//! read back from Postgres or SQLite equals the one written.

use chrono::{DurationRound, NaiveDateTime, TimeDelta, Utc};

pub fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}
