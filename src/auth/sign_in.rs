//! A sign-in attempt, whole: the throttle read from the audit log (so every instance sees the
//! same failures), the password checked with argon2 off the async workers, and the attempt
//! recorded. The rules are `domain::sign_in`'s; the page only parses the form and renders.

use chrono::NaiveDateTime;
use secrecy::{ExposeSecret, SecretString};

use super::password;
use crate::domain::sign_in::{self as rules, Attempt, Passwords};
use crate::domain::{User, Username};
use crate::store::audit::{self, AuditEvent};
use crate::store::{Store, StoreError, users};

/// How an attempt ended.
pub enum SignIn {
    SignedIn(User),
    /// Too many recent failures for this username or address: nothing was checked.
    Throttled,
    /// Unknown username, wrong password, or a deactivated person: all look alike.
    Refused,
}

/// Tries `password` for `username`, from `ip`, at `now`.
pub async fn attempt(
    store: &Store,
    username: Username,
    password: SecretString,
    ip: String,
    passwords: Passwords,
    now: NaiveDateTime,
) -> Result<SignIn, StoreError> {
    let found = {
        let (username, ip) = (username.clone(), ip.clone());
        store
            .run(move |conn| {
                let since = rules::window_start(now);
                let failures = audit::recent_login_failures(conn, username.as_str(), &ip, since)?;
                if rules::is_throttled(failures.0, failures.1) {
                    return Ok(None);
                }
                users::find_user_by_username(conn, username.as_str()).map(Some)
            })
            .await?
    };
    let Some(found) = found else {
        return Ok(SignIn::Throttled);
    };
    let (found, verified) = tokio::task::spawn_blocking(move || {
        let hash = found.as_ref().map(|f| f.password_hash.as_str());
        let verified = password::verify(password.expose_secret(), hash);
        (found, verified)
    })
    .await?;
    let attempt = Attempt::decide(found.map(|f| f.user), verified, passwords);
    let recorded = attempt.clone();
    store
        .run(move |conn| {
            audit::record(
                conn,
                AuditEvent {
                    account_id: recorded.account_id.as_ref().map(|id| id.as_str()),
                    actor_id: recorded.signed_in.as_ref().map(|u| u.id.as_str()),
                    kind: recorded.kind(),
                    subject: username.as_str(),
                    ip: Some(&ip),
                    detail: recorded.detail(),
                    at: now,
                },
            )
        })
        .await?;
    Ok(match attempt.signed_in {
        Some(user) => SignIn::SignedIn(user),
        None => SignIn::Refused,
    })
}
