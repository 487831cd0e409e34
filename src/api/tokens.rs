//! `/api/v1/tokens`: list, create, delete, with the same rules and limit as the pages.

use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDate;

use super::caller::{Allowed, ApiCaller, TokensRead, TokensWrite};
use super::dto::{
    CreateTokenRequest, CreatedTokenResponse, ListTokensQuery, RegenerateRequest, TokenDto,
    TokenListResponse,
};
use super::error::{ApiError, ErrorBody, page_number, unknown};
use crate::auth::client_ip;
use crate::domain::allowlist::IpAllowlist;
use crate::domain::credential::Caller;
use crate::domain::expiry::ExpiryChoice;
use crate::domain::scopes::{Access, Resource};
use crate::domain::secret::PlainToken;
use crate::domain::status::StatusFilter;
use crate::domain::tokens::{
    self as token_rules, NewTokenInput, NewTokenRequest, Refusal, Regeneration, TOKENS_PER_PAGE,
    TokenFilter, Visibility, every_error, name_search,
};
use crate::domain::{DomainError, Role, TokenId, UserId};
use crate::state::AppState;
use crate::store::tokens;

/// The id a path names, read after the caller's token was checked: a malformed id is 404, but
/// only once the token has had its 401 or 403. (A failing `Path` extractor would answer first,
/// while the credential check is still under way.)
fn path_id<T>(path: Option<Path<T>>) -> Result<T, ApiError> {
    path.map(Path::into_inner).ok_or(ApiError::NotFound)
}

impl ListTokensQuery {
    fn parse(&self) -> Result<(TokenFilter, i64), ApiError> {
        let issuer = match self.issuer.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(UserId::parse(raw).ok_or_else(|| unknown("issuer", raw))?),
        };
        let role = match self.role.as_deref() {
            None | Some("") | Some("all") => None,
            Some(raw) => Some(Role::parse(raw).ok_or_else(|| unknown("role", raw))?),
        };
        let status = match self.status.as_deref() {
            None => StatusFilter::All,
            Some(raw) => StatusFilter::parse(raw).ok_or_else(|| unknown("status", raw))?,
        };
        let page = page_number(self.page)?;
        let reaches = match self.scope.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(Resource::parse(raw).ok_or_else(|| unknown("scope", raw))?),
        };
        let filter = TokenFilter {
            issuer,
            role,
            status,
            name_contains: name_search(self.q.as_deref().unwrap_or_default()),
            reaches,
        };
        Ok((filter, page))
    }
}

