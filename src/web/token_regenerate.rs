//! Regenerating a token: a confirmation, then a new secret revealed once; the old one dies.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::CurrentUser;
use super::format::TokenView;
use super::forms::{self, CsrfForm, FieldErrors};
use super::layout::{self, Layout};
use super::token_delete::{find_visible, token_id};
use super::{WebError, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::allowlist::IpAllowlist;
use crate::domain::lifecycle;
use crate::domain::token::PlainToken;
use crate::domain::{TokenId, time};
use crate::state::AppState;
use crate::store::tokens::{self, RegenerateOutcome, Regeneration};

#[derive(Template)]
#[template(path = "tokens/regenerate.html")]
struct RegeneratePage {
    layout: Layout,
    token: TokenView,
    /// The allowlist as the textarea shows it: one range per line.
    allowed_ips: String,
    errors: FieldErrors,
}

/// The confirmation's fields. An absent allowlist (an older form, a script) keeps the old one;
/// an absent overlap is none.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegenerateForm {
    allowed_ips: Option<String>,
    overlap: String,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    id: TokenId,
    status: StatusCode,
    allowed_ips: Option<String>,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let token = find_visible(state, current, id).await?;
    let layout = layout::signed_in_page(state, current, "Regenerate token").await?;
    forms::render(
        status,
        &RegeneratePage {
            layout,
            allowed_ips: allowed_ips.unwrap_or_else(|| token.allowed_ips.ranges().join("\n")),
            token: TokenView::new(&token, time::now()),
            errors,
        },
    )
}

pub async fn regenerate_token_form(
    state: Data<AppState>,
    current: CurrentUser,
    path: Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = token_id(&path)?;
    page(
        &state,
        &current,
        id,
        StatusCode::OK,
        None,
        FieldErrors::default(),
    )
    .await
}

pub async fn regenerate_token(
    req: HttpRequest,
    state: Data<AppState>,
    current: CurrentUser,
    path: Path<String>,
    CsrfForm(form): CsrfForm<RegenerateForm>,
) -> Result<HttpResponse, WebError> {
    let id = token_id(&path)?;
    let mut errors = FieldErrors::default();
    let allowed_ips = match form.allowed_ips.as_deref().map(IpAllowlist::parse) {
        None => None,
        Some(parsed) => errors.check(parsed),
    };
    let overlap = errors.check(lifecycle::overlap(&form.overlap));
    let (Some(overlap), true) = (overlap, errors.is_empty()) else {
        let typed = form.allowed_ips;
        return page(&state, &current, id, StatusCode::BAD_REQUEST, typed, errors).await;
    };
    let how = Regeneration {
        allowed_ips,
        overlap,
    };
    let (actor, ip) = (current.user.clone(), client_ip(&req));
    let (outcome, secret) = state
        .store
        .run(move |conn| {
            let secret = PlainToken::generate();
            let now = time::now();
            let outcome =
                tokens::regenerate_token(conn, &actor, &id, &secret, how, now, Some(&ip))?;
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
