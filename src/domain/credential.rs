//! Deciding whether a presented token may act, once the store has found it by digest.

use chrono::{NaiveDateTime, TimeDelta};

use std::net::IpAddr;

use super::allowlist::IpAllowlist;
use super::scopes::{Access, Scope};
use super::status::{TokenStatus, status_at};
use super::tokens::Visibility;
use super::{Role, TokenId, User};

/// Last use is written at most this often per token, so a busy token is not a write per request.
pub const LAST_USED_INTERVAL_SECONDS: i64 = 60;

/// A stored token found by its digest, with its issuer as they are now.
#[derive(Debug, Clone)]
pub struct Credential {
    pub token_id: TokenId,
    pub token_name: String,
    pub token_role: Role,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub suspended_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    /// The address of the last recorded use: a request from it cannot be a new address.
    pub last_used_ip: Option<String>,
    pub allowed_ips: IpAllowlist,
    pub access: Access,
    pub issuer: User,
}

/// Why a found token may not act. Each is a 401 `invalid_token`; the reason goes in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Deleted,
    Expired,
    Suspended,
    IssuerInactive,
    /// The client address is outside the token's allowlist: 403 `ip_not_allowed`.
    IpNotAllowed,
}

/// A token allowed to act, and with what rights.
#[derive(Debug, Clone)]
pub struct Caller {
    pub credential: Credential,
    /// The lower of the token's role and its issuer's current role.
    pub effective_role: Role,
}

impl Credential {
    /// `client` is the request's address; `None` (no peer address) passes only a token without
    /// an allowlist.
    pub fn authorize(self, now: NaiveDateTime, client: Option<IpAddr>) -> Result<Caller, Refusal> {
        match status_at(self.deleted_at, self.expires_at, self.suspended_at, now) {
            TokenStatus::Deleted => return Err(Refusal::Deleted),
            TokenStatus::Expired => return Err(Refusal::Expired),
            TokenStatus::Suspended => return Err(Refusal::Suspended),
            TokenStatus::Active => {}
        }
        if !self.issuer.active {
            return Err(Refusal::IssuerInactive);
        }
        if !self.allowed_ips.is_empty() && !client.is_some_and(|ip| self.allowed_ips.allows(ip)) {
            return Err(Refusal::IpNotAllowed);
        }
        let effective_role = self.token_role.min(self.issuer.role);
        Ok(Caller {
            credential: self,
            effective_role,
        })
    }

    /// True when the last recorded use is old enough to record this one.
    pub fn last_use_due(&self, now: NaiveDateTime) -> bool {
        self.last_used_at
            .is_none_or(|at| now - at >= TimeDelta::seconds(LAST_USED_INTERVAL_SECONDS))
    }
}

impl Caller {
    /// The issuer as the API acts for them: with the token's effective role, never more.
    pub fn acting_user(&self) -> User {
        User {
            role: self.effective_role,
            ..self.credential.issuer.clone()
        }
    }

    pub fn visibility(&self) -> Visibility {
        Visibility::of(&self.acting_user())
    }

    /// Whether this call may do what `needed` names: the token's access within its effective
    /// role (its own role and its issuer's current one, the lower).
    pub fn may(&self, needed: &Scope) -> bool {
        !self.service_account_writing_tokens(needed)
            && self.credential.access.grants(needed, self.effective_role)
    }

    /// What this call may do, as told to the services that verify through us (`X-Auth-Scopes`,
    /// introspection's `scope`): the token's access within its effective role, and a service
    /// account's scoped tokens at most reading tokens, as `may` decides. `full` stays `full`
    /// (whatever the role allows): for a service account it still never writes tokens, which
    /// the README says, since the account's services are not known here to list instead.
    pub fn granted(&self) -> Access {
        let mut access = self.credential.access.effective(self.effective_role);
        if self.credential.issuer.kind == super::users::UserKind::Service
            && let Access::Scoped(scopes) = &mut access
            && let Some(level) = scopes.get_mut(&super::scopes::Resource::TOKENS)
        {
            *level = (*level).min(super::scopes::Level::Read);
        }
        access
    }

