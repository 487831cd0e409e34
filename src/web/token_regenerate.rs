//! Regenerating a token: a confirmation, then a new secret revealed once; the old one dies.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::CurrentUser;
use super::format::TokenView;
use super::forms::{self, CsrfForm, EmptyForm};
use super::layout::{self, Layout};
use super::token_delete::{find_visible, token_id};
use super::{WebError, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::time;
use crate::domain::token::PlainToken;
use crate::state::AppState;
use crate::store::tokens::{self, RegenerateOutcome};

#[derive(Template)]
#[template(path = "tokens/regenerate.html")]
struct RegeneratePage {
    layout: Layout,
    token: TokenView,
}

pub async fn regenerate_token_form(
    state: Data<AppState>,
    current: CurrentUser,
    path: Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = find_visible(&state, &current, token_id(&path)?).await?;
    let layout = layout::signed_in_page(&state, &current, "Regenerate token").await?;
    forms::ok(&RegeneratePage {
        layout,
        token: TokenView::new(&token, time::now()),
    })
}

pub async fn regenerate_token(
    req: HttpRequest,
    state: Data<AppState>,
    current: CurrentUser,
    path: Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    let id = token_id(&path)?;
    let (actor, ip) = (current.user.clone(), client_ip(&req));
    let (outcome, secret) = state
        .store
        .run(move |conn| {
            let secret = PlainToken::generate();
            let outcome =
                tokens::regenerate_token(conn, &actor, &id, &secret, time::now(), Some(&ip))?;
            Ok((outcome, secret))
        })
        .await?;
    let message = match outcome {
        RegenerateOutcome::NotFound => return Err(WebError::NotFound),
        RegenerateOutcome::Regenerated(token) => {
            session::stash_reveal(&current.session, &token.name, &secret)?;
            return Ok(see_other("/tokens/reveal"));
        }
        RegenerateOutcome::Deleted(token) => {
            format!("Token {} is deleted and cannot be regenerated.", token.name)
        }
        RegenerateOutcome::LimitReached(max) => format!(
            "This account already has {max} active tokens, the most it allows. Delete one first."
        ),
    };
    session::push_flash(&current.session, FlashKind::Error, message);
    Ok(see_other("/tokens"))
}
