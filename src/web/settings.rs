//! Your own settings: the e-mail address for notices and whether notices are e-mailed at all.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Data;
use askama::Template;
use serde::Deserialize;

use super::forms::{self, CsrfForm, FieldErrors};
use super::layout::{self, Layout};
use super::{CurrentUser, WebError, see_other};
use crate::auth::session::{self, FlashKind};
use crate::domain::Email;
use crate::state::AppState;
use crate::store::users;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    email: String,
    /// `on` when the box is ticked; absent when it is not (HTML sends nothing for it).
    email_notices: Option<String>,
}

#[derive(Template)]
#[template(path = "settings/settings.html")]
struct SettingsPage {
    layout: Layout,
    email: String,
    email_notices: bool,
    errors: FieldErrors,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    status: StatusCode,
    email: String,
    email_notices: bool,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let layout = layout::signed_in_page(state, current, "Settings")
        .await?
        .in_section("settings");
    forms::render(
        status,
        &SettingsPage {
            layout,
            email,
            email_notices,
            errors,
        },
    )
}

pub async fn settings_form(
    state: Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let email = current.user.email.clone().unwrap_or_default();
    let notices = current.user.email_notices;
    page(
        &state,
        &current,
        StatusCode::OK,
        email,
        notices,
        FieldErrors::default(),
    )
    .await
}

pub async fn save_settings(
    state: Data<AppState>,
    current: CurrentUser,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let notices = form.email_notices.is_some();
    let mut errors = FieldErrors::default();
    let Some(email) = errors.check(Email::parse_optional(&form.email)) else {
        return page(
            &state,
            &current,
            StatusCode::BAD_REQUEST,
            form.email,
            notices,
            errors,
        )
        .await;
    };
    let id = current.user.id.clone();
    state
        .store
        .run(move |conn| users::update_settings(conn, &id, email.as_ref(), notices))
        .await?;
    session::push_flash(&current.session, FlashKind::Success, "Settings saved.");
    Ok(see_other("/settings"))
}
