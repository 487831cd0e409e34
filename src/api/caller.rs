//! `ApiCaller`, the extractor every API route takes: the bearer credential (parsed by
//! `auth::bearer`), one indexed lookup by digest, and the domain's verdict, answered in the API's
//! own errors (401 with a reason that says what to fix, 403 outside the token's allowlist).
//! After the verdict, work that may trail the request (noting the client address, a new-address
//! alert) runs in a task of its own, off the request's path.

use std::marker::PhantomData;
use std::net::IpAddr;
use std::time::Duration;

use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use crate::auth::{bearer, client_addr};
use crate::domain::audit::AuditKind;
use crate::domain::credential::{Caller, Credential, Refusal};
use crate::domain::notice::NoticeKind;
use crate::domain::scopes::{Level, Resource, Scope};
use crate::domain::secret::TokenDigest;
use crate::metrics::{BearerOutcome, METRICS};
use crate::state::AppState;
use crate::store::audit::{self, AuditEvent};
use crate::store::{addresses, notices, throttles, tokens};

/// What an API route needs of the calling token. Every route that takes a token declares its
/// scope through `Allowed<N>`, and the OpenAPI document lists it (`security(("bearer" =
/// ["tokens:write"]))`); `tests/it/permissions.rs` calls every route with and without it.
pub trait Needs {
    const SCOPE: Scope;
}

/// Reading tokens: list and get.
pub struct TokensRead;
/// Creating, deleting, regenerating, suspending and resuming tokens.
pub struct TokensWrite;
/// The audit log.
pub struct AuditRead;
/// Checking other tokens of the account (introspection).
pub struct IntrospectRead;
/// Provisioning the account's people (SCIM).
pub struct UsersWrite;

impl Needs for TokensRead {
    const SCOPE: Scope = Scope::new(Resource::TOKENS, Level::Read);
}
impl Needs for TokensWrite {
    const SCOPE: Scope = Scope::new(Resource::TOKENS, Level::Write);
}
impl Needs for AuditRead {
    const SCOPE: Scope = Scope::new(Resource::AUDIT, Level::Read);
}
impl Needs for IntrospectRead {
    const SCOPE: Scope = Scope::new(Resource::INTROSPECT, Level::Read);
}
impl Needs for UsersWrite {
    const SCOPE: Scope = Scope::new(Resource::USERS, Level::Write);
}

/// A request whose token holds `N::SCOPE` within its effective role. Anything else is 403
/// `insufficient_scope` naming the scope, after the token itself passed (a bad token is 401).
pub struct Allowed<N: Needs>(pub Caller, pub PhantomData<N>);

impl<N: Needs + 'static> FromRequest for Allowed<N> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = ApiCaller::from_request(req, payload);
        Box::pin(async move {
            let ApiCaller(caller) = authenticated.await?;
            if caller.may(&N::SCOPE) {
                Ok(Allowed(caller, PhantomData))
            } else {
                Err(insufficient(&caller, &N::SCOPE))
            }
        })
    }
}

/// The 403 for a call outside the token's reach, saying whether its scopes or its role stop it.
pub(super) fn insufficient(caller: &Caller, needed: &Scope) -> ApiError {
    let role = caller.effective_role;
    if caller.service_account_writing_tokens(needed) {
        return ApiError::InsufficientScope {
            needed: Some(needed.to_string()),
            message: "A service account's tokens are made and changed by administrators, from \
                      its page; its own tokens cannot."
                .into(),
        };
    }
    let message = match needed.resource.ceiling(role) {
        Some(ceiling) if ceiling >= needed.level => {
            format!("This token's scopes do not include {needed}, which this call needs.")
        }
        _ => format!(
            "This call needs {needed}, which a token acting as {} cannot hold.",
            role.label()
        ),
    };
    ApiError::InsufficientScope {
        needed: Some(needed.to_string()),
        message,
    }
}

/// How often one instance notes the same (token, address) pair, and the account records the
/// same refusal.
const NOTE_EVERY: Duration = Duration::from_secs(60);

fn every() -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(NOTE_EVERY).unwrap_or(chrono::TimeDelta::MAX)
}

/// A request authenticated by a personal token, whatever its scopes: for the routes any token
/// may call (`/me`, `/tokens/self`). Every other route takes `Allowed`.
pub struct ApiCaller(pub Caller);

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = bearer::presented_digest(req.headers());
        let state = req.app_data::<Data<AppState>>().cloned();
        let client = client_addr(req);
        let user_agent = user_agent(req);
        Box::pin(async move {
            let digest = checked.map_err(|e| {
                METRICS.bearer(BearerOutcome::Invalid);
                ApiError::InvalidToken(e.message())
            })?;
            let state = state.ok_or_else(|| ApiError::Internal("app state missing".into()))?;
            check(&state, digest, client, user_agent)
                .await
                .map(ApiCaller)
        })
    }
}

/// The whole check of a presented token, for an API call, a forward-auth check or an
/// introspection: the lookup, the domain's verdict, and the use it makes (last use, activity,
/// a new address). `client` is the address the token is used from; `None` passes only a token
/// without an allowlist.
pub async fn check(
    state: &Data<AppState>,
    digest: TokenDigest,
    client: Option<IpAddr>,
    user_agent: String,
) -> Result<Caller, ApiError> {
    let credential = state.store.find_credential(digest).await?.ok_or_else(|| {
        METRICS.bearer(BearerOutcome::Invalid);
        ApiError::InvalidToken("The token is not valid.")
    })?;
    check_found(state, credential, client, user_agent).await
}

