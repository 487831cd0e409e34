//! What operators see of each request: a request id (the caller's `X-Request-Id` when it is
//! sane, else one made here, returned either way), a span carrying it so every log line of the
//! request names it, one access line when it is answered, and its HTTP metrics; and how a
//! failure's cause chain is logged. Wraps both `web` and `api` and imports neither: only `app`
//! mounts it. `/metrics` itself is `metrics_page`.
//! Nothing here logs a path's values, a header or a body, so no secret can pass through it.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use crate::metrics::METRICS;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest caller-supplied request id kept; anything longer or odder is replaced.
const REQUEST_ID_MAX: usize = 64;

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(req.headers());
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id, method = %method);
    let result = next.call(req).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let route = response.request().match_pattern();
            let route = route.as_deref().unwrap_or("unmatched");
            METRICS.http(route, method.as_str(), status, seconds);
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            span.in_scope(|| access_line(&id, route, status, seconds));
            Ok(response)
        }
        Err(error) => {
            let status = error.as_response_error().status_code().as_u16();
            METRICS.http("unmatched", method.as_str(), status, seconds);
            span.in_scope(|| access_line(&id, "unmatched", status, seconds));
            Err(error)
        }
    }
}

/// The id is a field of the line itself, not only of the request's span: a filter such as
/// `RUST_LOG=warn,personal_tokens::access=info` keeps the line but drops the span.
fn access_line(request_id: &str, route: &str, status: u16, seconds: f64) {
    let latency_ms = (seconds * 1_000_000.0).round() / 1000.0;
    tracing::info!(
        target: "personal_tokens::access",
        request_id,
        route,
        status,
        latency_ms,
        "answered"
    );
}

/// The caller's id when it is 1–64 characters of `[A-Za-z0-9._:-]` (what proxies and tracing
/// systems send), so a request can be followed across services; otherwise a new one. Anything
/// else is dropped rather than cleaned, so a log line never carries what a client typed.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=REQUEST_ID_MAX).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        })
        .map_or_else(new_request_id, str::to_owned)
}

/// A random per-process prefix and a counter: unique across instances, no syscall per request.
fn new_request_id() -> String {
    static PREFIX: LazyLock<u32> = LazyLock::new(rand::random);
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:08x}-{:x}", *PREFIX, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// An error and every cause under it, one line: "request failed: database query failed: …".
/// Every log line that reports a failure writes it so, never the top error alone.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let text = next.to_string();
        // thiserror's `{0}` messages already end with their source's words.
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = next.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_id(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_error_chain_names_every_cause_once() {
        let error = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(error_chain(&error), "outer: disk on fire");
    }

    #[test]
    fn a_sane_caller_id_is_kept_and_anything_else_replaced() {
        assert_eq!(request_id(&with_id("abc-123_x.y:z")), "abc-123_x.y:z");
        for odd in ["", "has space", "quote\"", &"x".repeat(65), "ptk_ ok"] {
            let made = request_id(&with_id(odd));
            assert_ne!(made, odd);
            assert!(made.contains('-') && made.len() <= 25, "{made}");
        }
        assert_ne!(
            request_id(&HeaderMap::new()),
            request_id(&HeaderMap::new()),
            "each made id is new"
        );
    }
}
