//! What the base layout needs on every page: title, CSRF token, who is signed in, flashes.

use actix_session::Session;

use super::CurrentUser;
use super::{WebError, assets};
use crate::auth::session::{self, Flash};
use chrono::NaiveDateTime;

use crate::domain::tokens::Visibility;
use crate::domain::{Role, User};
use crate::state::AppState;
use crate::store::{AnyConnection, StoreResult, notices, tokens};

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
    /// Unread expiry notices, shown beside the notifications link in the header.
    pub unread_notices: i64,
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
            unread_notices: 0,
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

    /// What the header and navigation show about the user's tokens and notices.
    pub fn with_badges(mut self, badges: Badges) -> Self {
        self.expiring_badge = badges.expiring;
        self.unread_notices = badges.unread;
        self
    }
}

/// The "!" on Personal Tokens and the unread count in the header.
#[derive(Debug, Clone, Copy, Default)]
pub struct Badges {
    pub expiring: bool,
    pub unread: i64,
}

/// Both badges for `user`, in one trip to the store (inside the caller's `store.run`).
pub fn badges(conn: &mut AnyConnection, user: &User, now: NaiveDateTime) -> StoreResult<Badges> {
    Ok(Badges {
        expiring: tokens::any_expiring_soon(conn, &Visibility::of(user), now)?,
        unread: notices::unread_count(conn, &user.id)?,
    })
}

/// A signed-in page's layout, with its badges looked up for this user.
pub async fn signed_in_page(
    state: &AppState,
    current: &CurrentUser,
    title: &str,
) -> Result<Layout, WebError> {
    let (user, now) = (current.user.clone(), state.now());
    let badges = state
        .store
        .run(move |conn| badges(conn, &user, now))
        .await?;
    Ok(Layout::signed_in(current, title).with_badges(badges))
}
