//! What the API reads and writes. These types exist for the wire and the OpenAPI description;
//! they are built from domain types, never stored.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::Role;
use crate::domain::scopes::Access;
use crate::domain::status::TokenStatus;
use crate::domain::tokens::TokenRecord;

/// As `%Y-%m-%dT%H:%M:%S%.6fZ`, without parsing a format string on every call (a hot path:
/// every `GET /api/v1/me` formats one).
fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum RoleDto {
    Admin,
    Engineer,
    ReadOnly,
}

impl From<Role> for RoleDto {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => Self::Admin,
            Role::Engineer => Self::Engineer,
            Role::ReadOnly => Self::ReadOnly,
        }
    }
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum StatusDto {
    Active,
    Suspended,
    Expired,
    Deleted,
}

impl From<TokenStatus> for StatusDto {
    fn from(status: TokenStatus) -> Self {
        match status {
            TokenStatus::Active => Self::Active,
            TokenStatus::Suspended => Self::Suspended,
            TokenStatus::Expired => Self::Expired,
            TokenStatus::Deleted => Self::Deleted,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IssuerDto {
    pub id: String,
    pub display_name: String,
}

/// A token as listed: never its secret, only the masked form.
#[derive(Serialize, ToSchema)]
pub struct TokenDto {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `ptk_…` and the last four characters.
    pub masked: String,
    pub role: RoleDto,
    pub issuer: IssuerDto,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Absent when the token never expires.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Absent when the token was never used.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    pub last_used_ip: Option<String>,
    #[schema(format = DateTime)]
    pub deleted_at: Option<String>,
    pub status: StatusDto,
    /// The ranges the token may be used from; empty: anywhere.
    pub allowed_ips: Vec<String>,
    /// What the token may reach, as `RESOURCE:read` or `RESOURCE:write`; null: full access
    /// (everything its role allows).
    pub scopes: Option<Vec<String>>,
}

/// The scopes as the API writes them: null for full access.
fn scopes_of(access: &Access) -> Option<Vec<String>> {
    access
        .scopes()
        .map(|scopes| scopes.iter().map(ToString::to_string).collect())
}

impl TokenDto {
    pub fn new(token: &TokenRecord, now: NaiveDateTime) -> Self {
        Self {
            id: token.id.to_string(),
            name: token.name.clone(),
            description: token.description.clone(),
            masked: token.masked(),
            role: token.role.into(),
            issuer: IssuerDto {
                id: token.issuer_id.to_string(),
                display_name: token.issuer_name.clone(),
            },
            created_at: rfc3339(token.created_at),
            expires_at: token.expires_at.map(rfc3339),
            last_used_at: token.last_used_at.map(rfc3339),
            last_used_ip: token.last_used_ip.clone(),
            deleted_at: token.deleted_at.map(rfc3339),
            status: token.status_at(now).into(),
            allowed_ips: token.allowed_ips.ranges(),
            scopes: scopes_of(&token.access),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenListResponse {
    pub tokens: Vec<TokenDto>,
    pub page: i64,
    pub per_page: i64,
    /// Tokens matching the filters, over all pages. Counting stops 1,000 past this page: when
    /// `total_exact` is false there are more than `total`.
    pub total: i64,
    pub total_exact: bool,
    /// Live tokens in the account, counted against `max_tokens`. Counting stops at 1,000: when
    /// `live_in_account_exact` is false there are more.
    pub live_in_account: i64,
    pub live_in_account_exact: bool,
    pub max_tokens: u32,
}

/// Filters of `GET /api/v1/tokens`, as on the list page. Unknown values are a 400.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ListTokensQuery {
    /// A user id (administrators only; others see only their own tokens anyway).
    pub issuer: Option<String>,
    /// `admin`, `engineer` or `read_only`.
    pub role: Option<String>,
    /// `all`, `active`, `suspended`, `expired` or `deleted`.
    pub status: Option<String>,
    /// Part of the name, any case.
    pub q: Option<String>,
    /// A resource (`tokens`, a service's name): only tokens that reach it.
    pub scope: Option<String>,
    /// From 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
}

/// A new token. Give exactly one of `expires_in_days`, `expires_at` or `never: true`.
#[derive(Deserialize, ToSchema)]
pub struct CreateTokenRequest {
    /// 1–100 characters, unique among your live tokens.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    /// Lifetime in days, at most the account's longest (365 by default).
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: Option<u32>,
    /// A date (`YYYY-MM-DD`); the token expires at 00:00 UTC that day.
    #[schema(format = Date)]
    pub expires_at: Option<String>,
    /// A token that never expires, where the account allows it.
    #[serde(default)]
    pub never: bool,
    /// No higher than the calling token's effective role.
    pub role: RoleDto,
    /// Addresses and CIDR ranges (IPv4 or IPv6, at most 20) the new token may be used from;
    /// absent or empty: anywhere.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub allowed_ips: Vec<String>,
    /// What the token may reach: `RESOURCE:read` or `RESOURCE:write` for `tokens`, `users`,
    /// `audit`, `introspect` or one of the account's services, each within the role's ceiling.
    /// Absent or null: full access (everything the role allows).
    #[schema(max_items = 64)]
    pub scopes: Option<Vec<String>>,
}

/// A field that may be absent (`None`), null (`Some(None)`) or a value.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegenerateRequest {
    /// How long the old secret keeps working: 0 (it stops at once), 1, 24 or 168 hours.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 168)]
    pub overlap_hours: u32,
    /// A new allowlist (addresses and CIDR ranges); absent: the old token's is kept.
    #[schema(max_items = 20)]
    pub allowed_ips: Option<Vec<String>>,
    /// New scopes for the successor; absent: the old token's are kept; null: full access.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, max_items = 64)]
    pub scopes: Option<Option<Vec<String>>>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedTokenResponse {
    /// The token itself. Shown this once: only its digest is stored.
    pub token: String,
    #[serde(flatten)]
    pub details: TokenDto,
}

#[derive(Serialize, ToSchema)]
pub struct AccountDto {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: RoleDto,
}

#[derive(Serialize, ToSchema)]
pub struct CallerTokenDto {
    pub id: String,
    pub name: String,
    pub role: RoleDto,
    /// The lower of the token's role and its owner's current role: what this call may do.
    pub effective_role: RoleDto,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Null: full access.
    pub scopes: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub account: AccountDto,
    pub user: UserDto,
    pub token: CallerTokenDto,
}

impl MeResponse {
    pub fn new(caller: &crate::domain::credential::Caller) -> Self {
        let credential = &caller.credential;
        let user = &credential.issuer;
        Self {
            account: AccountDto {
                id: user.account_id.to_string(),
                name: user.account_name.clone(),
            },
            user: UserDto {
                id: user.id.to_string(),
                username: user.username.clone(),
                display_name: user.display_name.clone(),
                role: user.role.into(),
            },
            token: CallerTokenDto {
                id: credential.token_id.to_string(),
                name: credential.token_name.clone(),
                role: credential.token_role.into(),
                effective_role: caller.effective_role.into(),
                expires_at: credential.expires_at.map(rfc3339),
                scopes: scopes_of(&credential.access),
            },
        }
    }
}

/// Filters of `GET /api/v1/audit`, as on the audit page. Unknown values are a 400.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AuditQuery {
    /// A user id: only what they did.
    pub actor: Option<String>,
    /// An event kind, such as `token_created`.
    pub action: Option<String>,
    /// From 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
}

/// One entry of the audit log. Never a secret.
#[derive(Serialize, ToSchema)]
pub struct AuditEventDto {
    pub id: String,
    #[schema(format = DateTime)]
    pub at: String,
    /// Absent for events with no signed-in actor (a failed sign-in, the command line).
    pub actor: Option<IssuerDto>,
    /// The event kind, such as `token_created`.
    pub action: String,
    /// What the event is about: a token's or user's id, a username, a service's name.
    pub subject: String,
    pub detail: String,
    pub ip: Option<String>,
}

impl AuditEventDto {
    pub fn new(entry: crate::store::audit::AuditEntry) -> Self {
        Self {
            id: entry.id,
            at: rfc3339(entry.at),
            actor: entry.actor_id.map(|id| IssuerDto {
                id,
                display_name: entry.actor.unwrap_or_default(),
            }),
            action: entry.kind,
            subject: entry.subject,
            detail: entry.detail,
            ip: entry.ip,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditListResponse {
    pub events: Vec<AuditEventDto>,
    pub page: i64,
    pub per_page: i64,
    /// Events matching the filters, over all pages.
    pub total: i64,
}
