//! Creating, seeing and acting on tokens: the rules that decide who may do what.

use chrono::{NaiveDateTime, TimeDelta};

use super::allowlist::IpAllowlist;
use super::expiry::{self, ExpiryChoice};
use super::name::{TokenDescription, TokenName};
use super::policy::TokenPolicy;
use super::status::{StatusFilter, TokenStatus, status_at};
use super::{AccountId, DomainError, Role, TokenId, User, UserId};

/// What a user can see and act on: administrators the whole account, everyone else their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    Account(AccountId),
    Issuer(AccountId, UserId),
}

impl Visibility {
    pub fn of(user: &User) -> Self {
        if user.role == Role::Admin {
            Self::Account(user.account_id.clone())
        } else {
            Self::Issuer(user.account_id.clone(), user.id.clone())
        }
    }

    pub fn account(&self) -> &AccountId {
        match self {
            Self::Account(account) | Self::Issuer(account, _) => account,
        }
    }

    pub fn sees_whole_account(&self) -> bool {
        matches!(self, Self::Account(_))
    }
}

/// Rows per page on the list page and in the API.
pub const TOKENS_PER_PAGE: i64 = 20;

/// The list's filters, already parsed. `issuer` only narrows what the viewer may see anyway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFilter {
    pub issuer: Option<UserId>,
    pub role: Option<Role>,
    pub status: StatusFilter,
    pub name_contains: Option<String>,
}

/// The name search as typed, made safe to match: trimmed, control characters dropped (Postgres
/// text cannot even hold NUL), at most a name's length. `None` when nothing is left.
pub fn name_search(raw: &str) -> Option<String> {
    let needle = super::name::printable(raw, super::name::NAME_MAX);
    (!needle.is_empty()).then_some(needle)
}

/// The role a new token asks for, refused when above its creator's own.
pub fn role_within_ceiling(raw: &str, creator: Role) -> Result<Role, DomainError> {
    let role = Role::parse(raw.trim()).ok_or_else(|| DomainError::new("role", "Choose a role."))?;
    if role > creator {
        return Err(DomainError::new(
            "role",
            format!(
                "A token cannot have a higher role than yours ({}).",
                creator.label()
            ),
        ));
    }
    Ok(role)
}

/// The overlaps a rotation offers: none, 1 hour, 24 hours, 7 days (form field `overlap`, API
/// field `overlap_hours`).
pub const OVERLAP_HOURS: [i64; 4] = [0, 1, 24, 168];

/// How long the old secret keeps working after a regenerate, as typed (blank: none).
pub fn overlap(raw: &str) -> Result<TimeDelta, DomainError> {
    let raw = raw.trim();
    let hours = if raw.is_empty() {
        Ok(0)
    } else {
        raw.parse::<i64>()
    };
    match hours {
        Ok(hours) if OVERLAP_HOURS.contains(&hours) => Ok(TimeDelta::hours(hours)),
        _ => Err(DomainError::new(
            "overlap",
            "Choose an overlap of none, 1 hour, 24 hours or 7 days.",
        )),
    }
}

/// The form or API fields of a new token, as typed.
pub struct NewTokenInput {
    pub name: String,
    pub description: String,
    pub expiry: Result<ExpiryChoice, DomainError>,
    pub role: String,
    /// Addresses and CIDR ranges the token may be used from; blank: anywhere.
    pub allowed_ips: String,
}

/// A token that passed every rule and may be stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: TokenName,
    pub description: TokenDescription,
    pub role: Role,
    pub expires_at: Option<NaiveDateTime>,
    pub allowed_ips: IpAllowlist,
}

