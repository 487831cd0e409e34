//! `ApiCaller`, the extractor every API route takes: the bearer credential (parsed by
//! `auth::bearer`), one indexed lookup by digest, and the domain's verdict, answered in the API's
//! own errors (401 with a reason that says what to fix).

use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use crate::auth::{bearer, client_ip};
use crate::domain::credential::{Caller, Refusal};
use crate::domain::time;
use crate::state::AppState;
use crate::store::tokens;

/// A request authenticated by a personal token.
pub struct ApiCaller(pub Caller);

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = bearer::presented_digest(req.headers());
        let state = req.app_data::<Data<AppState>>().cloned();
        let ip = client_ip(req);
        Box::pin(async move {
            let digest = checked.map_err(|e| ApiError::InvalidToken(e.message()))?;
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
