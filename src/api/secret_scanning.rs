//! `POST /api/v1/secret-scanning`: GitHub's secret-scanning partner reports. No bearer token:
//! the body is signed by a key the operator configured (`SECRET_SCANNING_KEYS`; unset, the
//! endpoint is 404). Every reported string that is a live token here is revoked at once, and its
//! issuer and the account's administrators hear where it was found. The answer is GitHub's
//! feedback array and nothing else; nothing reported is logged.

use std::time::Duration;

use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use chrono::TimeDelta;
use futures_util::StreamExt;

use super::error::ApiError;
use crate::auth::client_ip;
use crate::auth::scanning::{self, Feedback, MAX_REPORT_BYTES, ScanningError};
use crate::state::AppState;
use crate::store::leaks::{self, ReportedSecret};
use crate::store::throttles;
use crate::store::tokens::Reported;

/// Reports per client address per minute; GitHub sends far fewer.
const REPORTS_PER_MINUTE: u32 = 60;

#[utoipa::path(
    post,
    path = "/api/v1/secret-scanning",
    tag = "secret scanning",
    request_body(content = String, content_type = "application/json",
        description = "GitHub's report: a JSON array of {\"token\", \"type\", \"url\", \"source\"}, at most 1,000 entries and 1 MiB, signed with the headers Github-Public-Key-Identifier and Github-Public-Key-Signature"),
    responses(
        (status = 200, description = "Feedback: one {token_raw, token_type, label} per entry, label true_positive or false_positive"),
        (status = 400, description = "The body is not a report", body = super::error::ErrorBody),
        (status = 401, description = "Missing, unknown or wrong signature", body = super::error::ErrorBody),
        (status = 404, description = "No secret-scanning keys are configured", body = super::error::ErrorBody),
        (status = 413, description = "Over 1 MiB or 1,000 entries", body = super::error::ErrorBody),
        (status = 429, description = "Too many reports from this address", body = super::error::ErrorBody),
    )
)]
pub async fn report(
    req: HttpRequest,
    state: Data<AppState>,
    mut payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(keys) = &state.scanning_keys else {
        return Err(ApiError::NotFound);
    };
    let ip = client_ip(&req);
    // This instance's memory first (free), then the count every instance shares.
    let key = format!("scanning:{ip}");
    if !state.within_rate(&key, REPORTS_PER_MINUTE, Duration::from_secs(60)) {
        return Err(ApiError::TooManyRequests);
    }
    let now = state.now();
    let shared = state
        .store
        .run(move |conn| {
            throttles::hit(conn, &key, REPORTS_PER_MINUTE, TimeDelta::seconds(60), now)
        })
        .await?;
    if !shared {
        return Err(ApiError::TooManyRequests);
    }
    // Read at most the limit, so a larger body costs nothing past it.
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("The body could not be read: {e}")))?;
        if body.len() + chunk.len() > MAX_REPORT_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    keys.verify(
        header("Github-Public-Key-Identifier"),
        header("Github-Public-Key-Signature"),
        &body,
    )
    .map_err(|e| ApiError::BadSignature(e.to_string()))?;
    let entries = scanning::parse_report(&body).map_err(|e| match e {
        ScanningError::ReportTooLarge | ScanningError::ReportTooManyEntries { .. } => {
            ApiError::PayloadTooLarge
        }
        other => ApiError::BadRequest(format!("The body is not a secret-scanning report: {other}")),
    })?;

    let reports: Vec<ReportedSecret> = entries
        .iter()
        .map(|entry| ReportedSecret {
            token: entry.token.clone(),
            url: entry.url.clone(),
        })
        .collect();
    let (email, now) = (state.notifier.email_enabled(), state.now());
    let outcomes = state
        .store
        .run(move |conn| leaks::revoke_reported(conn, &reports, email, now))
        .await?;
    if outcomes.iter().any(|o| matches!(o, Reported::Revoked(_))) {
        // The owners should hear now, not at the next pass.
        state.send_notices_soon();
    }
    let feedback: Vec<Feedback> = entries
        .iter()
        .zip(&outcomes)
        .map(|(entry, outcome)| match outcome {
            Reported::NotOurs => Feedback::false_positive(entry),
            Reported::AlreadyDead | Reported::Revoked(_) => Feedback::true_positive(entry),
        })
        .collect();
    Ok(HttpResponse::Ok().json(feedback))
}
