//! The one clock. Times are UTC, stored without zone, truncated to microseconds so that a value
//! read back from Postgres or SQLite equals the one written.

use chrono::{DurationRound, NaiveDateTime, TimeDelta, Utc};

pub fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// A clock that can be moved forward: the server's own time for token checks, which tests
/// advance instead of sleeping (a rotation's overlap, a suspension, an expiry).
#[derive(Debug, Default)]
pub struct Clock {
    /// Microseconds added to the real time.
    offset_micros: std::sync::atomic::AtomicI64,
}

impl Clock {
    pub fn now(&self) -> NaiveDateTime {
        let offset = self
            .offset_micros
            .load(std::sync::atomic::Ordering::Relaxed);
        now() + TimeDelta::microseconds(offset)
    }

    pub fn advance(&self, by: TimeDelta) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.offset_micros
            .fetch_add(micros, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_runs_ahead_by_that_much() {
        let clock = Clock::default();
        assert!(clock.now() - now() < TimeDelta::seconds(1));
        clock.advance(TimeDelta::hours(25));
        // `now()` is read after the clock, so it may be a tick later.
        let ahead = clock.now() - now();
        let off = (ahead - TimeDelta::hours(25)).abs();
        assert!(off < TimeDelta::seconds(1), "{ahead}");
    }
}