/// Tokens the caller may see (an administrator's: the account's; anyone else's: their own),
/// newest first.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    params(ListTokensQuery),
    security(("bearer" = ["tokens:read"])),
    responses(
        (status = 200, description = "One page of tokens", body = TokenListResponse),
        (status = 400, description = "An unknown filter value", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
    )
)]
pub async fn list_tokens(
    state: Data<AppState>,
    Allowed(caller, _): Allowed<TokensRead>,
    query: Query<ListTokensQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = query.parse()?;
    let visibility = caller.visibility();
    let now = state.now();
    let listing = state
        .store
        .run(move |conn| {
            tokens::list_tokens(conn, &visibility, &filter, page, TOKENS_PER_PAGE, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(TokenListResponse {
        tokens: listing
            .tokens
            .iter()
            .map(|t| TokenDto::new(t, now))
            .collect(),
        page,
        per_page: TOKENS_PER_PAGE,
        total: listing.matching.value,
        total_exact: listing.matching.exact,
        live_in_account: listing.live_in_account.value,
        live_in_account_exact: listing.live_in_account.exact,
        max_tokens: listing.policy.max_tokens,
    }))
}

impl CreateTokenRequest {
    fn expiry(&self) -> Result<ExpiryChoice, DomainError> {
        let field = "expires_in_days";
        match (self.expires_in_days, self.expires_at.as_deref(), self.never) {
            (Some(0), None, false) => Err(DomainError::new(
                field,
                "expires_in_days must be at least 1.",
            )),
            (Some(days), None, false) => Ok(ExpiryChoice::Days(days)),
            (None, Some(date), false) => NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map(ExpiryChoice::Custom)
                .map_err(|_| {
                    DomainError::new("expires_at", "expires_at must be a date as YYYY-MM-DD.")
                }),
            (None, None, true) => Ok(ExpiryChoice::Never),
            (None, None, false) => Err(DomainError::new(
                field,
                "Give one of expires_in_days, expires_at or never: true.",
            )),
            _ => Err(DomainError::new(
                field,
                "Give only one of expires_in_days, expires_at or never: true.",
            )),
        }
    }
}

/// Creates a token for the calling token's owner. The answer holds the token itself, once.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    request_body = CreateTokenRequest,
    security(("bearer" = ["tokens:write"])),
    responses(
        (status = 201, description = "Created; `token` is shown only in this answer", body = CreatedTokenResponse),
        (status = 400, description = "The body is not JSON of this shape", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or its role is too low", body = ErrorBody),
        (status = 409, description = "The account's token limit is reached", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    )
)]
pub async fn create_token(
    req: HttpRequest,
    state: Data<AppState>,
    Allowed(caller, _): Allowed<TokensWrite>,
    body: Json<CreateTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let (access, scopes) = match &body.scopes {
        None => ("full", Vec::new()),
        Some(scopes) => ("scoped", scopes.clone()),
    };
    let input = NewTokenInput {
        expiry: body.expiry(),
        name: body.name.clone(),
        description: body.description.clone(),
        role: role_of(body.role).as_str().to_owned(),
        allowed_ips: body.allowed_ips.join(","),
        access: access.to_owned(),
        scopes,
    };
    let creator = caller.acting_user();
    let now = state.now();
    let request = match NewTokenRequest::parse(&input, creator.role, now) {
        Ok(request) => request,
        Err(errors) => {
            // The first of these and the error the account's policy adds, as the form shows.
            let account = creator.account_id.clone();
            let policy = state
                .store
                .run(move |conn| tokens::find_policy(conn, &account))
                .await?;
            return Err(Refusal::Invalid(every_error(errors, &input, &policy, now)).into());
        }
    };
    // A scoped token makes only tokens within its own scopes.
    request
        .access
        .within(&caller.credential.access, caller.effective_role)
        .map_err(|e| Refusal::Invalid(vec![e]))?;
    let (ip, secret) = (client_ip(&req), PlainToken::generate());
    let (outcome, secret) = state
        .store
        .run(move |conn| {
            let outcome =
                tokens::create_token(conn, &creator, &creator, &request, &secret, now, Some(&ip))?;
            Ok((outcome, secret))
        })
        .await?;
    Ok(new_secret(&secret, &outcome?, now))
}

/// 201 with a new secret, shown in this answer only (create and regenerate).
fn new_secret(
    secret: &PlainToken,
    token: &crate::domain::tokens::TokenRecord,
    now: chrono::NaiveDateTime,
) -> HttpResponse {
    HttpResponse::Created().json(CreatedTokenResponse {
        token: secret.expose().to_owned(),
        details: TokenDto::new(token, now),
    })
}

fn role_of(role: super::dto::RoleDto) -> Role {
    match role {
        super::dto::RoleDto::Admin => Role::Admin,
        super::dto::RoleDto::Engineer => Role::Engineer,
        super::dto::RoleDto::ReadOnly => Role::ReadOnly,
    }
}

/// One token the caller may see (an administrator's: any of the account's; anyone else's: their
/// own), whatever its status.
#[utoipa::path(
    get,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    security(("bearer" = ["tokens:read"])),
    responses(
        (status = 200, description = "The token", body = TokenDto),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
        (status = 403, description = "The token lacks the scope", body = ErrorBody),
        (status = 404, description = "No such token, or not one the caller may see", body = ErrorBody),
    )
)]
pub async fn get_token(
    state: Data<AppState>,
    Allowed(caller, _): Allowed<TokensRead>,
    id: Option<Path<TokenId>>,
) -> Result<HttpResponse, ApiError> {
    let (id, visibility, now) = (path_id(id)?, caller.visibility(), state.now());
    let token = state
        .store
        .run(move |conn| tokens::find_token(conn, &visibility, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(TokenDto::new(&token, now)))
}

/// Deletes a token (the row stays, with status `deleted`); it stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    security(("bearer" = ["tokens:write"])),
    responses(
        (status = 200, description = "Deleted", body = TokenDto),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or its role is too low", body = ErrorBody),
        (status = 404, description = "No such token, or not one the caller may see", body = ErrorBody),
        (status = 409, description = "Already deleted", body = ErrorBody),
    )
)]
pub async fn delete_token(
    req: HttpRequest,
    state: Data<AppState>,
    Allowed(caller, _): Allowed<TokensWrite>,
    id: Option<Path<TokenId>>,
) -> Result<HttpResponse, ApiError> {
    let (id, actor, ip, now) = (
        path_id(id)?,
        caller.acting_user(),
        client_ip(&req),
        state.now(),
    );
    let deleted = state
        .store
        .run(move |conn| tokens::delete_token(conn, &actor, &id, now, Some(&ip)))
        .await??;
    Ok(HttpResponse::Ok().json(TokenDto::new(&deleted, now)))
}

