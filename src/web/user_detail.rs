//! One user: who they are, their generated password once (right after they were added), their
//! tokens, and the forms that change their role and standing.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::admin_gate::AdminUser;
use super::forms::{self, Choice, CsrfForm, EmptyForm};
use super::layout::{self, Layout};
use super::token_view::TokenView;
use super::{CurrentUser, WebError, path_id, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::tokens::{TOKENS_PER_PAGE, TokenFilter, Visibility};
use crate::domain::users::{StandingChange, UserKind};
use crate::domain::{Role, User, UserId};
use crate::state::AppState;
use crate::store::{sso, tokens, users};

#[derive(Template)]
#[template(path = "users/detail.html")]
struct UserPage {
    layout: Layout,
    id: String,
    username: String,
    display_name: String,
    email: String,
    role_label: &'static str,
    active: bool,
    is_you: bool,
    /// A service account: no e-mail, never signs in, and its tokens are made here.
    service: bool,
    /// How they sign in through the identity provider, for someone who does.
    sso: Option<String>,
    /// Their role follows the provider's groups (an SSO person, and `OIDC_ROLE_MAP` is set).
    role_from_provider: bool,
    roles: Vec<Choice>,
    /// Set only on the first view after the user was added with a generated password.
    generated_password: Option<String>,
    error: Option<String>,
    tokens: Vec<TokenView>,
    /// "12", or "1000+".
    tokens_total: String,
    tokens_href: String,
}

async fn render_user(
    state: &AppState,
    current: &CurrentUser,
    target: User,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let now = state.now();
    let visibility = Visibility::Account(current.user.account_id.clone());
    let filter = TokenFilter {
        issuer: Some(target.id.clone()),
        ..TokenFilter::default()
    };
    let target_id = target.id.clone();
    let (listing, sso_link) = state
        .store
        .run(move |conn| {
            let listing = tokens::list_tokens(conn, &visibility, &filter, 1, TOKENS_PER_PAGE, now)?;
            Ok((listing, sso::link_of(conn, &target_id)?))
        })
        .await?;
    let sso = sso_link.map(|link| {
        let vouched = link
            .vouched_at
            .map(|at| format!(" It last vouched for them {}.", super::dates::datetime(at)))
            .unwrap_or_default();
        let asked = if link.rechecked {
            " It is asked about them again regularly."
        } else {
            " No grant of theirs is kept (none was given, or they were deactivated since): it \
             is asked about them at their next sign-in."
        };
        format!("Through the identity provider (SSO).{vouched}{asked}")
    });
    let generated_password = session::take_password_reveal(&current.session, &target.id)
        .map(|secret| secret.expose_secret().to_owned());
    let layout = layout::signed_in_page(state, current, &target.display_name)
        .await?
        .in_section("users");
    forms::render(
        status,
        &UserPage {
            layout,
            id: target.id.to_string(),
            is_you: target.id == current.user.id,
            service: target.kind == UserKind::Service,
            role_from_provider: sso.is_some()
                && state.sso.as_ref().is_some_and(|s| s.oidc.decides_roles()),
            sso,
            username: target.username,
            display_name: target.display_name,
            email: target.email.unwrap_or_default(),
            role_label: target.role.label(),
            active: target.active,
            roles: Choice::roles(Role::ALL.into_iter(), Some(target.role)),
            generated_password,
            error,
            tokens: listing
                .tokens
                .iter()
                .map(|t| TokenView::new(t, now))
                .collect(),
            tokens_total: super::paging::at_least(listing.matching),
            tokens_href: format!("/tokens?issuer={}", target.id),
        },
    )
}

async fn find_target(
    state: &AppState,
    current: &CurrentUser,
    id: UserId,
) -> Result<User, WebError> {
    let account = current.user.account_id.clone();
    state
        .store
        .run(move |conn| users::find_user_in_account(conn, &account, &id))
        .await?
        .ok_or(WebError::NotFound)
}

pub async fn show_user(
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    id: Option<Path<UserId>>,
) -> Result<HttpResponse, WebError> {
    let target = find_target(&state, &current, path_id(id)?).await?;
    render_user(&state, &current, target, StatusCode::OK, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

async fn change(
    req: &HttpRequest,
    state: &AppState,
    current: CurrentUser,
    id: UserId,
    change: StandingChange,
) -> Result<HttpResponse, WebError> {
    let (actor, ip, now) = (current.user.clone(), client_ip(req), state.now());
    let outcome = {
        let id = id.clone();
        state
            .store
            .run(move |conn| users::change_standing(conn, &actor, &id, change, &ip, now))
            .await?
    };
    let (user, message) = match outcome {
        users::StandingOutcome::NotFound => return Err(WebError::NotFound),
        users::StandingOutcome::Refused(refusal) => {
            let target = find_target(state, &current, id).await?;
            let message = format!("Nothing was changed. {}", refusal.message);
            return render_user(state, &current, target, StatusCode::CONFLICT, Some(message)).await;
        }
        users::StandingOutcome::Unchanged(user) => {
            let message = format!("{} was already so; nothing changed.", user.display_name);
            (user, message)
        }
        users::StandingOutcome::Changed(user) => {
            let message = match change {
                StandingChange::Role(role) => {
                    format!("{} is now {}.", user.display_name, role.label())
                }
                StandingChange::Deactivate => format!(
                    "{} was deactivated: they are signed out and their tokens stop working.",
                    user.display_name
                ),
                StandingChange::Reactivate => format!(
                    "{} was reactivated: they can sign in, and their unexpired tokens work again.",
                    user.display_name
                ),
            };
            (user, message)
        }
    };
    session::push_flash(&current.session, FlashKind::Success, message);
    // Someone who just gave up their own administrator role (or standing) can no longer see
    // the users pages.
    let still_admin = user.id != current.user.id || (user.role == Role::Admin && user.active);
    Ok(see_other(&if still_admin {
        format!("/users/{}", user.id)
    } else {
        "/tokens".to_owned()
    }))
}

pub async fn change_role(
    req: HttpRequest,
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    id: Option<Path<UserId>>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<HttpResponse, WebError> {
    let id = path_id(id)?;
    let Some(role) = Role::parse(&form.role) else {
        let target = find_target(&state, &current, id).await?;
        let message = "Choose one of the roles listed; nothing was changed.".to_owned();
        return render_user(
            &state,
            &current,
            target,
            StatusCode::BAD_REQUEST,
            Some(message),
        )
        .await;
    };
    change(&req, &state, current, id, StandingChange::Role(role)).await
}

/// `POST /users/{id}/deactivate` and `/users/{id}/reactivate`.
pub async fn change_standing(
    req: HttpRequest,
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    path: Option<Path<(UserId, String)>>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    let (id, action) = path_id(path)?;
    let standing = match action.as_str() {
        "deactivate" => StandingChange::Deactivate,
        "reactivate" => StandingChange::Reactivate,
        _ => return Err(WebError::NotFound),
    };
    change(&req, &state, current, id, standing).await
}
