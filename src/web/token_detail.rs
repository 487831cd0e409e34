//! One token's page: everything the list shows and more (description, allowlist, who deleted it,
//! the rotation it is part of), its requests per day over 90 days, the addresses it was used
//! from, its audit trail, and the suspend and resume buttons.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::TimeDelta;

use super::activity_chart::{self, ActivityChart};
use super::dates;
use super::forms::{self, CsrfForm, EmptyForm};
use super::layout::{self, Layout};
use super::token_view::TokenView;
use super::{CurrentUser, WebError, path_id, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::TokenId;
use crate::domain::audit::AuditKind;
use crate::domain::status::{TokenStatus, retiring_at};
use crate::domain::tokens::Refusal;
use crate::domain::tokens::Visibility;
use crate::state::AppState;
use crate::store::sso;
use crate::store::tokens::{self, StoryShown, TokenStory};

/// Addresses and audit events the page shows at most.
const ADDRESSES_SHOWN: i64 = 20;
const EVENTS_SHOWN: i64 = 50;

struct AddressView {
    ip: String,
    user_agent: String,
    first_seen: String,
    last_seen: String,
}

struct EventView {
    at: String,
    actor: String,
    action: String,
    detail: String,
    ip: String,
}

/// A token on the other side of a rotation, linked from this one.
struct Link {
    id: String,
    masked: String,
    note: String,
}

#[derive(Template)]
#[template(path = "tokens/detail.html")]
struct DetailPage {
    layout: Layout,
    token: TokenView,
    is_suspended: bool,
    deleted_by: String,
    deleted_on: String,
    chart: ActivityChart,
    chart_width: i64,
    chart_height: i64,
    addresses: Vec<AddressView>,
    events: Vec<EventView>,
    replaced_by: Option<Link>,
    replaces: Vec<Link>,
}

pub async fn show_token(
    state: Data<AppState>,
    current: CurrentUser,
    id: Option<Path<TokenId>>,
) -> Result<HttpResponse, WebError> {
    let (id, visibility, now) = (path_id(id)?, Visibility::of(&current.user), state.now());
    let today = now.date();
    let shown = StoryShown {
        since: today - TimeDelta::days(activity_chart::DAYS - 1),
        addresses: ADDRESSES_SHOWN,
        events: EVENTS_SHOWN,
    };
    let (story, issuer_sso) = state
        .store
        .run(move |conn| {
            let Some(story) = tokens::find_story(conn, &visibility, &id, &shown)? else {
                return Ok((None, false));
            };
            let sso = sso::link_of(conn, &story.token.issuer_id)?.is_some();
            Ok((Some(story), sso))
        })
        .await?;
    let story = story.ok_or(WebError::NotFound)?;
    let TokenStory {
        token,
        counts,
        addresses: seen,
        events,
        replaced_by,
        replaces,
    } = story;
    let layout = layout::signed_in_page(&state, &current, &token.name).await?;
    let link = |other: &crate::domain::tokens::TokenRecord, note: String| Link {
        id: other.id.to_string(),
        masked: other.masked(),
        note,
    };
    let page = DetailPage {
        layout,
        is_suspended: token.suspended_at.is_some(),
        deleted_by: match (&token.deleted_by_name, &token.deleted_reason) {
            (_, Some(reason)) => reason.clone(),
            (Some(name), None) => format!("by {name}"),
            (None, None) => String::new(),
        },
        deleted_on: token
            .deleted_at
            .filter(|_| token.status_at(now) == TokenStatus::Deleted)
            .map(dates::datetime)
            .unwrap_or_default(),
        chart: activity_chart::chart(&counts, today),
        chart_width: activity_chart::WIDTH,
        chart_height: activity_chart::HEIGHT,
        addresses: seen
            .into_iter()
            .map(|a| AddressView {
                ip: a.ip,
                user_agent: if a.user_agent.is_empty() {
                    "—".to_owned()
                } else {
                    a.user_agent
                },
                first_seen: dates::datetime(a.first_seen),
                last_seen: dates::datetime(a.last_seen),
            })
            .collect(),
        events: events
            .into_iter()
            .map(|e| EventView {
                at: dates::datetime(e.at),
                actor: e.actor.unwrap_or_else(|| "—".into()),
                action: AuditKind::parse(&e.kind)
                    .map_or(e.kind.clone(), |kind| kind.label().to_owned()),
                detail: e.detail,
                ip: e.ip.unwrap_or_default(),
            })
            .collect(),
        replaced_by: replaced_by.as_ref().map(|next| {
            let note = match retiring_at(token.deleted_at, now) {
                Some(ends) => format!("this secret keeps working until {}", dates::datetime(ends)),
                None => "this secret no longer works".to_owned(),
            };
            link(next, note)
        }),
        replaces: replaces
            .iter()
            .map(|old| {
                let note = match retiring_at(old.deleted_at, now) {
                    Some(ends) => format!("still works until {}", dates::datetime(ends)),
                    None => "no longer works".to_owned(),
                };
                link(old, note)
            })
            .collect(),
        token: TokenView {
            issuer_sso,
            ..TokenView::new(&token, now)
        },
    };
    forms::ok(&page)
}

async fn set_suspended(
    req: &HttpRequest,
    state: &AppState,
    current: &CurrentUser,
    id: TokenId,
    suspend: bool,
) -> Result<HttpResponse, WebError> {
    let (actor, ip, now) = (current.user.clone(), client_ip(req), state.now());
    let back = format!("/tokens/{id}");
    let outcome = state
        .store
        .run(move |conn| tokens::set_suspended(conn, &actor, &id, suspend, now, Some(&ip)))
        .await?;
    let (kind, message) = match outcome {
        Ok((token, true)) if suspend => (
            FlashKind::Success,
            format!(
                "Token {} is suspended: it is refused until you resume it.",
                token.name
            ),
        ),
        Ok((token, true)) => (
            FlashKind::Success,
            format!("Token {} works again.", token.name),
        ),
        Ok((token, false)) => (
            FlashKind::Success,
            format!("Token {} was already so; nothing changed.", token.name),
        ),
        Err(Refusal::NotFound) => return Err(WebError::NotFound),
        Err(refusal) => (FlashKind::Error, refusal.message()),
    };
    session::push_flash(&current.session, kind, message);
    Ok(see_other(&back))
}

/// `POST /tokens/{id}/suspend` and `/tokens/{id}/resume`.
pub async fn change_suspension(
    req: HttpRequest,
    state: Data<AppState>,
    current: CurrentUser,
    path: Option<Path<(TokenId, String)>>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    let (id, action) = path_id(path)?;
    set_suspended(&req, &state, &current, id, action == "suspend").await
}