impl NewToken {
    /// Checks every field and reports every error at once, so a form shows them all.
    pub fn parse(
        input: &NewTokenInput,
        creator: Role,
        policy: &TokenPolicy,
        now: NaiveDateTime,
    ) -> Result<Self, Vec<DomainError>> {
        let name = TokenName::parse(&input.name);
        let description = TokenDescription::parse(&input.description);
        let expires_at = input
            .expiry
            .clone()
            .and_then(|choice| choice.resolve(now, policy));
        let role = role_within_ceiling(&input.role, creator);
        let allowed_ips = IpAllowlist::parse(&input.allowed_ips);
        match (name, description, expires_at, role, allowed_ips) {
            (Ok(name), Ok(description), Ok(expires_at), Ok(role), Ok(allowed_ips)) => Ok(Self {
                name,
                description,
                role,
                expires_at,
                allowed_ips,
            }),
            (name, description, expires_at, role, allowed_ips) => Err([
                name.err(),
                description.err(),
                expires_at.err(),
                role.err(),
                allowed_ips.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

/// A stored token as the list and the confirmation pages show it. Never holds the secret.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: TokenId,
    pub issuer_id: UserId,
    pub issuer_name: String,
    pub name: String,
    pub description: String,
    pub role: Role,
    pub last_four: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_used_ip: Option<String>,
    /// A time still ahead is the end of a rotation's overlap (`status::retiring_at`).
    pub deleted_at: Option<NaiveDateTime>,
    pub suspended_at: Option<NaiveDateTime>,
    /// The token that replaced it in a regenerate.
    pub replaced_by: Option<TokenId>,
    /// Who deleted it (their display name); `None` for nobody or a report.
    pub deleted_by_name: Option<String>,
    /// Why it was deleted when nobody deleted it by hand (a secret-scanning report).
    pub deleted_reason: Option<String>,
    pub allowed_ips: IpAllowlist,
}

impl TokenRecord {
    pub fn status_at(&self, now: NaiveDateTime) -> TokenStatus {
        status_at(self.deleted_at, self.expires_at, self.suspended_at, now)
    }

    pub fn masked(&self) -> String {
        super::token::masked(&self.last_four)
    }

    pub fn days_left_if_soon(&self, now: NaiveDateTime) -> Option<i64> {
        match self.status_at(now) {
            TokenStatus::Active => expiry::days_left_if_soon(self.expires_at, now),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, role: &str) -> NewTokenInput {
        NewTokenInput {
            name: name.into(),
            description: String::new(),
            expiry: ExpiryChoice::parse("30", ""),
            role: role.into(),
            allowed_ips: String::new(),
        }
    }

    #[test]
    fn an_engineer_cannot_mint_an_admin_token() {
        let now = crate::domain::time::now();
        let errors = NewToken::parse(
            &input("ci", "admin"),
            Role::Engineer,
            &TokenPolicy::default(),
            now,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "role");
        assert!(
            NewToken::parse(
                &input("ci", "engineer"),
                Role::Engineer,
                &TokenPolicy::default(),
                now
            )
            .is_ok()
        );
        assert!(
            NewToken::parse(
                &input("ci", "read_only"),
                Role::ReadOnly,
                &TokenPolicy::default(),
                now
            )
            .is_ok()
        );
        assert!(
            NewToken::parse(
                &input("ci", "engineer"),
                Role::ReadOnly,
                &TokenPolicy::default(),
                now
            )
            .is_err()
        );
    }

    #[test]
    fn overlaps_are_one_of_four() {
        assert_eq!(overlap(""), Ok(TimeDelta::zero()));
        assert_eq!(overlap("24"), Ok(TimeDelta::hours(24)));
        assert_eq!(overlap("168"), Ok(TimeDelta::days(7)));
        for bad in ["2", "-1", "1e3", "forever", "99999999999999999999"] {
            assert_eq!(overlap(bad).unwrap_err().field, "overlap", "{bad}");
        }
    }

    #[test]
    fn name_searches_drop_control_characters_and_blank_input() {
        assert_eq!(name_search("  ci\0 "), Some("ci".into()));
        assert_eq!(name_search("\u{0}\t"), None);
        assert_eq!(name_search(&"x".repeat(500)).map(|s| s.len()), Some(100));
    }

    #[test]
    fn every_bad_field_is_reported_together() {
        let now = crate::domain::time::now();
        let bad = NewTokenInput {
            name: String::new(),
            description: "d".repeat(501),
            expiry: ExpiryChoice::parse("custom", "2001-01-01"),
            role: "root".into(),
            allowed_ips: "10.0.0.0/99".into(),
        };
        let errors = NewToken::parse(&bad, Role::Admin, &TokenPolicy::default(), now).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["name", "description", "expires_at", "role", "allowed_ips"]
        );
    }
}