/// `check` for a token already found by its digest (introspection looks before it checks).
pub async fn check_found(
    state: &Data<AppState>,
    credential: Credential,
    client: Option<IpAddr>,
    user_agent: String,
) -> Result<Caller, ApiError> {
    let now = state.clock.now();
    let due = credential.last_use_due(now);
    // The usual case, a client using the address it used a moment ago, was noted then:
    // nothing more to do, and no lock taken.
    let same_address = client.is_some_and(|ip| {
        credential
            .last_used_ip
            .as_deref()
            .and_then(|s| s.parse().ok())
            == Some(ip)
    });
    let last_used_ip = (due || !same_address).then(|| credential.last_used_ip.clone());
    let refusal_context = (!credential.allowed_ips.is_empty()).then(|| RefusalContext {
        token: credential.token_id.to_string(),
        account: credential.issuer.account_id.to_string(),
        name: credential.token_name.clone(),
    });
    let caller = match credential.authorize(now, client) {
        Ok(caller) => {
            METRICS.bearer(BearerOutcome::Ok);
            caller
        }
        Err(Refusal::IpNotAllowed) => {
            METRICS.bearer(BearerOutcome::IpNotAllowed);
            if let Some(context) = refusal_context {
                record_refusal(state, context, client);
            }
            return Err(ApiError::IpNotAllowed);
        }
        Err(refusal) => return Err(refused(refusal)),
    };
    if due {
        // A write, so the blocking pool even on SQLite: it may wait for the write lock.
        let id = caller.credential.token_id.clone();
        // With no address (an introspection) the last one stays: "unknown" would make the
        // next real use look like a new address.
        let ip = client
            .map(|ip| ip.to_string())
            .or_else(|| caller.credential.last_used_ip.clone())
            .unwrap_or_else(|| "unknown".to_owned());
        state
            .store
            .run(move |conn| tokens::record_use(conn, &id, now, &ip))
            .await?;
    }
    state
        .activity
        .count(&caller.credential.token_id, now.date());
    if let (Some(client), Some(last_used_ip)) = (client, last_used_ip) {
        let seen = (caller.credential.token_id.clone(), last_used_ip);
        note_address(state, seen, client, user_agent);
    }
    Ok(caller)
}

/// Remembers the address for the token, at most once a minute per pair on this instance, and
/// alerts the issuer when it is new. Runs after the request, in its own task: an alert may
/// trail the request by the time one small write takes, and a failure costs the alert only.
fn note_address(
    state: &Data<AppState>,
    (token, last_used_ip): (crate::domain::TokenId, Option<String>),
    client: IpAddr,
    user_agent: String,
) {
    let ip = client.to_string();
    if !state.first_within(&format!("addr:{token}:{ip}"), NOTE_EVERY) {
        return;
    }
    let state = state.clone();
    actix_web::rt::spawn(async move {
        let (email, now) = (state.notifier.email_enabled(), state.now());
        let noted = state
            .store
            .run(move |conn| {
                let last = last_used_ip.as_deref();
                if addresses::note_address(conn, &token, &ip, &user_agent, last, now)? {
                    let kind = NoticeKind::NewAddress { ip };
                    notices::claim_token_notice(conn, &token, &kind, email, now)?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = noted {
            tracing::warn!(%error, "noting a token's address failed");
        }
    });
}

/// The request's User-Agent as shown on the token's page: printable, at most 200 characters.
pub(super) fn user_agent(req: &HttpRequest) -> String {
    let raw = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    crate::domain::name::printable(raw, 200)
}

/// What the audit row of a refused address needs, taken before the verdict consumes the
/// credential (only for tokens with an allowlist).
struct RefusalContext {
    token: String,
    account: String,
    name: String,
}

/// A refused address goes in the audit log once a minute per token and address, across every
/// instance (this one's memory first, then the shared count), so a client stuck retrying
/// cannot fill the log.
fn record_refusal(state: &Data<AppState>, context: RefusalContext, client: Option<IpAddr>) {
    let ip = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let RefusalContext {
        token,
        account,
        name,
    } = context;
    let key = format!("refused:{token}:{ip}");
    if !state.first_within(&key, NOTE_EVERY) {
        return;
    }
    let (state, now) = (state.clone(), state.now());
    actix_web::rt::spawn(async move {
        let recorded = state
            .store
            .run(move |conn| {
                if !throttles::hit(conn, &key, 1, every(), now)? {
                    return Ok(());
                }
                audit::record(
                    conn,
                    AuditEvent {
                        account_id: Some(&account),
                        actor_id: None,
                        kind: AuditKind::TokenIpRefused,
                        subject: &token,
                        ip: Some(&ip),
                        detail: &name,
                        at: now,
                    },
                )
            })
            .await;
        if let Err(error) = recorded {
            tracing::warn!(%error, "recording a refused address failed");
        }
    });
}

fn refused(refusal: Refusal) -> ApiError {
    METRICS.bearer(match refusal {
        Refusal::Deleted => BearerOutcome::Deleted,
        Refusal::Expired => BearerOutcome::Expired,
        Refusal::Suspended => BearerOutcome::Suspended,
        Refusal::IssuerInactive => BearerOutcome::Inactive,
        Refusal::IpNotAllowed => BearerOutcome::IpNotAllowed,
    });
    match refusal {
        Refusal::Deleted => ApiError::InvalidToken("The token was deleted."),
        Refusal::Expired => ApiError::InvalidToken("The token has expired."),
        Refusal::Suspended => ApiError::InvalidToken("The token is suspended."),
        Refusal::IssuerInactive => ApiError::InvalidToken("The token's owner is no longer active."),
        Refusal::IpNotAllowed => ApiError::IpNotAllowed,
    }
}
