//! The browser session (an encrypted, signed cookie): who is signed in, the CSRF token, and
//! one-shot flash messages. `CurrentUser` is the extractor every signed-in page takes.

use actix_session::{Session, SessionExt};
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use super::csrf;
use crate::app::AppState;
use crate::domain::token::PlainToken;
use crate::domain::{User, UserId};
use crate::store::users;
use crate::web::WebError;

const USER_ID: &str = "uid";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
const REVEAL: &str = "reveal";
/// Set by the reveal page, cleared by the next signed-in request: that change of cookie is what
/// keeps Chromium from restoring the reveal page from its back/forward cache on Back, even with
/// JavaScript off (`Cache-Control: no-store` alone does not).
const REVEALED: &str = "revealed";

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
pub fn sign_in(session: &Session, user: &UserId) -> Result<(), WebError> {
    session.clear();
    session.renew();
    session
        .insert(USER_ID, user.as_str())
        .and_then(|()| session.insert(CSRF, csrf::generate()))
        .map_err(|e| WebError::Internal(format!("session: {e}")))
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

pub fn stash_reveal(session: &Session, name: &str, token: &PlainToken) -> Result<(), WebError> {
    session
        .insert(
            REVEAL,
            PendingReveal {
                name: name.to_owned(),
                token: token.expose().to_owned(),
            },
        )
        .map_err(|e| WebError::Internal(format!("session: {e}")))
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

/// The signed-in, active user of this request. Anyone else is sent to the sign-in page.
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
}

impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| WebError::Internal("app state missing".into()))?;
            let Some(raw) = session.get::<String>(USER_ID).ok().flatten() else {
                return Err(WebError::SignInRequired);
            };
            let id = UserId::from_trusted(raw);
            let user = state
                .store
                .run(move |conn| users::find_user_by_id(conn, &id))
                .await?;
            match user {
                Some(user) if user.active => {
                    if session.contains_key(REVEALED) {
                        session.remove(REVEALED);
                    }
                    Ok(CurrentUser { user, session })
                }
                _ => {
                    session.purge();
                    Err(WebError::SignInRequired)
                }
            }
        })
    }
}