    /// Only administrators make and change a service account's tokens (product.md §11): a
    /// token of the service account itself never writes tokens, whatever its scopes.
    pub fn service_account_writing_tokens(&self, needed: &Scope) -> bool {
        self.credential.issuer.kind == super::users::UserKind::Service
            && needed.resource == super::scopes::Resource::TOKENS
            && needed.level == super::scopes::Level::Write
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(token_role: Role, issuer_role: Role) -> Credential {
        Credential {
            token_id: TokenId::generate(),
            token_name: "ci".into(),
            token_role,
            created_at: crate::domain::time::now(),
            expires_at: None,
            deleted_at: None,
            suspended_at: None,
            last_used_at: None,
            last_used_ip: None,
            allowed_ips: IpAllowlist::default(),
            access: Access::Full,
            issuer: User::sample(issuer_role),
        }
    }

    #[test]
    fn rights_are_the_lower_of_token_and_issuer() {
        let now = crate::domain::time::now();
        let demoted = credential(Role::Admin, Role::ReadOnly)
            .authorize(now, None)
            .unwrap();
        assert_eq!(demoted.effective_role, Role::ReadOnly);
        let tokens_write = Scope::new(
            crate::domain::scopes::Resource::TOKENS,
            crate::domain::scopes::Level::Write,
        );
        assert!(!demoted.may(&tokens_write));
        let narrow = credential(Role::ReadOnly, Role::Admin)
            .authorize(now, None)
            .unwrap();
        assert_eq!(narrow.effective_role, Role::ReadOnly);
        assert!(!narrow.visibility().sees_whole_account());
    }

    #[test]
    fn a_service_accounts_token_is_granted_reading_tokens_at_most() {
        let now = crate::domain::time::now();
        let mut scoped = credential(Role::Admin, Role::Admin);
        scoped.access =
            Access::parse_scopes(["tokens:write", "audit:read"].into_iter(), Role::Admin).unwrap();
        assert_eq!(
            scoped
                .clone()
                .authorize(now, None)
                .unwrap()
                .granted()
                .scope_string(),
            "audit:read tokens:write"
        );
        scoped.issuer.kind = crate::domain::users::UserKind::Service;
        let service = scoped.authorize(now, None).unwrap();
        assert_eq!(service.granted().scope_string(), "audit:read tokens:read");
    }

    #[test]
    fn deleted_expired_and_deactivated_tokens_are_refused() {
        let now = crate::domain::time::now();
        let mut deleted = credential(Role::Admin, Role::Admin);
        deleted.deleted_at = Some(now);
        assert_eq!(deleted.authorize(now, None).unwrap_err(), Refusal::Deleted);
        let mut expired = credential(Role::Admin, Role::Admin);
        expired.expires_at = Some(now);
        assert_eq!(expired.authorize(now, None).unwrap_err(), Refusal::Expired);
        let mut inactive = credential(Role::Admin, Role::Admin);
        inactive.issuer.active = false;
        assert_eq!(
            inactive.authorize(now, None).unwrap_err(),
            Refusal::IssuerInactive
        );
    }

    #[test]
    fn last_use_is_recorded_once_a_minute() {
        let now = crate::domain::time::now();
        let mut credential = credential(Role::Admin, Role::Admin);
        assert!(credential.last_use_due(now));
        credential.last_used_at = Some(now - TimeDelta::seconds(59));
        assert!(!credential.last_use_due(now));
        credential.last_used_at = Some(now - TimeDelta::seconds(60));
        assert!(credential.last_use_due(now));
    }

    #[test]
    fn an_allowlisted_token_works_only_from_its_ranges() {
        let now = crate::domain::time::now();
        let restricted = Credential {
            allowed_ips: IpAllowlist::parse("10.0.0.0/8").unwrap(),
            ..credential(Role::Engineer, Role::Engineer)
        };
        let from = |ip: &str| restricted.clone().authorize(now, Some(ip.parse().unwrap()));
        assert!(from("10.1.2.3").is_ok());
        assert_eq!(from("192.0.2.1").unwrap_err(), Refusal::IpNotAllowed);
        assert_eq!(
            restricted.clone().authorize(now, None).unwrap_err(),
            Refusal::IpNotAllowed
        );
        let open = credential(Role::Engineer, Role::Engineer);
        assert!(
            open.authorize(now, Some("192.0.2.1".parse().unwrap()))
                .is_ok()
        );
    }
}
