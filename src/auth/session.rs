//! The browser session (an encrypted, signed cookie): who is signed in, the CSRF token, one-shot
//! flash messages and the pending one-time reveal. Mechanisms only, with their own error type:
//! the extractor that turns a session into a signed-in user (or a redirect) is
//! `web::current_user`. May import `domain` and actix-session, never `web`, `api` or `app`.

use actix_session::Session;
use serde::{Deserialize, Serialize};

use super::csrf;
use crate::domain::UserId;
use crate::domain::token::PlainToken;

const USER_ID: &str = "uid";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
const REVEAL: &str = "reveal";
/// Set by the reveal page, cleared by the next signed-in request: that change of cookie is what
/// keeps Chromium from restoring the reveal page from its back/forward cache on Back, even with
/// JavaScript off (`Cache-Control: no-store` alone does not).
const REVEALED: &str = "revealed";

/// The session cookie could not take a value: the request cannot go on safely.
#[derive(Debug, thiserror::Error)]
#[error("session: {0}")]
pub struct SessionError(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    Success,
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF) {
        return token;
    }
    let token = csrf::generate();
    // A failed insert only means the next form is refused with a clear 403, so it is not fatal.
    let _ = session.insert(CSRF, &token);
    token
}

pub fn csrf_matches(session: &Session, presented: &str) -> bool {
    let expected = session.get::<String>(CSRF).ok().flatten();
    csrf::matches(expected.as_deref(), presented)
}

/// Starts a fresh session for `user`: old contents dropped, new cookie, new CSRF token.
pub fn sign_in(session: &Session, user: &UserId) -> Result<(), SessionError> {
    session.clear();
    session.renew();
    session
        .insert(USER_ID, user.as_str())
        .and_then(|()| session.insert(CSRF, csrf::generate()))
        .map_err(|e| SessionError(e.to_string()))
}

/// The user this session was signed in as, if any. Whether that user may still act is the
/// caller's question (they may have been deactivated since).
pub fn signed_in_user(session: &Session) -> Option<UserId> {
    session
        .get::<String>(USER_ID)
        .ok()
        .flatten()
        .map(UserId::from_trusted)
}

/// Called on every signed-in request after the one that revealed a token: the cookie changes,
/// so the browser drops the reveal page from its back/forward cache.
pub fn forget_reveal_marker(session: &Session) {
    if session.contains_key(REVEALED) {
        session.remove(REVEALED);
    }
}

pub fn sign_out(session: &Session) {
    session.purge();
}

pub fn push_flash(session: &Session, kind: FlashKind, message: impl Into<String>) {
    let mut flashes: Vec<Flash> = session.get(FLASH).ok().flatten().unwrap_or_default();
    flashes.push(Flash {
        kind,
        message: message.into(),
    });
    let _ = session.insert(FLASH, flashes);
}

pub fn take_flashes(session: &Session) -> Vec<Flash> {
    // Removing an absent key still counts as a change and would re-send the cookie on every
    // page, so look first.
    match session.get::<Vec<Flash>>(FLASH) {
        Ok(Some(flashes)) => {
            session.remove(FLASH);
            flashes
        }
        _ => Vec::new(),
    }
}

/// A new token waiting for its one reveal. The session cookie is encrypted (AES-GCM), and the
/// entry is removed by the reveal page that shows it, so the clear token lives only until then.
#[derive(Serialize, Deserialize)]
struct PendingReveal {
    name: String,
    token: String,
}

pub struct Reveal {
    pub name: String,
    pub token: secrecy::SecretString,
}

pub fn stash_reveal(session: &Session, name: &str, token: &PlainToken) -> Result<(), SessionError> {
    session
        .insert(
            REVEAL,
            PendingReveal {
                name: name.to_owned(),
                token: token.expose().to_owned(),
            },
        )
        .map_err(|e| SessionError(e.to_string()))
}

/// Hands out the pending token once; every later call finds nothing.
pub fn take_reveal(session: &Session) -> Option<Reveal> {
    if !session.contains_key(REVEAL) {
        return None;
    }
    let pending = session.remove_as::<PendingReveal>(REVEAL)?.ok()?;
    let _ = session.insert(REVEALED, true);
    Some(Reveal {
        name: pending.name,
        token: secrecy::SecretString::from(pending.token),
    })
}
