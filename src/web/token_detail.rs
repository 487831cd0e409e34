//! One token's page: everything the list shows and more (description, allowlist, who deleted it,
//! the rotation it is part of), its requests per day over 90 days, the addresses it was used
//! from, its audit trail, and the suspend and resume buttons.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::TimeDelta;

use super::activity_chart::{self, ActivityChart};
use super::format::{self, TokenView};
use super::forms::{self, CsrfForm, EmptyForm};
use super::layout::{self, Layout};
use super::token_delete::token_id;
use super::{CurrentUser, WebError, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::audit::AuditKind;
use crate::domain::lifecycle::Visibility;
use crate::domain::status::retiring_at;
use crate::domain::time;
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter};
use crate::store::tokens::{self, SuspendOutcome};
use crate::store::{activity, addresses};

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
    path: Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = token_id(&path)?;
    let visibility = Visibility::of(&current.user);
    let now = time::now();
    let today = now.date();
    let loaded = state
        .store
        .run(move |conn| {
            let Some(token) = tokens::find_token(conn, &visibility, &id)? else {
                return Ok(None);
            };
            let since = today - TimeDelta::days(activity_chart::DAYS - 1);
            let counts = activity::daily_counts(conn, &id, since)?;
            let seen = addresses::recent_addresses(conn, &id, ADDRESSES_SHOWN)?;
            let filter = AuditFilter {
                subject: Some(id.to_string()),
                ..AuditFilter::default()
            };
            let mut events =
                audit::list_events(conn, visibility.account(), &filter, 1, EVENTS_SHOWN)?.entries;
            // Its regenerate is recorded under the token that replaced it.
            if let Some(next) = &token.replaced_by {
                let filter = AuditFilter {
                    subject: Some(next.to_string()),
                    kind: Some(AuditKind::TokenRegenerated),
                    ..AuditFilter::default()
                };
                events
                    .extend(audit::list_events(conn, visibility.account(), &filter, 1, 1)?.entries);
                events.sort_by_key(|event| std::cmp::Reverse(event.at));
            }
            let replaced_by = match &token.replaced_by {
                Some(next) => tokens::find_token(conn, &visibility, next)?,
                None => None,
            };
            let replaces = tokens::find_replaced(conn, &visibility, &id)?;
            Ok(Some((token, counts, seen, events, replaced_by, replaces)))
        })
        .await?;
    let Some((token, counts, seen, events, replaced_by, replaces)) = loaded else {
        return Err(WebError::NotFound);
    };
    let layout = layout::signed_in_page(&state, &current, &token.name).await?;
    let link = |other: &crate::domain::lifecycle::TokenRecord, note: String| Link {
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
            .filter(|at| *at <= now)
            .map(format::datetime)
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
                first_seen: format::datetime(a.first_seen),
                last_seen: format::datetime(a.last_seen),
            })
            .collect(),
        events: events
            .into_iter()
            .map(|e| EventView {
                at: format::datetime(e.at),
                actor: e.actor.unwrap_or_else(|| "—".into()),
                action: AuditKind::parse(&e.kind)
                    .map_or(e.kind.clone(), |kind| kind.label().to_owned()),
                detail: e.detail,
                ip: e.ip.unwrap_or_default(),
            })
            .collect(),
        replaced_by: replaced_by.as_ref().map(|next| {
            let note = match retiring_at(token.deleted_at, now) {
                Some(ends) => format!("this secret keeps working until {}", format::datetime(ends)),
                None => "this secret no longer works".to_owned(),
            };
            link(next, note)
        }),
        replaces: replaces
            .iter()
            .map(|old| {
                let note = match retiring_at(old.deleted_at, now) {
                    Some(ends) => format!("still works until {}", format::datetime(ends)),
                    None => "no longer works".to_owned(),
                };
                link(old, note)
            })
            .collect(),
        token: TokenView::new(&token, now),
    };
    forms::ok(&page)
}

async fn set_suspended(
    req: &HttpRequest,
    state: &AppState,
    current: &CurrentUser,
    raw_id: &str,
    suspend: bool,
) -> Result<HttpResponse, WebError> {
    let id = token_id(raw_id)?;
    let (actor, ip) = (current.user.clone(), client_ip(req));
    let back = format!("/tokens/{id}");
    let outcome = state
        .store
        .run(move |conn| tokens::set_suspended(conn, &actor, &id, suspend, time::now(), Some(&ip)))
        .await?;
    let (kind, message) = match outcome {
        SuspendOutcome::NotFound => return Err(WebError::NotFound),
        SuspendOutcome::Done(token) if suspend => (
            FlashKind::Success,
            format!(
                "Token {} is suspended: it is refused until you resume it.",
                token.name
            ),
        ),
        SuspendOutcome::Done(token) => (
            FlashKind::Success,
            format!("Token {} works again.", token.name),
        ),
        SuspendOutcome::Unchanged(token) => (
            FlashKind::Success,
            format!("Token {} was already so; nothing changed.", token.name),
        ),
        SuspendOutcome::AboveYourRole(token) => (
            FlashKind::Error,
            format!(
                "Token {} has a higher role than yours; it was not changed.",
                token.name
            ),
        ),
        SuspendOutcome::NotLive(token) => (
            FlashKind::Error,
            format!(
                "Token {} is deleted or expired; there is nothing to suspend or resume.",
                token.name
            ),
        ),
    };
    session::push_flash(&current.session, kind, message);
    Ok(see_other(&back))
}

/// `POST /tokens/{id}/suspend` and `/tokens/{id}/resume`.
pub async fn change_suspension(
    req: HttpRequest,
    state: Data<AppState>,
    current: CurrentUser,
    path: Path<(String, String)>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    let (id, action) = path.into_inner();
    set_suspended(&req, &state, &current, &id, action == "suspend").await
}
