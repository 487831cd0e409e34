//! The administrators' pages (users, policy, audit log) sit behind `admin_only`: anyone else gets
//! 404 on every route and method, before any other extractor (CSRF included) can answer, so the
//! pages' existence leaks nothing. Handlers then take `AdminUser`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use futures_util::future::{Ready, ready};

use super::{CurrentUser, WebError};
use crate::domain::Role;

/// The signed-in administrator of this request, as `admin_only` found them.
pub struct AdminUser(pub CurrentUser);

pub async fn admin_only(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Refusals are answers, not errors: an error would bypass the outer middleware that
    // stamps the request id on every answer.
    let current = match req.extract::<CurrentUser>().await {
        Ok(current) => current,
        Err(refusal) => return Ok(req.error_response(refusal)),
    };
    if current.user.role != Role::Admin {
        return Ok(req.error_response(WebError::NotFound));
    }
    req.extensions_mut().insert(AdminUser(current));
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

impl FromRequest for AdminUser {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Absent only on a route registered without `admin_only`: refuse rather than trust it.
        ready(
            req.extensions_mut()
                .remove::<AdminUser>()
                .ok_or(WebError::NotFound),
        )
    }
}
