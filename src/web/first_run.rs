//! First run: while no user exists, every page leads to /setup.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Data;

use crate::state::AppState;

/// Paths that work before setup: setup itself, health checks, assets, and the API (which has
/// no tokens to accept yet and answers 401 on its own).
fn works_before_setup(path: &str) -> bool {
    path == "/setup"
        || path == "/healthz"
        || path == "/readyz"
        || path == "/favicon.ico"
        || path.starts_with("/static/")
        || path.starts_with("/api/")
}

pub async fn lead_to_setup(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if works_before_setup(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let state = req.app_data::<Data<AppState>>().cloned();
    if let Some(state) = state {
        // A database that is down is answered here (503), not raised: an error would bypass
        // the outer middleware that stamps the request id on every answer.
        match state.setup_is_done().await {
            Ok(true) => {}
            Ok(false) => return Ok(req.into_response(super::see_other("/setup"))),
            Err(error) => return Ok(req.error_response(super::WebError::from(error))),
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}
