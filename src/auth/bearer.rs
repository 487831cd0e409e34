//! `Authorization: Bearer <token>` for the API. Shape and checksum are checked before any
//! database work; then one indexed lookup by SHA-256 digest. No slow hash on this path, and the
//! presented token never reaches a log.

use actix_web::http::header::AUTHORIZATION;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures_util::future::LocalBoxFuture;

use crate::api::error::ApiError;
use crate::app::AppState;
use crate::domain::credential::{Caller, Refusal};
use crate::domain::time;
use crate::domain::token::{self, TokenDigest, TokenFormatError};
use crate::store::tokens;

/// A request authenticated by a personal token.
pub struct ApiCaller(pub Caller);

/// The token part of the header, or why there is none.
fn presented_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or(ApiError::InvalidToken(
            "Send the token as `Authorization: Bearer <token>`.",
        ))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::InvalidToken("The Authorization header is not readable text."))?;
    let (scheme, credentials) = value.split_once(' ').ok_or(ApiError::InvalidToken(
        "The Authorization header must be `Bearer <token>`.",
    ))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::InvalidToken(
            "The Authorization scheme must be Bearer.",
        ));
    }
    let credentials = credentials.trim();
    token::check_format(credentials).map_err(|error| match error {
        TokenFormatError::Shape => {
            ApiError::InvalidToken("The token is not a personal token (ptk_…).")
        }
        TokenFormatError::Checksum => ApiError::InvalidToken(
            "The token's checksum does not match: it was mistyped or cut short.",
        ),
    })?;
    Ok(credentials)
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = presented_token(req).map(TokenDigest::of);
        let state = req.app_data::<Data<AppState>>().cloned();
        let ip = super::client_ip(req);
        Box::pin(async move {
            let digest = checked?;
            let state = state.ok_or_else(|| ApiError::Internal("app state missing".into()))?;
            let now = time::now();
            let credential = state
                .store
                .run_quick(move |conn| tokens::find_credential_by_digest(conn, &digest))
                .await?
                .ok_or(ApiError::InvalidToken("The token is not valid."))?;
            let due = credential.last_use_due(now);
            let caller = credential.authorize(now).map_err(refused)?;
            if due {
                // A write, so the blocking pool even on SQLite: it may wait for the write lock.
                let id = caller.credential.token_id.clone();
                state
                    .store
                    .run(move |conn| tokens::record_use(conn, &id, now, &ip))
                    .await?;
            }
            Ok(ApiCaller(caller))
        })
    }
}

fn refused(refusal: Refusal) -> ApiError {
    ApiError::InvalidToken(match refusal {
        Refusal::Deleted => "The token was deleted.",
        Refusal::Expired => "The token has expired.",
        Refusal::IssuerInactive => "The token's owner is no longer active.",
    })
}
