//! Verifying tokens for the account's own services (product.md §10): forward auth for a reverse
//! proxy (`GET /auth/verify`) and RFC 7662 introspection (`POST /api/v1/introspect`). Both are
//! a use of the checked token like any API call: every rule of `caller::check` applies.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::caller::{self, Allowed, IntrospectRead, user_agent};
use super::error::{ApiError, ErrorBody};
use crate::auth::bearer::{self, BearerError};
use crate::auth::client_addr;
use crate::domain::credential::Caller;
use crate::domain::scopes::{MAX_SCOPES, Scope};
use crate::domain::secret::{self, TokenDigest};
use crate::metrics::{BearerOutcome, METRICS};
use crate::state::AppState;

/// The scopes a proxy asks for (`scope=`, repeatable), all of which must be held.
fn asked_scopes(query: &str) -> Result<Vec<Scope>, ApiError> {
    let asked: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, value)| key == "scope" && !value.trim().is_empty())
        .map(|(_, value)| value.trim().to_owned())
        .collect();
    if asked.len() > MAX_SCOPES {
        return Err(ApiError::BadRequest(format!(
            "Ask for at most {MAX_SCOPES} scopes; {} were asked.",
            asked.len()
        )));
    }
    asked
        .iter()
        .map(|raw| Scope::parse(raw).map_err(|e| ApiError::BadRequest(e.message)))
        .collect()
}

/// The answer's headers: who is calling, for the service behind the proxy.
fn identity_headers(caller: &Caller, response: &mut actix_web::HttpResponseBuilder) {
    let credential = &caller.credential;
    response
        .insert_header(("X-Auth-User", credential.issuer.username.as_str()))
        .insert_header(("X-Auth-User-Id", credential.issuer.id.as_str()))
        .insert_header(("X-Auth-Account", credential.issuer.account_name.as_str()))
        .insert_header(("X-Auth-Token-Id", credential.token_id.as_str()))
        .insert_header(("X-Auth-Role", caller.effective_role.as_str()))
        .insert_header(("X-Auth-Scopes", caller.granted().scope_string()));
}

/// Forward auth: 200 with the caller's identity in headers when the token is good and holds
/// every `scope` asked for; 401 or 403 with RFC 6750's challenge otherwise. Reads no body and
/// no cookie. Every method of a call a proxy may check is answered alike.
#[utoipa::path(
    method(get, head, post, put, patch, delete),
    path = "/auth/verify",
    tag = "verify",
    params(("scope" = Option<Vec<String>>, Query, description = "`RESOURCE:LEVEL`, repeatable: all must be held")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Good; the X-Auth-* headers say who is calling"),
        (status = 400, description = "A malformed scope was asked for", body = ErrorBody),
        (status = 401, description = "No token, or a bad, expired, suspended or deleted one", body = ErrorBody),
        (status = 403, description = "A scope is not held, or the address is outside the allowlist", body = ErrorBody),
    )
)]
pub async fn forward_auth(
    req: HttpRequest,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // The credential first: a caller without one hears 401 whatever the proxy asked for.
    let digest = match bearer::presented_digest(req.headers()) {
        Ok(digest) => digest,
        Err(BearerError::Missing) => return Err(ApiError::Unauthenticated),
        Err(error) => {
            METRICS.bearer(BearerOutcome::Invalid);
            return Err(ApiError::InvalidToken(error.message()));
        }
    };
    let caller = caller::check(&state, digest, client_addr(&req), user_agent(&req)).await?;
    let asked = asked_scopes(req.query_string())?;
    if let Some(missing) = asked.iter().find(|scope| !caller.may(scope)) {
        return Err(caller::insufficient(&caller, missing));
    }
    let mut response = HttpResponse::Ok();
    identity_headers(&caller, &mut response);
    Ok(response.finish())
}

/// RFC 7662 §2.2: an active token's members, plus the account and the effective role.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The user's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The token's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Seconds since the epoch; absent for a token that never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
}

impl Introspection {
    /// Every inactive case answers exactly this, so a probe learns nothing.
    fn inactive() -> Self {
        Self {
            active: false,
            scope: None,
            username: None,
            sub: None,
            client_id: None,
            token_type: None,
            exp: None,
            iat: None,
            iss: None,
            account: None,
            role: None,
        }
    }
}

/// The `token` field of a form body, if it is a well-formed personal token.
fn presented_token(req: &HttpRequest, body: &[u8]) -> Result<Option<TokenDigest>, ApiError> {
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(ApiError::BadRequest(
            "Send the token to introspect as a form field `token` \
             (application/x-www-form-urlencoded), as RFC 7662 asks."
                .into(),
        ));
    }
    let token = url::form_urlencoded::parse(body)
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned());
    Ok(token
        .filter(|token| secret::check_format(token).is_ok())
        .map(|token| TokenDigest::of(&token)))
}

/// RFC 7662 introspection of another token of the caller's account. The caller's token needs
/// `introspect:read`. Every inactive case is `{"active": false}` with 200.
#[utoipa::path(
    post,
    path = "/api/v1/introspect",
    tag = "verify",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`token=ptk_…` (and an ignored `token_type_hint`)"),
    security(("bearer" = ["introspect:read"])),
    responses(
        (status = 200, description = "The token's standing", body = Introspection),
        (status = 400, description = "The body is not a form", body = ErrorBody),
        (status = 401, description = "The caller's own token is not valid", body = ErrorBody),
        (status = 403, description = "The caller's token lacks introspect:read", body = ErrorBody),
    )
)]
pub async fn introspect(
    req: HttpRequest,
    state: Data<AppState>,
    Allowed(caller, _): Allowed<IntrospectRead>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(digest) = presented_token(&req, &body)? else {
        return Ok(HttpResponse::Ok().json(Introspection::inactive()));
    };
    let inactive = || Ok(HttpResponse::Ok().json(Introspection::inactive()));
    let Some(found) = state.store.find_credential(digest).await? else {
        return inactive();
    };
    // Another account's token is not even looked at further: nothing of it is recorded. Nor is
    // a token with an allowlist: its caller's address is not known here, so it is inactive, as
    // to any call from an unknown address, without a refusal in its account's log.
    if found.issuer.account_id != caller.credential.issuer.account_id
        || !found.allowed_ips.is_empty()
    {
        return inactive();
    }
    let checked = match caller::check_found(&state, found, None, String::new()).await {
        Ok(checked) => checked,
        Err(ApiError::Unavailable(error)) => return Err(ApiError::Unavailable(error)),
        Err(_) => return inactive(),
    };
    let issuer = &checked.credential.issuer;
    let credential = &checked.credential;
    // An old secret in a rotation's overlap stops at its deletion time, before its expiry.
    let ends = [credential.expires_at, credential.deleted_at]
        .into_iter()
        .flatten()
        .min();
    Ok(HttpResponse::Ok().json(Introspection {
        active: true,
        scope: Some(checked.granted().scope_string()),
        username: Some(issuer.username.clone()),
        sub: Some(issuer.id.to_string()),
        client_id: Some(credential.token_id.to_string()),
        token_type: Some("bearer"),
        exp: ends.map(|at| at.and_utc().timestamp()),
        iat: Some(credential.created_at.and_utc().timestamp()),
        // PUBLIC_URL only: a name a service can pin, never one a caller's headers chose.
        iss: state.public_url.clone(),
        account: Some(issuer.account_name.clone()),
        role: Some(checked.effective_role.as_str()),
    }))
}
