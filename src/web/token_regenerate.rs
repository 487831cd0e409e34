//! Regenerating a token: a confirmation, then a new secret revealed once; the old one dies.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::CurrentUser;
use super::access_form::{AccessField, typed_scopes};
use super::forms::{self, CsrfForm, FieldErrors};
use super::layout::{self, Layout};
use super::token_delete::find_visible;
use super::token_view::TokenView;
use super::{WebError, path_id, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::TokenId;
use crate::domain::allowlist::IpAllowlist;
use crate::domain::scopes::Access;
use crate::domain::secret::PlainToken;
use crate::domain::tokens::{self as tokens_rules, Refusal, Regeneration};
use crate::state::AppState;
use crate::store::{services, tokens};

#[derive(Template)]
#[template(path = "tokens/regenerate.html")]
struct RegeneratePage {
    layout: Layout,
    token: TokenView,
    /// The allowlist as the textarea shows it: one range per line.
    allowed_ips: String,
    access: AccessField,
    errors: FieldErrors,
}

/// The confirmation's fields. An absent allowlist (an older form, a script) keeps the old one;
/// an absent overlap is none.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegenerateForm {
    allowed_ips: Option<String>,
    overlap: String,
    /// `full` or `scoped`; absent (an older form, a script): the old token's access is kept.
    access: Option<String>,
    scopes: String,
}

/// What was typed, sent back with the errors.
#[derive(Default)]
struct Typed {
    allowed_ips: Option<String>,
    access: Option<(bool, Vec<String>)>,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    id: TokenId,
    status: StatusCode,
    typed: Typed,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let token = find_visible(state, current, id).await?;
    let account = current.user.account_id.clone();
    let services = state
        .store
        .run(move |conn| services::described(conn, &account))
        .await?;
    // The successor keeps the token's role, so the rows offer what that role may hold.
    let role = token.role.min(current.user.role);
    let access = match typed.access {
        Some((scoped, chosen)) => AccessField::new(role, &services, scoped, &chosen),
        None => AccessField::of(role, &services, &token.access),
    };
    let layout = layout::signed_in_page(state, current, "Regenerate token").await?;
    forms::render(
        status,
        &RegeneratePage {
            layout,
            allowed_ips: typed
                .allowed_ips
                .unwrap_or_else(|| token.allowed_ips.ranges().join("\n")),
            token: TokenView::new(&token, state.now()),
            access,
            errors,
        },
    )
}

pub async fn regenerate_token_form(
    state: Data<AppState>,
    current: CurrentUser,
    id: Option<Path<TokenId>>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(id)?;
    page(
        &state,
        &current,
        id,
        StatusCode::OK,
        Typed::default(),
        FieldErrors::default(),
    )
    .await
}

pub async fn regenerate_token(
    req: HttpRequest,
    state: Data<AppState>,
    current: CurrentUser,
    id: Option<Path<TokenId>>,
    CsrfForm(form): CsrfForm<RegenerateForm>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(id)?;
    let mut errors = FieldErrors::default();
    let allowed_ips = match form.allowed_ips.as_deref().map(IpAllowlist::parse) {
        None => None,
        Some(parsed) => errors.check(parsed),
    };
    let overlap = errors.check(tokens_rules::overlap(&form.overlap));
    let chosen = typed_scopes(&form.scopes);
    // Parsed within the actor's ceiling here; the plan checks the token's own role's.
    let access = match form.access.as_deref() {
        None => Some(None),
        Some(kind) => errors
            .check(Access::parse(kind, &chosen, current.user.role))
            .map(Some),
    };
    let typed = Typed {
        allowed_ips: form.allowed_ips.clone(),
        access: form.access.as_ref().map(|kind| (kind == "scoped", chosen)),
    };
    let (Some(overlap), Some(access), true) = (overlap, access, errors.is_empty()) else {
        return page(&state, &current, id, StatusCode::BAD_REQUEST, typed, errors).await;
    };
    let how = Regeneration {
        allowed_ips,
        overlap,
        access,
        actor_access: Access::Full,
    };
    let (actor, ip, now) = (current.user.clone(), client_ip(&req), state.now());
    let target = id.clone();
    let (outcome, secret) = state
        .store
        .run(move |conn| {
            let secret = PlainToken::generate();
            let outcome =
                tokens::regenerate_token(conn, &actor, &target, &secret, &how, now, Some(&ip))?;
            Ok((outcome, secret))
        })
        .await?;
    match outcome {
        Ok(token) => {
            session::stash_reveal(&current.session, &token.name, &secret)?;
            Ok(see_other("/tokens/reveal"))
        }
        Err(Refusal::NotFound) => Err(WebError::NotFound),
        Err(Refusal::Invalid(found)) => {
            let errors = FieldErrors::from(found);
            page(&state, &current, id, StatusCode::BAD_REQUEST, typed, errors).await
        }
        Err(refusal) => {
            session::push_flash(&current.session, FlashKind::Error, refusal.message());
            Ok(see_other("/tokens"))
        }
    }
}
