//! When sign-in stops listening: failures are counted per username and per client address over a
//! sliding window, so guessing one password or spraying many users both slow to a crawl.

use chrono::{NaiveDateTime, TimeDelta};

use super::audit::AuditKind;
use super::{AccountId, User};

pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_USERNAME: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;

/// A session lasts at most this long after sign-in, however active (OWASP ASVS V3.3.2's
/// absolute timeout): a cookie copied long ago stops working even if nobody signs out.
pub const SESSION_LIFETIME_DAYS: i64 = 30;

/// Sessions begun before this instant have ended.
pub fn sessions_begun_after(now: NaiveDateTime) -> NaiveDateTime {
    now - TimeDelta::days(SESSION_LIFETIME_DAYS)
}

/// Failures older than this instant no longer count.
pub fn window_start(now: NaiveDateTime) -> NaiveDateTime {
    now - TimeDelta::minutes(THROTTLE_WINDOW_MINUTES)
}

pub fn is_throttled(failures_for_username: i64, failures_from_address: i64) -> bool {
    failures_for_username >= MAX_FAILURES_PER_USERNAME
        || failures_from_address >= MAX_FAILURES_PER_ADDRESS
}

/// A checked attempt: who signed in, if anyone, and whose log it belongs to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub signed_in: Option<User>,
    /// A failure against a known username belongs to that account's log; an unknown one to none.
    pub account_id: Option<AccountId>,
}

impl Attempt {
    /// `known` is the user the username names, if any; `verified` whether the password matched.
    /// A deactivated person, and a service account (which never signs in), are refused like a
    /// wrong password.
    pub fn decide(known: Option<User>, verified: bool) -> Self {
        let account_id = known.as_ref().map(|u| u.account_id.clone());
        Self {
            signed_in: known.filter(|user| {
                verified && user.active && user.kind == super::users::UserKind::Person
            }),
            account_id,
        }
    }

    pub fn kind(&self) -> AuditKind {
        if self.signed_in.is_some() {
            AuditKind::LoginSucceeded
        } else {
            AuditKind::LoginFailed
        }
    }
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
