//! The users page: the account's people with role, status, e-mail and live tokens.

use actix_web::HttpResponse;
use actix_web::web::Data;
use askama::Template;

use super::WebError;
use super::admin_gate::AdminUser;
use super::dates;
use super::forms;
use super::layout::{self, Layout};
use crate::domain::users::UserKind;
use crate::state::AppState;
use crate::store::users;

pub struct UserRowView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role_label: &'static str,
    pub active: bool,
    pub live_tokens: i64,
    pub created: String,
    pub is_you: bool,
    pub service: bool,
    /// "SCIM" for people an identity provider provisions.
    pub provisioned: bool,
    pub removed: bool,
    /// Signs in through the identity provider.
    pub sso: bool,
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRowView>,
}

pub async fn list_users(
    state: Data<AppState>,
    AdminUser(current): AdminUser,
) -> Result<HttpResponse, WebError> {
    let (account, now) = (current.user.account_id.clone(), state.now());
    let summaries = state
        .store
        .run(move |conn| users::list_users(conn, &account, now))
        .await?;
    let layout = layout::signed_in_page(&state, &current, "Users")
        .await?
        .in_section("users");
    forms::ok(&UsersPage {
        layout,
        users: summaries
            .into_iter()
            .map(|summary| UserRowView {
                id: summary.user.id.to_string(),
                is_you: summary.user.id == current.user.id,
                service: summary.user.kind == UserKind::Service,
                provisioned: summary.provisioned,
                removed: summary.removed,
                sso: summary.sso,
                username: summary.user.username,
                display_name: summary.user.display_name,
                email: summary.user.email.unwrap_or_default(),
                role_label: summary.user.role.label(),
                active: summary.user.active,
                live_tokens: summary.live_tokens,
                created: dates::date(summary.created_at),
            })
            .collect(),
    })
}
