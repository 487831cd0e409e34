//! Sign-in and sign-out. A failure says only "invalid username or password" and is throttled.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::forms::{self, CsrfForm, EmptyForm};
use super::layout::Layout;
use super::{WebError, see_other};
use crate::auth::session;
use crate::auth::{client_ip, password};
use crate::domain::audit::AuditKind;
use crate::domain::{Username, sign_in as rules, time};
use crate::state::AppState;
use crate::store::audit::{self, AuditEvent};
use crate::store::users;

const INVALID: &str = "Invalid username or password.";
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
}

fn login_page(
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
        },
    )
}

pub async fn login_form(session: Session) -> Result<HttpResponse, WebError> {
    login_page(&session, StatusCode::OK, String::new(), None)
}

enum Outcome {
    Throttled,
    Checked(Option<users::UserWithHash>),
}

pub async fn sign_in(
    req: HttpRequest,
    state: Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, WebError> {
    if form.username.trim().is_empty() || form.password.is_empty() {
        return login_page(
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
            &session,
            StatusCode::UNAUTHORIZED,
            form.username,
            Some(INVALID),
        );
    };
    let username = username.as_str().to_owned();
    let ip = client_ip(&req);

    let outcome = {
        let (username, ip) = (username.clone(), ip.clone());
        state
            .store
            .run(move |conn| {
                let since = rules::window_start(time::now());
                let (by_user, by_ip) = audit::recent_login_failures(conn, &username, &ip, since)?;
                if rules::is_throttled(by_user, by_ip) {
                    return Ok(Outcome::Throttled);
                }
                users::find_user_by_username(conn, &username).map(Outcome::Checked)
            })
            .await?
    };
    let found = match outcome {
        Outcome::Throttled => {
            return login_page(
                &session,
                StatusCode::TOO_MANY_REQUESTS,
                form.username,
                Some(THROTTLED),
            );
        }
        Outcome::Checked(found) => found,
    };

    let password_typed = form.password;
    let (found, verified) = web::block(move || {
        let verified = password::verify(
            &password_typed,
            found.as_ref().map(|f| f.password_hash.as_str()),
        );
        (found, verified)
    })
    .await?;
    let known = found.map(|f| f.user);
    // A failure against a known username belongs to that account's log; an unknown one to none.
    let account_id = known.as_ref().map(|u| u.account_id.clone());
    let user = known.filter(|user| verified && user.active);

    let event_user = user.clone();
    let (event_username, event_ip) = (username.clone(), ip.clone());
    state
        .store
        .run(move |conn| {
            audit::record(
                conn,
                AuditEvent {
                    account_id: account_id.as_ref().map(|id| id.as_str()),
                    actor_id: event_user.as_ref().map(|u| u.id.as_str()),
                    kind: if event_user.is_some() {
                        AuditKind::LoginSucceeded
                    } else {
                        AuditKind::LoginFailed
                    },
                    subject: &event_username,
                    ip: Some(&event_ip),
                    detail: "",
                },
            )
        })
        .await?;

    let Some(user) = user else {
        return login_page(
            &session,
            StatusCode::UNAUTHORIZED,
            form.username,
            Some(INVALID),
        );
    };
    session::sign_in(&session, &user.id, user.session_epoch)?;
    Ok(see_other("/tokens"))
}

pub async fn sign_out(
    session: Session,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    session::sign_out(&session);
    Ok(see_other("/login"))
}
