//! The dashboard's one error type and its one mapping to responses. Causes go to the log; users
//! see a fixed message that says what to do.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::layout::Layout;
use crate::auth::password::HashError;
use crate::auth::session::SessionError;
use crate::domain::tokens::Refusal;
use crate::observe::error_chain;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("sign-in required")]
    SignInRequired,
    #[error("too many failed sign-in attempts")]
    TooManyAttempts,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A sign-in through the identity provider that did not work: the words say why and what to
    /// do; nothing secret is in them.
    #[error("single sign-on failed: {message}")]
    Sso { status: StatusCode, message: String },
    /// The database is not answering; the cause goes to the log.
    #[error("database unavailable")]
    Unavailable(#[source] StoreError),
    /// Anything else that failed inside; the whole cause chain goes to the log.
    #[error("request failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            Self::Unavailable(error)
        } else {
            Self::Internal(Box::new(error))
        }
    }
}

impl From<SessionError> for WebError {
    fn from(error: SessionError) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<HashError> for WebError {
    fn from(error: HashError) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<actix_web::error::BlockingError> for WebError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Internal(Box::new(error))
    }
}

/// The status a page answers a refused token action with, when it shows the form again; the
/// words are the refusal's own (`Refusal::message`), as in the API.
pub fn refusal_status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::NotFound => StatusCode::NOT_FOUND,
        Refusal::Invalid(_) => StatusCode::BAD_REQUEST,
        Refusal::AboveYourRole { .. } => StatusCode::FORBIDDEN,
        Refusal::LimitReached { .. }
        | Refusal::Deleted { .. }
        | Refusal::AlreadyDeleted { .. }
        | Refusal::NotLive { .. } => StatusCode::CONFLICT,
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    heading: &'a str,
    message: &'a str,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::SignInRequired => StatusCode::SEE_OTHER,
            Self::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Sso { status, .. } => *status,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (heading, message) = match self {
            Self::SignInRequired => {
                return HttpResponse::SeeOther()
                    .insert_header((LOCATION, "/login"))
                    .finish();
            }
            Self::Csrf => {
                // Plain text on purpose: a forged request deserves no page chrome.
                return HttpResponse::Forbidden()
                    .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
                    .insert_header((CACHE_CONTROL, "no-store"))
                    .body(
                        "Forbidden: this form's security token is missing or out of date. \
                         Nothing was changed. Go back, reload the page and try again.",
                    );
            }
            Self::NotFound => (
                "Page not found",
                "There is nothing here, or you may not see it.",
            ),
            Self::TooManyAttempts => (
                "Too many attempts",
                "Too many failed sign-in attempts. Wait 15 minutes and try again.",
            ),
            Self::BadRequest(message) => ("Bad request", message.as_str()),
            Self::Sso { message, .. } => ("Single sign-on did not work", message.as_str()),
            Self::Unavailable(cause) => {
                tracing::warn!(cause = %error_chain(cause), "database unavailable");
                (
                    "Temporarily unavailable",
                    "The database is not answering. Nothing was changed; try again in a moment.",
                )
            }
            Self::Internal(cause) => {
                tracing::error!(cause = %error_chain(cause.as_ref()), "request failed");
                (
                    "Something went wrong",
                    "The server could not complete this request. Nothing secret was lost; try again in a moment.",
                )
            }
        };
        let page = ErrorPage {
            layout: Layout::bare(heading),
            heading,
            message,
        };
        let body = page.render().unwrap_or_else(|_| message.to_owned());
        HttpResponse::build(self.status_code())
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((CACHE_CONTROL, "no-store"))
            .body(body)
    }
}
