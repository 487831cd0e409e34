//! Changing your own password: the current one first; every other session ends, this one stays.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::forms::{self, CsrfForm, FieldErrors};
use super::layout::{self, Layout};
use super::{CurrentUser, WebError, see_other};
use crate::auth::session::{self, FlashKind};
use crate::auth::{client_ip, password};
use crate::domain::users::PASSWORD_MAX;
use crate::domain::{DomainError, NewPassword};
use crate::state::AppState;
use crate::store::users;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_confirm: String,
}

#[derive(Template)]
#[template(path = "settings/password.html")]
struct PasswordPage {
    layout: Layout,
    errors: FieldErrors,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let layout = layout::signed_in_page(state, current, "Change password")
        .await?
        .in_section("settings");
    forms::render(status, &PasswordPage { layout, errors })
}

pub async fn password_form(
    state: Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, WebError> {
    page(&state, &current, StatusCode::OK, FieldErrors::default()).await
}

/// `NewPassword` names its fields as setup does; this form calls them `new_password*`.
fn renamed(error: DomainError) -> DomainError {
    let field = match error.field {
        "password_confirm" => "new_password_confirm",
        _ => "new_password",
    };
    DomainError { field, ..error }
}

pub async fn change_password(
    req: HttpRequest,
    state: Data<AppState>,
    current: CurrentUser,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let mut errors = FieldErrors::default();
    if form.current_password.is_empty() {
        errors.push(DomainError::new(
            "current_password",
            "Enter your current password.",
        ));
    }
    let new = errors.check(
        NewPassword::parse(&form.new_password, Some(&form.new_password_confirm)).map_err(renamed),
    );
    let (Some(new), true) = (new, errors.is_empty()) else {
        return page(&state, &current, StatusCode::BAD_REQUEST, errors).await;
    };

    let id = current.user.id.clone();
    let stored = state
        .store
        .run(move |conn| users::find_password_hash(conn, &id))
        .await?
        .ok_or(WebError::SignInRequired)?;
    // Argon2 over a megabyte is work for nothing: such a "current password" cannot be right.
    let typed = form.current_password;
    let hashed = web::block(move || {
        let verified =
            typed.chars().count() <= PASSWORD_MAX && password::verify(&typed, Some(&stored));
        verified.then(|| password::hash(new.expose()))
    })
    .await?;
    let Some(hash) = hashed else {
        errors.push(DomainError::new(
            "current_password",
            "That is not your current password. Nothing was changed.",
        ));
        return page(&state, &current, StatusCode::BAD_REQUEST, errors).await;
    };
    let hash = hash?;
    let (user, ip, now) = (current.user.clone(), client_ip(&req), state.now());
    let epoch = state
        .store
        .run(move |conn| users::change_password(conn, &user, &hash, &ip, now))
        .await?;
    session::follow_epoch(&current.session, epoch)?;
    session::push_flash(
        &current.session,
        FlashKind::Success,
        "Password changed. You were signed out everywhere else.",
    );
    Ok(see_other("/settings"))
}
