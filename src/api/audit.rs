//! `GET /api/v1/audit`: the account's audit log, with the page's filters and paging.

use actix_web::HttpResponse;
use actix_web::web::{Data, Query};

use super::caller::{Allowed, AuditRead};
use super::dto::{AuditEventDto, AuditListResponse, AuditQuery};
use super::error::{ApiError, ErrorBody, page_number, unknown};
use crate::domain::UserId;
use crate::domain::audit::AuditKind;
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter};

/// As many as the audit page shows.
const EVENTS_PER_PAGE: i64 = 50;

impl AuditQuery {
    fn parse(&self) -> Result<(AuditFilter, i64), ApiError> {
        let actor = match self.actor.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(UserId::parse(raw).ok_or_else(|| unknown("actor", raw))?),
        };
        let kind = match self.action.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(AuditKind::parse(raw).ok_or_else(|| unknown("action", raw))?),
        };
        let page = page_number(self.page)?;
        let filter = AuditFilter {
            actor,
            kind,
            subject: None,
        };
        Ok((filter, page))
    }
}

/// The account's events, newest first, 50 a page. Needs `audit:read`, which only an
/// administrator's token may hold.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditQuery),
    security(("bearer" = ["audit:read"])),
    responses(
        (status = 200, description = "One page of events", body = AuditListResponse),
        (status = 400, description = "An unknown filter value", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
        (status = 403, description = "The token lacks audit:read", body = ErrorBody),
    )
)]
pub async fn list_audit(
    state: Data<AppState>,
    Allowed(caller, _): Allowed<AuditRead>,
    query: Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = query.parse()?;
    let account = caller.credential.issuer.account_id.clone();
    let listing = state
        .store
        .run(move |conn| audit::list_events(conn, &account, &filter, page, EVENTS_PER_PAGE))
        .await?;
    Ok(HttpResponse::Ok().json(AuditListResponse {
        events: listing
            .entries
            .into_iter()
            .map(AuditEventDto::new)
            .collect(),
        page,
        per_page: EVENTS_PER_PAGE,
        total: listing.matching,
    }))
}
