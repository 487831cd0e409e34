//! The browser session (an encrypted, signed cookie): who is signed in, the CSRF token, one-shot
//! flash messages and the pending one-time reveal. Mechanisms only, with their own error type:
//! the extractor that turns a session into a signed-in user (or a redirect) is
//! `web::current_user`. May import `domain` and actix-session, never `web`, `api` or `app`.

use actix_session::Session;
use serde::{Deserialize, Serialize};

use super::csrf;
use crate::domain::UserId;
use crate::domain::secret::PlainToken;

const USER_ID: &str = "uid";
/// The id of the session's row in the store: a page is served only while that row is live.
const SESSION_ID: &str = "sid";
/// The user's session epoch at sign-in; a session from an older epoch has been ended.
const EPOCH: &str = "epoch";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
const REVEAL: &str = "reveal";
const PASSWORD_REVEAL: &str = "reveal_password";
/// Set by the reveal page, cleared by the next signed-in request: that change of cookie is what
/// keeps Chromium from restoring the reveal page from its back/forward cache on Back, even with
/// JavaScript off (`Cache-Control: no-store` alone does not).
const REVEALED: &str = "revealed";

/// The session cookie could not take a value: the request cannot go on safely.
#[derive(Debug, thiserror::Error)]
#[error("the session cookie could not take a value")]
pub struct SessionError(#[source] actix_session::SessionInsertError);

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

/// Starts a fresh session for `user` at their current session `epoch`, as the store's session
/// `id`: old contents dropped, new cookie, new CSRF token.
pub fn sign_in(session: &Session, user: &UserId, epoch: i32, id: &str) -> Result<(), SessionError> {
    session.clear();
    session.renew();
    session
        .insert(USER_ID, user.as_str())
        .and_then(|()| session.insert(SESSION_ID, id))
        .and_then(|()| session.insert(EPOCH, epoch))
        .and_then(|()| session.insert(CSRF, csrf::generate()))
        .map_err(SessionError)
}

/// Who a session was signed in as, at which session epoch, in which stored session.
pub struct SignedIn {
    pub user: UserId,
    pub epoch: i32,
    pub id: String,
}

/// The sign-in this session carries. Whether that user may still act, and whether the stored
/// session is still live, are the caller's questions. A cookie from before stored sessions
/// existed names none, and counts as signed out.
pub fn signed_in_user(session: &Session) -> Option<SignedIn> {
    let user = session.get::<String>(USER_ID).ok().flatten()?;
    let id = session.get::<String>(SESSION_ID).ok().flatten()?;
    let epoch = session.get::<i32>(EPOCH).ok().flatten().unwrap_or(0);
    Some(SignedIn {
        user: UserId::from_trusted(user),
        epoch,
        id,
    })
}

/// The stored session this cookie names, for signing out.
pub fn session_id(session: &Session) -> Option<String> {
    session.get::<String>(SESSION_ID).ok().flatten()
}

/// Keeps this session signed in after its user's epoch moved on (they changed their password
/// here: every other session ends, this one stays).
pub fn follow_epoch(session: &Session, epoch: i32) -> Result<(), SessionError> {
    session.insert(EPOCH, epoch).map_err(SessionError)
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

/// A new secret waiting for its one reveal: a token, or a generated initial password. The session
/// cookie is encrypted (AES-GCM), and the entry is removed by the page that shows it, so the clear
/// secret lives only until then.
#[derive(Serialize, Deserialize)]
struct PendingReveal {
    name: String,
    token: String,
}

pub struct Reveal {
    pub name: String,
    pub token: secrecy::SecretString,
}

fn stash(session: &Session, key: &str, name: &str, secret: &str) -> Result<(), SessionError> {
    let pending = PendingReveal {
        name: name.to_owned(),
        token: secret.to_owned(),
    };
    session.insert(key, pending).map_err(SessionError)
}

fn take(session: &Session, key: &str) -> Option<Reveal> {
    if !session.contains_key(key) {
        return None;
    }
    let pending = session.remove_as::<PendingReveal>(key)?.ok()?;
    let _ = session.insert(REVEALED, true);
    Some(Reveal {
        name: pending.name,
        token: secrecy::SecretString::from(pending.token),
    })
}

pub fn stash_reveal(session: &Session, name: &str, token: &PlainToken) -> Result<(), SessionError> {
    stash(session, REVEAL, name, token.expose())
}

/// Hands out the pending token once; every later call finds nothing.
pub fn take_reveal(session: &Session) -> Option<Reveal> {
    take(session, REVEAL)
}

/// A generated initial password, for the next page about that user to show once.
pub fn stash_password_reveal(
    session: &Session,
    user: &UserId,
    password: &str,
) -> Result<(), SessionError> {
    stash(session, PASSWORD_REVEAL, user.as_str(), password)
}

/// The generated password of `user`, once; a stash for another user stays where it is.
pub fn take_password_reveal(session: &Session, user: &UserId) -> Option<secrecy::SecretString> {
    let for_user = session
        .get::<PendingReveal>(PASSWORD_REVEAL)
        .ok()
        .flatten()
        .is_some_and(|pending| pending.name == user.as_str());
    if !for_user {
        return None;
    }
    take(session, PASSWORD_REVEAL).map(|reveal| reveal.token)
}

const SSO_PENDING: &str = "sso";

/// What a sign-in through the provider keeps until the person comes back.
pub fn stash_sso(session: &Session, pending: &super::oidc::Pending) -> Result<(), SessionError> {
    session.insert(SSO_PENDING, pending).map_err(SessionError)
}

/// The pending SSO sign-in, once: a second callback (a replayed code) finds nothing.
pub fn take_sso(session: &Session) -> Option<super::oidc::Pending> {
    session
        .remove_as::<super::oidc::Pending>(SSO_PENDING)
        .and_then(Result::ok)
}