/// Suspends a token: refused with 401 at once, until resumed; its expiry clock keeps running.
#[utoipa::path(
    post,
    path = "/api/v1/tokens/{id}/suspend",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    security(("bearer" = ["tokens:write"])),
    responses(
        (status = 200, description = "Suspended (or already so)", body = TokenDto),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or its role is too low", body = ErrorBody),
        (status = 404, description = "No such token, or not one the caller may see", body = ErrorBody),
        (status = 409, description = "Deleted or expired", body = ErrorBody),
    )
)]
pub async fn suspend_token(
    req: HttpRequest,
    state: Data<AppState>,
    Allowed(caller, _): Allowed<TokensWrite>,
    id: Option<Path<TokenId>>,
) -> Result<HttpResponse, ApiError> {
    change_suspension(req, state, caller, path_id(id)?, true).await
}

/// Resumes a suspended token.
#[utoipa::path(
    post,
    path = "/api/v1/tokens/{id}/resume",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    security(("bearer" = ["tokens:write"])),
    responses(
        (status = 200, description = "Resumed (or already active)", body = TokenDto),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or its role is too low", body = ErrorBody),
        (status = 404, description = "No such token, or not one the caller may see", body = ErrorBody),
        (status = 409, description = "Deleted or expired", body = ErrorBody),
    )
)]
pub async fn resume_token(
    req: HttpRequest,
    state: Data<AppState>,
    Allowed(caller, _): Allowed<TokensWrite>,
    id: Option<Path<TokenId>>,
) -> Result<HttpResponse, ApiError> {
    change_suspension(req, state, caller, path_id(id)?, false).await
}

async fn change_suspension(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    id: TokenId,
    suspend: bool,
) -> Result<HttpResponse, ApiError> {
    let (actor, ip, now) = (caller.acting_user(), client_ip(&req), state.now());
    let (token, _changed) = state
        .store
        .run(move |conn| tokens::set_suspended(conn, &actor, &id, suspend, now, Some(&ip)))
        .await??;
    Ok(HttpResponse::Ok().json(TokenDto::new(&token, now)))
}

/// Replaces a token's secret; the new one is in `token`, shown only in this answer. With
/// `overlap_hours` (0, 1, 24 or 168) the old secret keeps working that long.
#[utoipa::path(
    post,
    path = "/api/v1/tokens/{id}/regenerate",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    request_body = RegenerateRequest,
    security(("bearer" = ["tokens:write"])),
    responses(
        (status = 201, description = "The new token; `token` is shown only in this answer", body = CreatedTokenResponse),
        (status = 400, description = "The body is not JSON of this shape", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or its role is too low", body = ErrorBody),
        (status = 404, description = "No such token, or not one the caller may see", body = ErrorBody),
        (status = 409, description = "Deleted, or the account's limit is reached", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    )
)]
pub async fn regenerate_token(
    req: HttpRequest,
    state: Data<AppState>,
    Allowed(caller, _): Allowed<TokensWrite>,
    id: Option<Path<TokenId>>,
    body: Json<RegenerateRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(id)?;
    let overlap = token_rules::overlap(&body.overlap_hours.to_string()).map_err(|error| {
        ApiError::Invalid {
            field: "overlap_hours",
            message: error.message,
        }
    })?;
    let allowed_ips = match &body.allowed_ips {
        None => None,
        Some(list) => {
            Some(IpAllowlist::parse(&list.join(",")).map_err(|e| Refusal::Invalid(vec![e]))?)
        }
    };
    // The successor keeps the old token's role, so its scopes are checked against that role in
    // the plan; here only their shape, within the caller's own ceiling.
    let access = match &body.scopes {
        None => None,
        Some(None) => Some(Access::Full),
        Some(Some(scopes)) => Some(
            Access::parse_scopes(scopes.iter().map(String::as_str), caller.effective_role)
                .map_err(|e| Refusal::Invalid(vec![e]))?,
        ),
    };
    let how = Regeneration {
        allowed_ips,
        overlap,
        access,
        actor_access: caller.credential.access.clone(),
    };
    let (actor, ip, now) = (caller.acting_user(), client_ip(&req), state.now());
    let secret = PlainToken::generate();
    let (outcome, secret) = state
        .store
        .run(move |conn| {
            let outcome =
                tokens::regenerate_token(conn, &actor, &id, &secret, &how, now, Some(&ip))?;
            Ok((outcome, secret))
        })
        .await?;
    Ok(new_secret(&secret, &outcome?, now))
}

/// The calling token itself, as the list shows it. Any token may read itself.
#[utoipa::path(
    get,
    path = "/api/v1/tokens/self",
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The calling token", body = TokenDto),
        (status = 401, description = "Missing, malformed, unknown, expired, suspended or deleted token", body = ErrorBody),
    )
)]
pub async fn token_self(
    state: Data<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<HttpResponse, ApiError> {
    let visibility = Visibility::Account(caller.credential.issuer.account_id.clone());
    let (id, now) = (caller.credential.token_id.clone(), state.now());
    let token = state
        .store
        .run(move |conn| tokens::find_token(conn, &visibility, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(TokenDto::new(&token, now)))
}
