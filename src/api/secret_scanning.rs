//! `POST /api/v1/secret-scanning`: GitHub's secret-scanning partner reports. No bearer token:
//! the body is signed by a key the operator configured (`SECRET_SCANNING_KEYS`; unset, the
//! endpoint is 404). Every reported string that is a live token here is revoked at once, and its
//! issuer and the account's administrators hear where it was found. The answer is GitHub's
//! feedback array and nothing else; nothing reported is logged.

use std::time::Duration;

use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::error::ApiError;
use crate::auth::client_ip;
use crate::auth::scanning::{self, Feedback, MAX_REPORT_BYTES, ScanningError};
use crate::domain::notice::NoticeKind;
use crate::domain::time;
use crate::domain::token::{self, TokenDigest};
use crate::state::AppState;
use crate::store::notices;
use crate::store::tokens::{self, Reported};

/// Reports per client address per minute; GitHub sends far fewer.
const REPORTS_PER_MINUTE: u32 = 60;
/// A reported URL is shown and stored; beyond this it is cut.
const URL_MAX_CHARS: usize = 500;

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
    if !state.within_rate(
        &format!("scanning:{ip}"),
        REPORTS_PER_MINUTE,
        Duration::from_secs(60),
    ) {
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

    let email = state.notifier.email_enabled();
    let feedback = {
        let entries = entries.clone();
        state
            .store
            .run(move |conn| {
                let now = time::now();
                let mut feedback = Vec::with_capacity(entries.len());
                for entry in &entries {
                    // A string that is not even shaped like our tokens costs no query.
                    let reported = match token::check_format(entry.token.trim()) {
                        Err(_) => Reported::NotOurs,
                        Ok(()) => {
                            let digest = TokenDigest::of(entry.token.trim());
                            let url = clean_url(&entry.url);
                            let reported = tokens::revoke_reported(conn, &digest, &url, now)?;
                            if let Reported::Revoked(id) = &reported {
                                let kind = NoticeKind::Leaked { url };
                                notices::claim_token_notice(conn, id, &kind, email, now)?;
                            }
                            reported
                        }
                    };
                    feedback.push(match reported {
                        Reported::NotOurs => Feedback::false_positive(entry),
                        Reported::AlreadyDead | Reported::Revoked(_) => {
                            Feedback::true_positive(entry)
                        }
                    });
                }
                Ok(feedback)
            })
            .await?
    };
    if email {
        // The owners should hear now, not at the next pass; a failure waits for that pass.
        let (notifier, store) = (state.notifier.clone(), state.store.clone());
        actix_web::rt::spawn(async move {
            let sent =
                tokio::task::spawn_blocking(move || notifier.send_due(&store, time::now())).await;
            if let Ok(Err(error)) = sent {
                tracing::warn!(%error, "sending leak notices failed; the next pass retries");
            }
        });
    }
    Ok(HttpResponse::Ok().json(feedback))
}

/// The reported URL as shown to people: no control characters (Postgres text cannot even hold
/// NUL), at most `URL_MAX_CHARS`, and "an unknown place" when GitHub sent none.
fn clean_url(raw: &str) -> String {
    let url = crate::domain::name::printable(raw, URL_MAX_CHARS);
    if url.is_empty() {
        "an unknown place".to_owned()
    } else {
        url
    }
}
