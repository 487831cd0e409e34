//! The API's one error type and its one mapping: a status, a `WWW-Authenticate` challenge where
//! RFC 6750 wants one, and a JSON body `{"error": "...", "message": "..."}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::tokens::Refusal;
use crate::observe::error_chain;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed, unknown, expired or deleted token.
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// No credentials at all, where RFC 6750 §3.1 wants a bare challenge (forward auth).
    #[error("no credentials")]
    Unauthenticated,
    /// The token's scopes or role do not reach this call; `needed` is the scope it would take
    /// (none where no scope would do, such as acting on a token of a higher role).
    #[error("insufficient scope: {message}")]
    InsufficientScope {
        needed: Option<String>,
        message: String,
    },
    /// The token's allowlist does not include the client's address.
    #[error("address not allowed")]
    IpNotAllowed,
    #[error("too many requests")]
    TooManyRequests,
    /// A secret-scanning report whose signature is missing or does not verify.
    #[error("bad signature: {0}")]
    BadSignature(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("not found")]
    NotFound,
    /// The payload lists the methods the path has, for the `Allow` header.
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Scopes that are unknown, malformed or above the role's ceiling: 400 `invalid_scope`, as
    /// OAuth 2.0 (RFC 6749 §5.2) answers a token request for such scopes.
    #[error("invalid scope: {0}")]
    InvalidScope(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unprocessable: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The database is not answering; the cause goes to the log.
    #[error("database unavailable")]
    Unavailable(#[source] StoreError),
    /// Anything else that failed inside; the whole cause chain goes to the log.
    #[error("API request failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `unauthenticated` (forward auth with no token), `invalid_token`,
    /// `insufficient_scope`, `ip_not_allowed`, `not_found`, `method_not_allowed`,
    /// `bad_request`, `invalid_scope`, `conflict`, `invalid_field`, `too_many_requests`,
    /// `invalid_signature`, `payload_too_large`, `unavailable`, `internal`.
    pub error: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault, for `invalid_field` and `invalid_scope`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

/// A query value the API does not know: 400, naming it.
pub fn unknown(what: &str, value: &str) -> ApiError {
    ApiError::BadRequest(format!("Unknown {what} `{value}`."))
}

/// The `page` of a listing: from 1, absent is 1.
pub fn page_number(page: Option<i64>) -> Result<i64, ApiError> {
    match page.unwrap_or(1) {
        page if page >= 1 => Ok(page),
        _ => Err(ApiError::BadRequest("`page` counts from 1.".into())),
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            Self::Unavailable(error)
        } else {
            Self::Internal(Box::new(error))
        }
    }
}

/// A refused token action as the API answers it, in the refusal's own words (the pages use the
/// same). The API names the form's `expires_in` field `expires_in_days`.
impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let message = refusal.message();
        match refusal {
            Refusal::NotFound => Self::NotFound,
            Refusal::Invalid(errors) => match errors.into_iter().next() {
                Some(error) if matches!(error.field, "scopes" | "access") => {
                    Self::InvalidScope(error.message)
                }
                Some(error) => Self::Invalid {
                    field: match error.field {
                        "expires_in" => "expires_in_days",
                        field => field,
                    },
                    message: error.message,
                },
                None => Self::BadRequest("The token was refused.".into()),
            },
            Refusal::AboveYourRole { .. } => Self::InsufficientScope {
                needed: None,
                message,
            },
            Refusal::LimitReached { .. }
            | Refusal::Deleted { .. }
            | Refusal::AlreadyDeleted { .. }
            | Refusal::NotLive { .. } => Self::Conflict(message),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidToken(_) | Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::IpNotAllowed => StatusCode::FORBIDDEN,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::BadSignature(_) => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) | Self::InvalidScope(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (error, message, field) = match self {
            Self::InvalidToken(message) => ("invalid_token", (*message).to_owned(), None),
            Self::Unauthenticated => (
                "unauthenticated",
                "Send a personal token as `Authorization: Bearer <token>`.".to_owned(),
                None,
            ),
            Self::InsufficientScope { message, .. } => {
                ("insufficient_scope", message.clone(), None)
            }
            Self::IpNotAllowed => (
                "ip_not_allowed",
                "This token may not be used from your address.".to_owned(),
                None,
            ),
            Self::TooManyRequests => (
                "too_many_requests",
                "Too many requests from your address; try again in a minute.".to_owned(),
                None,
            ),
            Self::BadSignature(message) => ("invalid_signature", message.clone(), None),
            Self::PayloadTooLarge => (
                "payload_too_large",
                "The body is larger than this endpoint accepts.".to_owned(),
                None,
            ),
            Self::NotFound => (
                "not_found",
                "No such token, or you may not see it.".to_owned(),
                None,
            ),
            Self::MethodNotAllowed(allow) => (
                "method_not_allowed",
                format!("This path answers only {allow}."),
                None,
            ),
            Self::BadRequest(message) => ("bad_request", message.clone(), None),
            Self::InvalidScope(message) => ("invalid_scope", message.clone(), Some("scopes")),
            Self::Conflict(message) => ("conflict", message.clone(), None),
            Self::Invalid { field, message } => ("invalid_field", message.clone(), Some(*field)),
            Self::Unavailable(cause) => {
                tracing::warn!(cause = %error_chain(cause), "database unavailable");
                (
                    "unavailable",
                    "The database is not answering; try again in a moment.".to_owned(),
                    None,
                )
            }
            Self::Internal(cause) => {
                tracing::error!(cause = %error_chain(cause.as_ref()), "API request failed");
                (
                    "internal",
                    "The server could not complete this request.".to_owned(),
                    None,
                )
            }
        };
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((CACHE_CONTROL, "no-store"));
        match self {
            Self::InvalidToken(_) => {
                response.insert_header((WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
            }
            Self::Unauthenticated => {
                response.insert_header((WWW_AUTHENTICATE, "Bearer"));
            }
            Self::InsufficientScope { needed, .. } => {
                crate::metrics::METRICS.bearer(crate::metrics::BearerOutcome::Forbidden);
                // RFC 6750 §3: the scope the call needs, so a client can ask for the right token.
                let challenge = match needed {
                    Some(scope) => format!(r#"Bearer error="insufficient_scope", scope="{scope}""#),
                    None => r#"Bearer error="insufficient_scope""#.to_owned(),
                };
                response.insert_header((WWW_AUTHENTICATE, challenge));
            }
            Self::MethodNotAllowed(allow) => {
                response.insert_header((actix_web::http::header::ALLOW, *allow));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error,
            message,
            field,
        })
    }
}
