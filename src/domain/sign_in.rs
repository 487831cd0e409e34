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

/// How the audit log marks a sign-in through the identity provider. Such failures are not
/// password guesses, so the throttle leaves them out: a deactivated person retrying SSO from a
/// shared address must not lock everyone there out of password sign-in.
pub const THROUGH_SSO: &str = "through SSO";

/// Who may sign in with a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passwords {
    Everyone,
    /// `OIDC_ONLY`: everyone else signs in through the identity provider; an administrator's
    /// password is the way back in when the provider is down.
    AdministratorsOnly,
}

/// A checked attempt: who signed in, if anyone, and whose log it belongs to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub signed_in: Option<User>,
    /// A failure against a known username belongs to that account's log; an unknown one to none.
    pub account_id: Option<AccountId>,
    /// The right password of someone whose password sign-in is off: refused like a wrong one
    /// (so the answer confirms no password), and said so in the audit log.
    pub refused_by_policy: bool,
}

impl Attempt {
    /// `known` is the user the username names, if any; `verified` whether the password matched.
    /// A deactivated person, a service account (which never signs in), and a non-administrator
    /// where `passwords` is for administrators only, are refused like a wrong password.
    pub fn decide(known: Option<User>, verified: bool, passwords: Passwords) -> Self {
        let account_id = known.as_ref().map(|u| u.account_id.clone());
        let may_sign_in = known
            .filter(|user| verified && user.active && user.kind == super::users::UserKind::Person);
        let allowed =
            |user: &User| passwords == Passwords::Everyone || user.role == super::Role::Admin;
        let refused_by_policy = may_sign_in.as_ref().is_some_and(|user| !allowed(user));
        Self {
            signed_in: may_sign_in.filter(allowed),
            account_id,
            refused_by_policy,
        }
    }

    pub fn kind(&self) -> AuditKind {
        if self.signed_in.is_some() {
            AuditKind::LoginSucceeded
        } else {
            AuditKind::LoginFailed
        }
    }

    /// What the audit entry adds.
    pub fn detail(&self) -> &'static str {
        if self.refused_by_policy {
            "right password, but password sign-in is for administrators only (OIDC_ONLY)"
        } else {
            ""
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    #[test]
    fn the_fifth_failure_for_a_username_closes_the_door() {
        assert!(!is_throttled(MAX_FAILURES_PER_USERNAME - 1, 0));
        assert!(is_throttled(MAX_FAILURES_PER_USERNAME, 0));
    }

    #[test]
    fn with_passwords_for_administrators_only_everyone_else_is_refused_as_if_wrong() {
        let person = User::sample;
        let admin = Attempt::decide(
            Some(person(Role::Admin)),
            true,
            Passwords::AdministratorsOnly,
        );
        assert!(admin.signed_in.is_some() && !admin.refused_by_policy);
        let engineer = Attempt::decide(
            Some(person(Role::Engineer)),
            true,
            Passwords::AdministratorsOnly,
        );
        assert!(engineer.signed_in.is_none() && engineer.refused_by_policy);
        assert_eq!(engineer.kind(), AuditKind::LoginFailed);
        assert!(engineer.detail().contains("administrators only"));
        let wrong = Attempt::decide(
            Some(person(Role::Engineer)),
            false,
            Passwords::AdministratorsOnly,
        );
        assert!(wrong.signed_in.is_none() && !wrong.refused_by_policy);
        assert_eq!(wrong.detail(), "");
        let everyone = Attempt::decide(Some(person(Role::ReadOnly)), true, Passwords::Everyone);
        assert!(everyone.signed_in.is_some());
    }

    #[test]
    fn many_usernames_from_one_address_are_throttled_too() {
        assert!(is_throttled(0, MAX_FAILURES_PER_ADDRESS));
    }
}
