//! `GET /api/v1/me`: who the token speaks for.

use actix_web::HttpResponse;

use super::caller::ApiCaller;
use super::dto::MeResponse;
use super::error::{ApiError, ErrorBody};

/// The account, user and token behind this request.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
    )
)]
pub async fn me(ApiCaller(caller): ApiCaller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(MeResponse::new(&caller)))
}
