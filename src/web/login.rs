//! Sign-in and sign-out. A failure says only "invalid username or password" and is throttled.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::forms::{self, CsrfForm, EmptyForm};
use super::layout::Layout;
use super::{WebError, see_other};
use secrecy::SecretString;

use crate::auth::client_ip;
use crate::auth::session;
use crate::auth::sign_in::{self, SignIn};
use crate::domain::Username;
use crate::domain::sign_in::Passwords;
use crate::state::AppState;
use crate::store::sessions;

const INVALID: &str = "Invalid username or password.";
/// With `OIDC_ONLY`, every refused password gets this, whatever the reason: a right password
/// of someone who must use SSO is not told apart from a wrong one.
const INVALID_SSO_ONLY: &str = "Invalid username or password. Password sign-in here is for \
                                administrators only: everyone else, use “Sign in with SSO”.";
const THROTTLED: &str = "Too many failed sign-in attempts. Wait 15 minutes and try again.";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    error: Option<&'static str>,
    /// "Sign in with SSO" is offered.
    sso: bool,
    /// `OIDC_ONLY`: passwords are for administrators only, which the page says up front.
    sso_only: bool,
}

fn login_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    username: String,
    error: Option<&'static str>,
) -> Result<HttpResponse, WebError> {
    forms::render(
        status,
        &LoginPage {
            layout: Layout::anonymous(session, "Sign in"),
            username,
            error,
            sso: state.sso.is_some(),
            sso_only: state.sso.as_ref().is_some_and(|sso| sso.only),
        },
    )
}

pub async fn login_form(state: Data<AppState>, session: Session) -> Result<HttpResponse, WebError> {
    login_page(&state, &session, StatusCode::OK, String::new(), None)
}

pub async fn sign_in(
    req: HttpRequest,
    state: Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, WebError> {
    if form.username.trim().is_empty() || form.password.is_empty() {
        return login_page(
            &state,
            &session,
            StatusCode::BAD_REQUEST,
            form.username,
            Some("Enter your username and password."),
        );
    }
    // No account has a name that breaks the username rules (control characters, a megabyte of
    // text…), so such a name is simply wrong; it never reaches a query (Postgres text cannot
    // even hold NUL).
    let Ok(username) = Username::parse(&form.username) else {
        return login_page(
            &state,
            &session,
            StatusCode::UNAUTHORIZED,
            form.username,
            Some(INVALID),
        );
    };
    let password = SecretString::from(form.password);
    let sso_only = state.sso.as_ref().is_some_and(|sso| sso.only);
    let passwords = if sso_only {
        Passwords::AdministratorsOnly
    } else {
        Passwords::Everyone
    };
    let attempt = sign_in::attempt(
        &state.store,
        username,
        password,
        client_ip(&req),
        passwords,
        state.now(),
    );
    let status = match attempt.await? {
        SignIn::SignedIn(user) => {
            begin_session(&state, &session, &user).await?;
            return Ok(see_other("/tokens"));
        }
        SignIn::Throttled => (StatusCode::TOO_MANY_REQUESTS, THROTTLED),
        SignIn::Refused if sso_only => (StatusCode::UNAUTHORIZED, INVALID_SSO_ONLY),
        SignIn::Refused => (StatusCode::UNAUTHORIZED, INVALID),
    };
    login_page(&state, &session, status.0, form.username, Some(status.1))
}

/// A stored session for `user`, and the cookie that names it (sign-in and first-run setup).
pub async fn begin_session(
    state: &AppState,
    session: &Session,
    user: &crate::domain::User,
) -> Result<(), WebError> {
    let (id, now) = (user.id.clone(), state.now());
    let stored = state
        .store
        .run(move |conn| sessions::start(conn, &id, now))
        .await?;
    session::sign_in(session, &user.id, user.session_epoch, &stored)?;
    Ok(())
}

/// Ends the stored session, so the cookie stops working wherever it is (a copy included), then
/// clears this one.
pub async fn sign_out(
    state: Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    if let Some(id) = session::session_id(&session) {
        let now = state.now();
        state
            .store
            .run(move |conn| sessions::end(conn, &id, now))
            .await?;
    }
    session::sign_out(&session);
    Ok(see_other("/login"))
}
