//! The account's token policy: longest lifetime, whether "never expires" is offered, the limit.
//! New values apply to the next token made, on the page or through the API; existing tokens keep
//! their expiry.

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::admin_gate::AdminUser;
use super::forms::{self, CsrfForm, FieldErrors};
use super::layout::{self, Layout};
use super::{CurrentUser, WebError, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::policy::{LIFETIME_DAYS_RANGE, MAX_TOKENS_RANGE, TokenPolicy};
use crate::state::AppState;
use crate::store::{accounts, tokens};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PolicyForm {
    max_lifetime_days: String,
    /// `on` when ticked; absent when not.
    allow_never: Option<String>,
    max_tokens: String,
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    layout: Layout,
    max_lifetime_days: String,
    allow_never: bool,
    max_tokens: String,
    /// "12", or "10000+" past the highest limit a policy can set.
    live_tokens: String,
    lifetime_min: u32,
    lifetime_max: u32,
    tokens_min: u32,
    tokens_max: u32,
    errors: FieldErrors,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    status: StatusCode,
    form: PolicyForm,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let (account, now) = (current.user.account_id.clone(), state.now());
    let live_tokens = state
        .store
        .run(move |conn| tokens::count_live(conn, &account, now, MAX_TOKENS_SHOWN))
        .await?;
    let layout = layout::signed_in_page(state, current, "Token policy")
        .await?
        .in_section("policy");
    forms::render(
        status,
        &PolicyPage {
            layout,
            max_lifetime_days: form.max_lifetime_days,
            allow_never: form.allow_never.is_some(),
            max_tokens: form.max_tokens,
            live_tokens: super::paging::at_least(live_tokens),
            lifetime_min: *LIFETIME_DAYS_RANGE.start(),
            lifetime_max: *LIFETIME_DAYS_RANGE.end(),
            tokens_min: *MAX_TOKENS_RANGE.start(),
            tokens_max: *MAX_TOKENS_RANGE.end(),
            errors,
        },
    )
}

/// The policy of `current`'s account, as the policy page and the add form read it.
pub async fn account_policy(
    state: &AppState,
    current: &CurrentUser,
) -> Result<TokenPolicy, WebError> {
    let account = current.user.account_id.clone();
    Ok(state
        .store
        .run(move |conn| tokens::find_policy(conn, &account))
        .await?)
}

pub async fn policy_form(
    state: Data<AppState>,
    AdminUser(current): AdminUser,
) -> Result<HttpResponse, WebError> {
    let policy = account_policy(&state, &current).await?;
    let form = PolicyForm {
        max_lifetime_days: policy.max_lifetime_days.to_string(),
        allow_never: policy.allow_never.then(|| "on".to_owned()),
        max_tokens: policy.max_tokens.to_string(),
    };
    page(
        &state,
        &current,
        StatusCode::OK,
        form,
        FieldErrors::default(),
    )
    .await
}

pub async fn save_policy(
    req: HttpRequest,
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    CsrfForm(form): CsrfForm<PolicyForm>,
) -> Result<HttpResponse, WebError> {
    let parsed = TokenPolicy::parse(
        &form.max_lifetime_days,
        form.allow_never.is_some(),
        &form.max_tokens,
    );
    let policy = match parsed {
        Ok(policy) => policy,
        Err(refusals) => {
            let errors = FieldErrors::from(refusals);
            return page(&state, &current, StatusCode::BAD_REQUEST, form, errors).await;
        }
    };
    let (actor, ip, now) = (current.user.clone(), client_ip(&req), state.now());
    state
        .store
        .run(move |conn| accounts::update_policy(conn, &actor, &policy, &ip, now))
        .await?;
    session::push_flash(
        &current.session,
        FlashKind::Success,
        "Policy saved. New tokens follow it from now on; existing tokens keep their expiry.",
    );
    Ok(see_other("/policy"))
}

/// Live tokens are counted up to the highest limit a policy may set; past it, "10000+".
const MAX_TOKENS_SHOWN: i64 = *MAX_TOKENS_RANGE.end() as i64;
