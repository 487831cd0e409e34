//! First-run setup: creates the account and its first administrator, then signs them in.
//! Gone (404) once any user exists.

use actix_session::Session;
use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use askama::Template;
use serde::Deserialize;

use super::forms::{self, CsrfForm, FieldErrors};
use super::layout::Layout;
use super::{WebError, see_other};
use crate::auth::client_ip;
use crate::auth::password;
use crate::auth::session::{self, FlashKind};
use crate::domain::Role;
use crate::domain::users::{NewUser, NewUserInput};
use crate::state::AppState;
use crate::store::users;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SetupForm {
    account: String,
    username: String,
    display_name: String,
    password: String,
    password_confirm: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    account: String,
    username: String,
    display_name: String,
    errors: FieldErrors,
}

pub async fn setup_form(state: Data<AppState>, session: Session) -> Result<HttpResponse, WebError> {
    if state.setup_is_done().await? {
        return Err(WebError::NotFound);
    }
    forms::ok(&SetupPage {
        layout: Layout::anonymous(&session, "Set up Personal Tokens"),
        account: String::new(),
        username: String::new(),
        display_name: String::new(),
        errors: FieldErrors::default(),
    })
}

pub async fn create_first_admin(
    req: HttpRequest,
    state: Data<AppState>,
    session: Session,
    form: Result<CsrfForm<SetupForm>, WebError>,
) -> Result<HttpResponse, WebError> {
    // Gone once done (§1), whatever was sent: a caller who could not GET the form has no CSRF
    // token to send, and should hear 404, not 403.
    if state.setup_is_done().await? {
        return Err(WebError::NotFound);
    }
    let CsrfForm(form) = form?;
    let parsed = NewUser::parse(&NewUserInput {
        account: &form.account,
        username: &form.username,
        display_name: &form.display_name,
        display_name_required: true,
        email: "",
        role: Role::Admin.as_str(),
        password: &form.password,
        password_confirm: Some(&form.password_confirm),
        blank_password_is_generated: false,
        kind: "",
    });
    let new = match parsed {
        Ok(new) => new,
        Err(found) => {
            let errors = FieldErrors::from(found);
            // Passwords are never sent back; everything else is, so nothing typed is lost.
            return forms::render(
                StatusCode::BAD_REQUEST,
                &SetupPage {
                    layout: Layout::anonymous(&session, "Set up Personal Tokens"),
                    account: form.account,
                    username: form.username,
                    display_name: form.display_name,
                    errors,
                },
            );
        }
    };
    let (new, hash) = web::block(move || {
        let hash = password::hash(new.password_text());
        (new, hash)
    })
    .await?;
    let (hash, now, ip) = (hash?, state.now(), client_ip(&req));
    let created = state
        .store
        .run(move |conn| users::create_first_admin(conn, &new, &hash, &ip, now))
        .await?;
    let Some(user) = created else {
        return Err(WebError::NotFound);
    };
    state.mark_setup_done();
    super::login::begin_session(&state, &session, &user).await?;
    session::push_flash(
        &session,
        FlashKind::Success,
        format!(
            "Welcome, {}. Your account {} is ready.",
            user.display_name, user.account_name
        ),
    );
    Ok(see_other("/tokens"))
}
