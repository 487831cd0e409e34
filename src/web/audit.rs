//! The audit log: the account's events, newest first, filtered by actor and action, paged. The
//! filters live in the query string and survive paging. Events never hold a secret.

use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use askama::Template;
use serde::Deserialize;

use super::WebError;
use super::admin_gate::AdminUser;
use super::dates;
use super::forms::{self, Choice};
use super::layout::{self, Layout};
use super::paging::{self, Pager};
use crate::domain::UserId;
use crate::domain::audit::AuditKind;
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter};
use crate::store::tokens;

pub const EVENTS_PER_PAGE: i64 = 50;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditQuery {
    actor: String,
    action: String,
    page: String,
}

struct EventView {
    at: String,
    at_iso: String,
    actor: String,
    action: String,
    subject: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    events: Vec<EventView>,
    actors: Vec<Choice>,
    actions: Vec<Choice>,
    notices: Vec<String>,
    filtering: bool,
    pager: Pager,
}

fn parse(query: &AuditQuery, notices: &mut Vec<String>) -> (AuditFilter, i64) {
    let mut filter = AuditFilter::default();
    if !query.actor.is_empty() {
        filter.actor = UserId::parse(&query.actor);
        if filter.actor.is_none() {
            notices.push("The “actor” filter was not understood and is ignored.".into());
        }
    }
    if !query.action.is_empty() {
        filter.kind = AuditKind::parse(&query.action);
        if filter.kind.is_none() {
            notices.push("Unknown action filter ignored.".into());
        }
    }
    (filter, paging::parse_page(&query.page, notices))
}

fn href(filter: &AuditFilter, page: i64) -> String {
    paging::href(
        "/audit",
        &[
            ("actor", filter.actor.as_ref().map(|id| id.as_str())),
            ("action", filter.kind.map(AuditKind::as_str)),
        ],
        page,
    )
}

pub async fn audit_log(
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    query: Query<AuditQuery>,
) -> Result<HttpResponse, WebError> {
    let mut notices = Vec::new();
    let (filter, page) = parse(&query, &mut notices);
    let account = current.user.account_id.clone();
    let (listing, people) = {
        let filter = filter.clone();
        state
            .store
            .run(move |conn| {
                let mut listing =
                    audit::list_events(conn, &account, &filter, page, EVENTS_PER_PAGE)?;
                let pages = paging::page_count(listing.matching, EVENTS_PER_PAGE);
                if listing.entries.is_empty() && page > pages {
                    listing = audit::list_events(conn, &account, &filter, pages, EVENTS_PER_PAGE)?;
                }
                Ok((listing, tokens::list_issuers(conn, &account)?))
            })
            .await?
    };
    let layout = layout::signed_in_page(&state, &current, "Audit log")
        .await?
        .in_section("audit");
    forms::ok(&AuditPage {
        layout,
        events: listing
            .entries
            .into_iter()
            .map(|entry| EventView {
                at: dates::datetime(entry.at),
                at_iso: dates::iso(entry.at),
                actor: entry.actor.unwrap_or_else(|| "—".into()),
                action: AuditKind::parse(&entry.kind)
                    .map_or(entry.kind.clone(), |kind| kind.label().to_owned()),
                subject: if entry.detail.is_empty() {
                    entry.subject
                } else {
                    entry.detail
                },
                ip: entry.ip.unwrap_or_default(),
            })
            .collect(),
        actors: Choice::people(people, filter.actor.as_ref()),
        actions: AuditKind::ALL
            .into_iter()
            .map(|kind| Choice {
                value: kind.as_str().into(),
                label: kind.label().into(),
                selected: filter.kind == Some(kind),
            })
            .collect(),
        notices,
        filtering: filter != AuditFilter::default(),
        pager: Pager::new(
            listing.matching,
            page,
            EVENTS_PER_PAGE,
            ("event", "events"),
            |page| href(&filter, page),
        ),
    })
}
