//! When sign-in stops listening: failures are counted per username and per client address over a
//! sliding window, so guessing one password or spraying many users both slow to a crawl.

use chrono::{NaiveDateTime, TimeDelta};

pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_USERNAME: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;

/// Failures older than this instant no longer count.
pub fn window_start(now: NaiveDateTime) -> NaiveDateTime {
    now - TimeDelta::minutes(THROTTLE_WINDOW_MINUTES)
}

pub fn is_throttled(failures_for_username: i64, failures_from_address: i64) -> bool {
    failures_for_username >= MAX_FAILURES_PER_USERNAME
        || failures_from_address >= MAX_FAILURES_PER_ADDRESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_for_a_username_closes_the_door() {
        assert!(!is_throttled(MAX_FAILURES_PER_USERNAME - 1, 0));
        assert!(is_throttled(MAX_FAILURES_PER_USERNAME, 0));
    }

    #[test]
    fn many_usernames_from_one_address_are_throttled_too() {
        assert!(is_throttled(0, MAX_FAILURES_PER_ADDRESS));
    }
}
