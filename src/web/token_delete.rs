//! Deleting a token: a confirmation that asks to type `delete`, then a soft delete.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::CurrentUser;
use super::format::TokenView;
use super::forms::{self, CsrfForm};
use super::layout::{self, Layout};
use super::{WebError, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::lifecycle::{TokenRecord, Visibility};
use crate::domain::{TokenId, time};
use crate::state::AppState;
use crate::store::tokens::{self, DeleteOutcome};

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

/// A path id that is not even an id names nothing: 404, like any token one may not see.
pub fn token_id(raw: &str) -> Result<TokenId, WebError> {
    TokenId::parse(raw).ok_or(WebError::NotFound)
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
    path: Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = find_visible(&state, &current, token_id(&path)?).await?;
    let layout = layout::signed_in_page(&state, &current, "Delete token").await?;
    forms::ok(&DeletePage {
        layout,
        token: TokenView::new(&token, time::now()),
        confirm: String::new(),
        error: None,
    })
}

pub async fn delete_token(
    req: HttpRequest,
    state: Data<AppState>,
    current: CurrentUser,
    path: Path<String>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<HttpResponse, WebError> {
    let id = token_id(&path)?;
    if form.confirm.trim() != CONFIRM_WORD {
        let token = find_visible(&state, &current, id).await?;
        let layout = layout::signed_in_page(&state, &current, "Delete token").await?;
        return forms::render(
            StatusCode::BAD_REQUEST,
            &DeletePage {
                layout,
                token: TokenView::new(&token, time::now()),
                error: Some(format!(
                    "Type “{CONFIRM_WORD}” to confirm. The token was not deleted."
                )),
                confirm: form.confirm,
            },
        );
    }
    let (actor, ip) = (current.user.clone(), client_ip(&req));
    let outcome = state
        .store
        .run(move |conn| tokens::delete_token(conn, &actor, &id, time::now(), Some(&ip)))
        .await?;
    let (kind, message) = match outcome {
        DeleteOutcome::NotFound => return Err(WebError::NotFound),
        DeleteOutcome::Deleted(token) => {
            (FlashKind::Success, format!("Token {} deleted.", token.name))
        }
        DeleteOutcome::AlreadyDeleted(token) => (
            FlashKind::Error,
            format!("Token {} was already deleted; nothing changed.", token.name),
        ),
    };
    session::push_flash(&current.session, kind, message);
    Ok(see_other("/tokens"))
}
