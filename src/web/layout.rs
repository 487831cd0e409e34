//! What the base layout needs on every page: title, CSRF token, who is signed in, flashes.

use actix_session::Session;

use super::CurrentUser;
use super::{WebError, assets};
use crate::auth::session::{self, Flash};
use crate::domain::lifecycle::Visibility;
use crate::domain::{Role, time};
use crate::state::AppState;
use crate::store::tokens;

pub struct LayoutUser {
    pub display_name: String,
    pub username: String,
    pub role_label: &'static str,
    pub account_name: String,
    /// Administrators see the users, policy and audit pages in the navigation.
    pub is_admin: bool,
}

pub struct Layout {
    pub title: String,
    pub csrf_token: String,
    pub user: Option<LayoutUser>,
    pub flashes: Vec<Flash>,
    /// Which navigation entry is the current page (`tokens`, `users`, `policy`, `audit`,
    /// `settings`).
    pub section: &'static str,
    /// A token the user can see expires within 7 days: the nav shows a "!" badge.
    pub expiring_badge: bool,
    pub css_href: &'static str,
    pub js_href: &'static str,
}

impl Layout {
    /// For pages with no session at hand (error pages): no forms, no user.
    pub fn bare(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            csrf_token: String::new(),
            user: None,
            flashes: Vec::new(),
            section: "",
            expiring_badge: false,
            css_href: assets::css_href(),
            js_href: assets::js_href(),
        }
    }

    /// Sign-in and setup: a session for the CSRF token, nobody signed in yet.
    pub fn anonymous(session: &Session, title: &str) -> Self {
        Self {
            csrf_token: session::csrf_token(session),
            flashes: session::take_flashes(session),
            ..Self::bare(title)
        }
    }

    pub fn signed_in(current: &CurrentUser, title: &str) -> Self {
        let user = &current.user;
        Self {
            user: Some(LayoutUser {
                display_name: user.display_name.clone(),
                username: user.username.clone(),
                role_label: user.role.label(),
                account_name: user.account_name.clone(),
                is_admin: user.role == Role::Admin,
            }),
            section: "tokens",
            ..Self::anonymous(&current.session, title)
        }
    }

    pub fn in_section(mut self, section: &'static str) -> Self {
        self.section = section;
        self
    }

    pub fn with_badge(mut self, expiring: bool) -> Self {
        self.expiring_badge = expiring;
        self
    }
}

/// A signed-in page's layout, with the expiry badge looked up for this user.
pub async fn signed_in_page(
    state: &AppState,
    current: &CurrentUser,
    title: &str,
) -> Result<Layout, WebError> {
    let visibility = Visibility::of(&current.user);
    let badge = state
        .store
        .run(move |conn| tokens::any_expiring_soon(conn, &visibility, time::now()))
        .await?;
    Ok(Layout::signed_in(current, title).with_badge(badge))
}
