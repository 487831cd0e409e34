//! "Whose token is this?": an administrator pastes a token found in a log or a chat and sees,
//! from its digest alone, which of the account's tokens it is, with a button to revoke it. The
//! pasted text is hashed at once and never logged, stored or put in a URL; a token of another
//! account and no token at all get the same answer.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Data;
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::admin_gate::AdminUser;
use super::forms::{self, CsrfForm};
use super::layout::{self, Layout};
use super::token_delete::CONFIRM_WORD;
use super::token_view::TokenView;
use super::{CurrentUser, WebError};
use crate::domain::secret::{self, TokenDigest};
use crate::domain::tokens::Visibility;
use crate::state::AppState;
use crate::store::tokens;

#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(default = "empty_secret")]
    token: SecretString,
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

/// What the page says after a lookup.
enum Answer {
    Found(Box<TokenView>),
    NotOurs,
}

#[derive(Template)]
#[template(path = "tokens/lookup.html")]
struct LookupPage {
    layout: Layout,
    answer: Option<Answer>,
    confirm_word: &'static str,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    status: StatusCode,
    answer: Option<Answer>,
) -> Result<HttpResponse, WebError> {
    let layout = layout::signed_in_page(state, current, "Whose token is this?")
        .await?
        .in_section("lookup");
    forms::render(
        status,
        &LookupPage {
            layout,
            answer,
            confirm_word: CONFIRM_WORD,
        },
    )
}

pub async fn lookup_form(
    state: Data<AppState>,
    AdminUser(current): AdminUser,
) -> Result<HttpResponse, WebError> {
    page(&state, &current, StatusCode::OK, None).await
}

pub async fn look_up_token(
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    CsrfForm(form): CsrfForm<LookupForm>,
) -> Result<HttpResponse, WebError> {
    let pasted = form.token.expose_secret().trim();
    // Not shaped like our tokens (or mistyped): no query, the same answer as a stranger's token.
    let Ok(()) = secret::check_format(pasted) else {
        return page(&state, &current, StatusCode::OK, Some(Answer::NotOurs)).await;
    };
    let digest = TokenDigest::of(pasted);
    let visibility = Visibility::Account(current.user.account_id.clone());
    let found = state
        .store
        .run(move |conn| tokens::find_token_by_digest(conn, &visibility, &digest))
        .await?;
    let answer = match found {
        Some(token) => Answer::Found(Box::new(TokenView::new(&token, state.now()))),
        None => Answer::NotOurs,
    };
    page(&state, &current, StatusCode::OK, Some(answer)).await
}
