//! `GET /login/sso` and `GET /login/sso/callback`: signing in through the company's identity
//! provider (product.md §11). Both are 404 when OIDC is not configured. Every failure is a page
//! that says what happened, logged without secrets (no code, token or state).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::login::begin_session;
use super::{WebError, see_other};
use crate::auth::oidc::OidcError;
use crate::auth::{client_ip, session};
use crate::state::AppState;
use crate::store::sso::{self, SsoSignIn};

fn failed(status: StatusCode, message: impl Into<String>) -> WebError {
    let message = message.into();
    tracing::warn!(%message, "single sign-on failed");
    WebError::Sso { status, message }
}

fn provider_failed(error: OidcError) -> WebError {
    let status = match error {
        OidcError::Unavailable(_) => StatusCode::BAD_GATEWAY,
        OidcError::Refused(_) | OidcError::Invalid(_) => StatusCode::BAD_REQUEST,
    };
    failed(
        status,
        format!("{error}. Try again, or sign in with your password if you have one."),
    )
}

/// Sends the person to the provider, keeping `state`, `nonce` and the PKCE verifier in the
/// session until they come back.
pub async fn start(state: Data<AppState>, session: Session) -> Result<HttpResponse, WebError> {
    let sso = state.sso.as_ref().ok_or(WebError::NotFound)?;
    let (url, pending) = sso.oidc.begin().await.map_err(provider_failed)?;
    session::stash_sso(&session, &pending)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, url))
        .finish())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider's answer: the code is exchanged, the ID token verified, the person found or
/// made, and signed in.
pub async fn callback(
    req: HttpRequest,
    state: Data<AppState>,
    session: Session,
    query: Result<Query<Callback>, actix_web::Error>,
) -> Result<HttpResponse, WebError> {
    let sso = state.sso.as_ref().ok_or(WebError::NotFound)?;
    // Taken whatever comes next: a second use of this answer finds nothing to finish.
    let pending = session::take_sso(&session);
    let query = query
        .map_err(|_| {
            failed(
                StatusCode::BAD_REQUEST,
                "The provider's answer could not be read.",
            )
        })?
        .into_inner();
    if let Some(error) = &query.error {
        let why = query.error_description.as_deref().unwrap_or(error);
        let why = crate::domain::name::printable(why, 200);
        return Err(failed(
            StatusCode::BAD_REQUEST,
            format!("The identity provider did not sign you in: {why}."),
        ));
    }
    let Some(pending) = pending else {
        return Err(failed(
            StatusCode::BAD_REQUEST,
            "No sign-in was in progress in this browser (it may have been used already). Start \
             again from the sign-in page.",
        ));
    };
    let sent = query.state.unwrap_or_default();
    if !bool::from(sent.as_bytes().ct_eq(pending.state.as_bytes())) {
        return Err(failed(
            StatusCode::BAD_REQUEST,
            "This answer does not belong to the sign-in this browser started. Start again from \
             the sign-in page.",
        ));
    }
    let code = query
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| failed(StatusCode::BAD_REQUEST, "The provider sent no code."))?;
    let now = state.now();
    let finished = sso
        .oidc
        .finish(&code, &pending, now)
        .await
        .map_err(provider_failed)?;
    let (account, issuer) = (sso.account.clone(), sso.oidc.issuer().to_owned());
    let ip = client_ip(&req);
    let outcome = state
        .store
        .run(move |conn| {
            let refresh = finished.sealed_refresh.as_deref();
            sso::sign_in(conn, &account, &issuer, &finished.person, refresh, &ip, now)
        })
        .await?;
    match outcome {
        SsoSignIn::SignedIn(user) => {
            begin_session(&state, &session, &user).await?;
            Ok(see_other("/tokens"))
        }
        SsoSignIn::Deactivated => Err(failed(
            StatusCode::FORBIDDEN,
            "Your account here is deactivated. An administrator can reactivate it.",
        )),
    }
}
