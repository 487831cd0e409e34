//! Deleting a token: a confirmation that asks to type `delete`, then a soft delete.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::CurrentUser;
use super::forms::{self, CsrfForm};
use super::layout::{self, Layout};
use super::token_view::TokenView;
use super::{WebError, path_id, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::TokenId;
use crate::domain::tokens::{Refusal, TokenRecord, Visibility};
use crate::state::AppState;
use crate::store::tokens;

/// The word a user types to confirm, as GitHub and Gcore ask for a typed confirmation.
pub const CONFIRM_WORD: &str = "delete";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeleteForm {
    confirm: String,
}

#[derive(Template)]
#[template(path = "tokens/delete.html")]
struct DeletePage {
    layout: Layout,
    token: TokenView,
    confirm: String,
    error: Option<String>,
}

pub async fn find_visible(
    state: &AppState,
    current: &CurrentUser,
    id: TokenId,
) -> Result<TokenRecord, WebError> {
    let visibility = Visibility::of(&current.user);
    state
        .store
        .run(move |conn| tokens::find_token(conn, &visibility, &id))
        .await?
        .ok_or(WebError::NotFound)
}

pub async fn delete_token_form(
    state: Data<AppState>,
    current: CurrentUser,
    id: Option<Path<TokenId>>,
) -> Result<HttpResponse, WebError> {
    let token = find_visible(&state, &current, path_id(id)?).await?;
    let layout = layout::signed_in_page(&state, &current, "Delete token").await?;
    forms::ok(&DeletePage {
        layout,
        token: TokenView::new(&token, state.now()),
        confirm: String::new(),
        error: None,
    })
}

pub async fn delete_token(
    req: HttpRequest,
    state: Data<AppState>,
    current: CurrentUser,
    id: Option<Path<TokenId>>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(id)?;
    if form.confirm.trim() != CONFIRM_WORD {
        let token = find_visible(&state, &current, id).await?;
        let layout = layout::signed_in_page(&state, &current, "Delete token").await?;
        return forms::render(
            StatusCode::BAD_REQUEST,
            &DeletePage {
                layout,
                token: TokenView::new(&token, state.now()),
                error: Some(format!(
                    "Type “{CONFIRM_WORD}” to confirm. The token was not deleted."
                )),
                confirm: form.confirm,
            },
        );
    }
    let (actor, ip, now) = (current.user.clone(), client_ip(&req), state.now());
    let outcome = state
        .store
        .run(move |conn| tokens::delete_token(conn, &actor, &id, now, Some(&ip)))
        .await?;
    let (kind, message) = match outcome {
        Ok(token) => (FlashKind::Success, format!("Token {} deleted.", token.name)),
        Err(Refusal::NotFound) => return Err(WebError::NotFound),
        Err(refusal) => (FlashKind::Error, refusal.message()),
    };
    session::push_flash(&current.session, kind, message);
    Ok(see_other("/tokens"))
}
