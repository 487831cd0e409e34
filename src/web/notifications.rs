//! Your expiry notices, newest first, with links to the tokens and where each e-mail stands;
//! `POST /notifications/read` marks them all read.

use actix_web::HttpResponse;
use actix_web::web::Data;
use askama::Template;

use super::forms::{self, CsrfForm, EmptyForm};
use super::layout::{self, Layout};
use super::{CurrentUser, WebError, dates, paging, see_other};
use crate::auth::session::{self, FlashKind};
use crate::domain::secret;
use crate::domain::status::StatusWord;
use crate::domain::tokens::Visibility;
use crate::state::AppState;
use crate::store::notices::{self, About, EmailState};

/// The page shows this many; older ones stay in the database.
const NOTICES_SHOWN: i64 = 200;

struct NoticeView {
    unread: bool,
    when: String,
    when_iso: String,
    headline: String,
    masked: String,
    expires: String,
    href: String,
    token_gone: bool,
    email: String,
    email_failed: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    notices: Vec<NoticeView>,
    unread: usize,
}

pub async fn list_notifications(
    state: Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let id = current.user.id.clone();
    let entries = state
        .store
        .run(move |conn| notices::list_for(conn, &id, NOTICES_SHOWN))
        .await?;
    let layout = layout::signed_in_page(&state, &current, "Notifications")
        .await?
        .in_section("notifications");
    let sees_all = Visibility::of(&current.user).sees_whole_account();
    let now = state.now();
    let notices: Vec<NoticeView> = entries
        .into_iter()
        .map(|entry| {
            let (headline, masked, expires, href, token_gone) = match &entry.about {
                About::Token {
                    token_name,
                    last_four,
                    issuer_id,
                    expires_at,
                    token_dates,
                    ..
                } => {
                    // The list, narrowed to this token: by name, and for an administrator by
                    // issuer.
                    let issuer = sees_all.then(|| issuer_id.as_str().to_owned());
                    let href = paging::href(
                        "/tokens",
                        &[
                            ("issuer", issuer.as_deref()),
                            ("status", Some("all")),
                            ("q", Some(token_name)),
                        ],
                        1,
                    );
                    (
                        entry.kind.headline(token_name),
                        secret::masked(last_four),
                        expires_at.map(dates::datetime).unwrap_or_default(),
                        href,
                        !StatusWord::Live.holds(token_dates, now),
                    )
                }
                About::Person {
                    id,
                    display_name,
                    username,
                } => (
                    entry
                        .kind
                        .headline(&format!("{display_name} (@{username})")),
                    String::new(),
                    String::new(),
                    format!("/users/{id}"),
                    false,
                ),
            };
            NoticeView {
                unread: !entry.read,
                when: dates::datetime(entry.created_at),
                when_iso: dates::iso(entry.created_at),
                headline,
                masked,
                expires,
                href,
                token_gone,
                email_failed: matches!(entry.email, EmailState::Failed { .. }),
                email: match entry.email {
                    EmailState::NotSent => String::new(),
                    EmailState::Pending => "E-mail queued".into(),
                    EmailState::Sent(at) => format!("E-mailed {}", dates::datetime(at)),
                    EmailState::Failed {
                        error,
                        next_attempt,
                    } => format!(
                        "E-mail failed ({error}); next try {}",
                        next_attempt.map(dates::datetime).unwrap_or_default()
                    ),
                },
            }
        })
        .collect();
    forms::ok(&NotificationsPage {
        layout,
        unread: notices.iter().filter(|n| n.unread).count(),
        notices,
    })
}

pub async fn mark_read(
    state: Data<AppState>,
    current: CurrentUser,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    let (id, now) = (current.user.id.clone(), state.now());
    let marked = state
        .store
        .run(move |conn| notices::mark_all_read(conn, &id, now))
        .await?;
    let message = match marked {
        0 => "No unread notifications.".to_owned(),
        1 => "1 notification marked as read.".to_owned(),
        n => format!("{n} notifications marked as read."),
    };
    session::push_flash(&current.session, FlashKind::Success, message);
    Ok(see_other("/notifications"))
}
