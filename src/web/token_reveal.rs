//! The one-time reveal: the new token is shown by exactly one response, then never again.

use actix_web::HttpResponse;
use actix_web::web::Data;
use askama::Template;
use secrecy::ExposeSecret;

use super::CurrentUser;
use super::forms::{self, CsrfForm, EmptyForm};
use super::layout::{self, Layout};
use super::{WebError, see_other};
use crate::auth::session::{self, FlashKind};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "tokens/reveal.html")]
struct RevealPage {
    layout: Layout,
    /// `None` once the token has been shown: a reload or Back lands here.
    reveal: Option<(String, String)>,
}

pub async fn reveal_token(
    state: Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let reveal = session::take_reveal(&current.session)
        .map(|reveal| (reveal.name, reveal.token.expose_secret().to_owned()));
    let layout = layout::signed_in_page(&state, &current, "Your new personal token").await?;
    // `render` marks the page no-store, so no cache keeps the one copy either.
    forms::ok(&RevealPage { layout, reveal })
}

/// "OK, I've copied it": back to the list. Being a POST, it also changes the session cookie,
/// which keeps Chromium from restoring the reveal page from its back/forward cache.
pub async fn acknowledge_reveal(
    current: CurrentUser,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    session::take_reveal(&current.session);
    session::push_flash(
        &current.session,
        FlashKind::Success,
        "Your new token is ready to use. It will not be shown again.",
    );
    Ok(see_other("/tokens"))
}
