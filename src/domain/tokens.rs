//! Creating, seeing and acting on tokens: the rules that decide who may do what. The store loads
//! the facts under its lock (the record, the actor, the policy, the live count) and hands them to
//! a `plan_*` function here, which returns what to write or the `Refusal`; the store writes it.

use chrono::{NaiveDateTime, TimeDelta};

use super::allowlist::IpAllowlist;
use super::audit::AuditKind;
use super::expiry::{self, ExpiryChoice};
use super::name::{TokenDescription, TokenName};
use super::policy::TokenPolicy;
use super::scopes::{Access, Resource};
use super::status::{StatusDates, StatusFilter, StatusWord, TokenStatus, status_at};
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
    /// Only tokens that reach this resource (full tokens reach every one).
    pub reaches: Option<Resource>,
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
    /// `full` or `scoped` (blank: full), and for scoped the chosen `RESOURCE:LEVEL`s.
    pub access: String,
    pub scopes: Vec<String>,
}

/// A new token as asked for, every field parsed: what remains to decide needs the account (its
/// policy, its live count, its names), which `plan_create` is given under the store's lock.
#[derive(Debug, Clone)]
pub struct NewTokenRequest {
    pub name: TokenName,
    pub description: TokenDescription,
    pub expiry: ExpiryChoice,
    pub role: Role,
    pub allowed_ips: IpAllowlist,
    pub access: Access,
}

impl NewTokenRequest {
    /// Checks every field and reports every error at once, so a form shows them all. A custom
    /// date must lie ahead of `now`; how far ahead the account allows is `plan_create`'s.
    pub fn parse(
        input: &NewTokenInput,
        creator: Role,
        now: NaiveDateTime,
    ) -> Result<Self, Vec<DomainError>> {
        let name = TokenName::parse(&input.name);
        let description = TokenDescription::parse(&input.description);
        let expiry = input
            .expiry
            .clone()
            .and_then(|choice| choice.check_ahead_of(now));
        let role = role_within_ceiling(&input.role, creator);
        let allowed_ips = IpAllowlist::parse(&input.allowed_ips);
        // The ceiling is the new token's role's; with no valid role there is none to check.
        let access = Access::parse(
            &input.access,
            &input.scopes,
            *role.as_ref().unwrap_or(&creator),
        );
        match (name, description, expiry, role, allowed_ips, access) {
            (Ok(name), Ok(description), Ok(expiry), Ok(role), Ok(allowed_ips), Ok(access)) => {
                Ok(Self {
                    name,
                    description,
                    expiry,
                    role,
                    allowed_ips,
                    access,
                })
            }
            (name, description, expiry, role, allowed_ips, access) => Err([
                name.err(),
                description.err(),
                expiry.err(),
                role.err(),
                allowed_ips.err(),
                access.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

/// The add form's fields in the order it shows them, and errors are reported in.
const FIELD_ORDER: [&str; 8] = [
    "name",
    "description",
    "expires_in",
    "expires_at",
    "role",
    "access",
    "scopes",
    "allowed_ips",
];

/// The errors `NewTokenRequest::parse` reported for `input`, with the one the account's
/// `policy` adds for its expiry, in the form's order: a bad name and an expiry the account does
/// not allow are reported together, as a form should.
pub fn every_error(
    mut errors: Vec<DomainError>,
    input: &NewTokenInput,
    policy: &TokenPolicy,
    now: NaiveDateTime,
) -> Vec<DomainError> {
    if let Ok(choice) = &input.expiry
        && let Err(error) = choice.resolve(now, policy)
        && !errors.iter().any(|e| e.field == error.field)
    {
        errors.push(error);
    }
    errors.sort_by_key(|e| FIELD_ORDER.iter().position(|f| *f == e.field));
    errors
}

/// A token that passed every rule and may be stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: TokenName,
    pub description: TokenDescription,
    pub role: Role,
    pub expires_at: Option<NaiveDateTime>,
    pub allowed_ips: IpAllowlist,
    pub access: Access,
}

/// Why a token action was refused. Pages and the API take the words from `message`, so they
/// never word one refusal two ways; each layer only picks its status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not there, or not the actor's to see.
    NotFound,
    /// Fields that break a rule, each with its message.
    Invalid(Vec<DomainError>),
    /// The account holds its most live tokens.
    LimitReached { max: u32 },
    /// The token's role is above the actor's (an API caller's effective role): its secret and
    /// standing are out of their reach, or a lower role could mint or revive a higher one.
    AboveYourRole { name: String, yours: Role },
    /// Deleted, or an old secret already on its way out: its replacement is the one to act on.
    Deleted { name: String },
    /// A delete of a token already deleted.
    AlreadyDeleted { name: String },
    /// Suspend or resume of a token that is deleted or expired.
    NotLive { name: String },
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Self::NotFound => "There is no such token, or you may not see it.".into(),
            Self::Invalid(errors) => errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            Self::LimitReached { max } => format!(
                "This account already has {max} live tokens, the most it allows. \
                 Delete a token you no longer need, then try again."
            ),
            Self::AboveYourRole { name, yours } => format!(
                "Token {name} has a higher role than yours ({}); it was not changed.",
                yours.label()
            ),
            Self::Deleted { name } => format!("Token {name} is deleted and cannot be regenerated."),
            Self::AlreadyDeleted { name } => {
                format!("Token {name} was already deleted; nothing changed.")
            }
            Self::NotLive { name } => format!(
                "Token {name} is deleted or expired; there is nothing to suspend or resume."
            ),
        }
    }
}

fn name_taken() -> DomainError {
    DomainError::new(
        "name",
        "You already have a token with this name. Choose another name.",
    )
}

/// Whether the account may hold one more live token.
fn within_limit(policy: &TokenPolicy, live: i64) -> Result<(), Refusal> {
    if live >= i64::from(policy.max_tokens) {
        Err(Refusal::LimitReached {
            max: policy.max_tokens,
        })
    } else {
        Ok(())
    }
}

/// What the store writes for a create, and the audit line it records.
#[derive(Debug, Clone)]
pub struct CreatePlan {
    pub token: NewToken,
    pub audit: AuditNote,
}

/// One audit entry a plan asks for; the subject is the token the store writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditNote {
    pub kind: AuditKind,
    pub detail: String,
}

/// The facts of the account a create or regenerate is decided on, read under its lock.
pub struct AccountFacts<'a> {
    pub policy: &'a TokenPolicy,
    /// Live tokens, counted at least to the limit (where the plan needs them).
    pub live: i64,
    /// The account's services, which scopes may name.
    pub services: &'a [Resource],
}

/// A new token for `request`, given the account's facts and whether the issuer already has a
/// token holding this name.
pub fn plan_create(
    request: &NewTokenRequest,
    account: &AccountFacts<'_>,
    name_is_held: bool,
    now: NaiveDateTime,
) -> Result<CreatePlan, Refusal> {
    let expires_at = request
        .expiry
        .resolve(now, account.policy)
        .map_err(|e| Refusal::Invalid(vec![e]))?;
    if name_is_held {
        return Err(Refusal::Invalid(vec![name_taken()]));
    }
    request
        .access
        .unknown_services(account.services)
        .map_err(|e| Refusal::Invalid(vec![e]))?;
    within_limit(account.policy, account.live)?;
    Ok(CreatePlan {
        audit: AuditNote {
            kind: AuditKind::TokenCreated,
            detail: format!(
                "{} ({})",
                request.name.as_str(),
                access_words(&request.access)
            ),
        },
        token: NewToken {
            name: request.name.clone(),
            description: request.description.clone(),
            role: request.role,
            expires_at,
            allowed_ips: request.allowed_ips.clone(),
            access: request.access.clone(),
        },
    })
}

/// What a token may reach, as its create and regenerate audit entries say it.
fn access_words(access: &Access) -> String {
    match access {
        Access::Full => "full access".to_owned(),
        Access::Scoped(_) => format!("scopes: {}", access.summary()),
    }
}

/// How a regenerate goes: the new allowlist (`None` keeps the old one) and the overlap during
/// which the old secret still works (zero: it dies at once).
#[derive(Debug, Clone)]
pub struct Regeneration {
    pub allowed_ips: Option<IpAllowlist>,
    pub overlap: TimeDelta,
    /// The successor's access; `None` keeps the old token's.
    pub access: Option<Access>,
    /// What the actor may hand out: a person's is full; an API caller's is its token's.
    pub actor_access: Access,
}

/// What the store writes for a regenerate.
#[derive(Debug, Clone)]
pub struct RegeneratePlan {
    /// The successor: the same name, description, role and issuer, the same lifetime again
    /// from now (capped by the policy).
    pub token: NewToken,
    /// When the old secret stops working: now, or the end of the overlap, never later than it
    /// would have stopped by itself.
    pub old_ends: NaiveDateTime,
    pub audit: AuditNote,
}

/// Whether regenerating `old` adds a live token, so that `plan_regenerate` needs the account's
/// live count: a live token's successor takes its place in the count, an expired one's adds
/// to it.
pub fn regenerate_adds_a_live_token(old: &TokenRecord, now: NaiveDateTime) -> bool {
    old.status_at(now) == TokenStatus::Expired
}

/// A new secret for `old`, regenerated by someone acting with `actor_role`. `live` is the
/// account's live count where `regenerate_adds_a_live_token`, else anything.
pub fn plan_regenerate(
    old: &TokenRecord,
    actor_role: Role,
    account: &AccountFacts<'_>,
    how: &Regeneration,
    now: NaiveDateTime,
) -> Result<RegeneratePlan, Refusal> {
    let (policy, live) = (account.policy, account.live);
    // A secret already on its way out is not regenerated again: its replacement is.
    let dates = old.dates();
    if !StatusWord::NotDeleted.holds(&dates, now) || StatusWord::Retiring.holds(&dates, now) {
        return Err(Refusal::Deleted {
            name: old.name.clone(),
        });
    }
    above_ceiling(old, actor_role)?;
    if regenerate_adds_a_live_token(old, now) {
        within_limit(policy, live)?;
    }
    let access = how.access.clone().unwrap_or_else(|| old.access.clone());
    access
        .check_within(old.role)
        .and_then(|()| access.within(&how.actor_access, actor_role))
        .and_then(|()| access.unknown_services(account.services))
        .map_err(|e| Refusal::Invalid(vec![e]))?;
    let old_ends = (now + how.overlap.max(TimeDelta::zero()))
        .min(old.expires_at.unwrap_or(NaiveDateTime::MAX))
        .max(now);
    let scopes = access_words(&access);
    let detail = if old_ends > now {
        format!(
            "{} (replaces {}, which works until {}; {scopes})",
            old.name,
            old.id,
            old_ends.format("%Y-%m-%d %H:%M UTC")
        )
    } else {
        format!("{} (replaces {}; {scopes})", old.name, old.id)
    };
    Ok(RegeneratePlan {
        token: NewToken {
            name: TokenName::from_stored(old.name.clone()),
            description: TokenDescription::from_stored(old.description.clone()),
            role: old.role,
            expires_at: expiry::regenerated_expiry(old.created_at, old.expires_at, now, policy),
            allowed_ips: how
                .allowed_ips
                .clone()
                .unwrap_or_else(|| old.allowed_ips.clone()),
            access,
        },
        old_ends,
        audit: AuditNote {
            kind: AuditKind::TokenRegenerated,
            detail,
        },
    })
}

fn above_ceiling(token: &TokenRecord, actor_role: Role) -> Result<(), Refusal> {
    if token.role > actor_role {
        Err(Refusal::AboveYourRole {
            name: token.name.clone(),
            yours: actor_role,
        })
    } else {
        Ok(())
    }
}

/// What a suspend or resume writes: `None` when the token already stands so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspensionPlan {
    /// The new `suspended_at`: now when suspending, nothing when resuming.
    pub suspended_at: Option<NaiveDateTime>,
    pub audit: AuditNote,
}

/// Suspends (`suspend`) or resumes `token` for someone acting with `actor_role`. Its expiry
/// clock keeps running either way.
pub fn plan_suspension(
    token: &TokenRecord,
    actor_role: Role,
    suspend: bool,
    now: NaiveDateTime,
) -> Result<Option<SuspensionPlan>, Refusal> {
    above_ceiling(token, actor_role)?;
    match (token.status_at(now), suspend) {
        (TokenStatus::Deleted | TokenStatus::Expired, _) => Err(Refusal::NotLive {
            name: token.name.clone(),
        }),
        (TokenStatus::Suspended, true) | (TokenStatus::Active, false) => Ok(None),
        _ => Ok(Some(SuspensionPlan {
            suspended_at: suspend.then_some(now),
            audit: AuditNote {
                kind: if suspend {
                    AuditKind::TokenSuspended
                } else {
                    AuditKind::TokenResumed
                },
                detail: token.name.clone(),
            },
        })),
    }
}

/// A delete of `token`: refused when it is deleted already. An old secret in its overlap may
/// be deleted, which ends it at once.
pub fn plan_delete(token: &TokenRecord, now: NaiveDateTime) -> Result<AuditNote, Refusal> {
    if token.status_at(now) == TokenStatus::Deleted {
        return Err(Refusal::AlreadyDeleted {
            name: token.name.clone(),
        });
    }
    Ok(AuditNote {
        kind: AuditKind::TokenDeleted,
        detail: token.name.clone(),
    })
}

/// A revocation on a secret-scanning report of a token found at `url`: `None` when the token
/// no longer counts (deleted or expired), so there is nothing to revoke.
pub fn plan_revoke_reported(
    name: &str,
    dates: &StatusDates,
    url: &str,
    now: NaiveDateTime,
) -> Option<RevokePlan> {
    if !StatusWord::Live.holds(dates, now) {
        return None;
    }
    let reason = format!("reported leaked at {url}");
    Some(RevokePlan {
        audit: AuditNote {
            kind: AuditKind::TokenReportedLeaked,
            detail: format!("{name}, {reason}"),
        },
        reason,
    })
}

/// What a revocation on a report writes: the reason kept on the row, and the audit line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokePlan {
    pub reason: String,
    pub audit: AuditNote,
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
    pub access: Access,
}

impl TokenRecord {
    pub fn dates(&self) -> StatusDates {
        StatusDates {
            deleted_at: self.deleted_at,
            expires_at: self.expires_at,
            suspended_at: self.suspended_at,
        }
    }

    pub fn status_at(&self, now: NaiveDateTime) -> TokenStatus {
        status_at(self.deleted_at, self.expires_at, self.suspended_at, now)
    }

    pub fn masked(&self) -> String {
        super::secret::masked(&self.last_four)
    }

    /// "expires in N days", by the one rule of `StatusWord::ExpiringSoon`.
    pub fn days_left_if_soon(&self, now: NaiveDateTime) -> Option<i64> {
        super::status::days_left_if_soon(&self.dates(), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(policy: &TokenPolicy, live: i64) -> AccountFacts<'_> {
        AccountFacts {
            policy,
            live,
            services: &[],
        }
    }

    fn input(name: &str, role: &str) -> NewTokenInput {
        NewTokenInput {
            name: name.into(),
            description: String::new(),
            expiry: ExpiryChoice::parse("30", ""),
            role: role.into(),
            allowed_ips: String::new(),
            access: String::new(),
            scopes: Vec::new(),
        }
    }

    #[test]
    fn an_engineer_cannot_mint_an_admin_token() {
        let now = crate::domain::time::now();
        let errors =
            NewTokenRequest::parse(&input("ci", "admin"), Role::Engineer, now).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "role");
        assert!(NewTokenRequest::parse(&input("ci", "engineer"), Role::Engineer, now).is_ok());
        assert!(NewTokenRequest::parse(&input("ci", "read_only"), Role::ReadOnly, now).is_ok());
        assert!(NewTokenRequest::parse(&input("ci", "engineer"), Role::ReadOnly, now).is_err());
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
            access: "scoped".into(),
            scopes: vec!["tokens:fly".into()],
        };
        let errors = NewTokenRequest::parse(&bad, Role::Admin, now).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "description",
                "expires_at",
                "role",
                "allowed_ips",
                "scopes"
            ]
        );
    }

    fn record(role: Role, now: NaiveDateTime) -> TokenRecord {
        TokenRecord {
            id: TokenId::generate(),
            issuer_id: UserId::generate(),
            issuer_name: "Erin".into(),
            name: "deploy".into(),
            description: String::new(),
            role,
            last_four: "abcd".into(),
            created_at: now - TimeDelta::days(10),
            expires_at: Some(now + TimeDelta::days(20)),
            last_used_at: None,
            last_used_ip: None,
            deleted_at: None,
            suspended_at: None,
            replaced_by: None,
            deleted_by_name: None,
            deleted_reason: None,
            allowed_ips: IpAllowlist::default(),
            access: Access::Full,
        }
    }

    fn request(expiry: ExpiryChoice) -> NewTokenRequest {
        NewTokenRequest {
            name: TokenName::parse("ci").unwrap(),
            description: TokenDescription::parse("").unwrap(),
            expiry,
            role: Role::Engineer,
            allowed_ips: IpAllowlist::default(),
            access: Access::Full,
        }
    }

    #[test]
    fn a_field_error_and_a_policy_error_are_reported_together() {
        let now = crate::domain::time::now();
        let policy = TokenPolicy {
            max_lifetime_days: 30,
            ..TokenPolicy::default()
        };
        let bad = NewTokenInput {
            expiry: ExpiryChoice::parse("90", ""),
            ..input("", "admin")
        };
        let parsed = NewTokenRequest::parse(&bad, Role::Engineer, now).unwrap_err();
        let fields: Vec<&str> = every_error(parsed, &bad, &policy, now)
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["name", "expires_in", "role"]);
        let fine = input("ci", "engineer");
        assert!(every_error(Vec::new(), &fine, &policy, now).is_empty());
    }

    #[test]
    fn a_create_is_refused_at_the_limit_for_a_held_name_and_past_the_policy() {
        let now = crate::domain::time::now();
        let policy = TokenPolicy {
            max_tokens: 2,
            ..TokenPolicy::default()
        };
        let ok = plan_create(
            &request(ExpiryChoice::Days(30)),
            &facts(&policy, 1),
            false,
            now,
        )
        .unwrap();
        assert_eq!(ok.token.expires_at, Some(now + TimeDelta::days(30)));
        assert_eq!(ok.audit.kind, AuditKind::TokenCreated);
        assert_eq!(
            plan_create(
                &request(ExpiryChoice::Days(30)),
                &facts(&policy, 2),
                false,
                now
            )
            .unwrap_err(),
            Refusal::LimitReached { max: 2 }
        );
        let Err(Refusal::Invalid(errors)) = plan_create(
            &request(ExpiryChoice::Days(30)),
            &facts(&policy, 0),
            true,
            now,
        ) else {
            panic!("a held name is refused");
        };
        assert_eq!(errors[0].field, "name");
        let Err(Refusal::Invalid(errors)) = plan_create(
            &request(ExpiryChoice::Never),
            &facts(&policy, 0),
            false,
            now,
        ) else {
            panic!("never is refused where the policy does not allow it");
        };
        assert_eq!(errors[0].field, "expires_in");
    }

    #[test]
    fn a_regenerate_keeps_the_ceiling_and_ends_the_old_secret_no_later_than_its_expiry() {
        let now = crate::domain::time::now();
        let policy = TokenPolicy::default();
        let how = |hours| Regeneration {
            allowed_ips: None,
            access: None,
            actor_access: Access::Full,
            overlap: TimeDelta::hours(hours),
        };
        let token = record(Role::Admin, now);
        assert_eq!(
            plan_regenerate(&token, Role::Engineer, &facts(&policy, 0), &how(0), now).unwrap_err(),
            Refusal::AboveYourRole {
                name: "deploy".into(),
                yours: Role::Engineer
            }
        );
        let plan = plan_regenerate(&token, Role::Admin, &facts(&policy, 0), &how(0), now).unwrap();
        assert_eq!(plan.old_ends, now);
        assert_eq!(plan.token.expires_at, Some(now + TimeDelta::days(30)));
        let plan = plan_regenerate(&token, Role::Admin, &facts(&policy, 0), &how(24), now).unwrap();
        assert_eq!(plan.old_ends, now + TimeDelta::hours(24));
        assert!(plan.audit.detail.contains("which works until"));
        let ending = TokenRecord {
            expires_at: Some(now + TimeDelta::hours(2)),
            ..record(Role::Engineer, now)
        };
        let plan =
            plan_regenerate(&ending, Role::Engineer, &facts(&policy, 0), &how(168), now).unwrap();
        assert_eq!(plan.old_ends, now + TimeDelta::hours(2));
        let rotating = TokenRecord {
            deleted_at: Some(now + TimeDelta::hours(1)),
            ..record(Role::Engineer, now)
        };
        assert!(matches!(
            plan_regenerate(&rotating, Role::Admin, &facts(&policy, 0), &how(0), now),
            Err(Refusal::Deleted { .. })
        ));
    }

    #[test]
    fn only_an_expired_token_needs_room_under_the_limit_to_be_regenerated() {
        let now = crate::domain::time::now();
        let policy = TokenPolicy {
            max_tokens: 1,
            ..TokenPolicy::default()
        };
        let how = Regeneration {
            allowed_ips: None,
            access: None,
            actor_access: Access::Full,
            overlap: TimeDelta::zero(),
        };
        let live = record(Role::Engineer, now);
        assert!(plan_regenerate(&live, Role::Engineer, &facts(&policy, 1), &how, now).is_ok());
        let expired = TokenRecord {
            expires_at: Some(now - TimeDelta::days(1)),
            ..live
        };
        assert_eq!(
            plan_regenerate(&expired, Role::Engineer, &facts(&policy, 1), &how, now).unwrap_err(),
            Refusal::LimitReached { max: 1 }
        );
    }

    #[test]
    fn suspension_changes_only_live_tokens_within_the_ceiling() {
        let now = crate::domain::time::now();
        let token = record(Role::Engineer, now);
        let plan = plan_suspension(&token, Role::Engineer, true, now).unwrap();
        assert_eq!(plan.unwrap().suspended_at, Some(now));
        assert_eq!(
            plan_suspension(&token, Role::Engineer, false, now),
            Ok(None)
        );
        assert!(matches!(
            plan_suspension(&token, Role::ReadOnly, true, now),
            Err(Refusal::AboveYourRole { .. })
        ));
        let expired = TokenRecord {
            expires_at: Some(now),
            ..token.clone()
        };
        assert!(matches!(
            plan_suspension(&expired, Role::Admin, true, now),
            Err(Refusal::NotLive { .. })
        ));
        let suspended = TokenRecord {
            suspended_at: Some(now),
            ..token
        };
        let resume = plan_suspension(&suspended, Role::Engineer, false, now).unwrap();
        assert_eq!(resume.unwrap().audit.kind, AuditKind::TokenResumed);
    }

    #[test]
    fn refusals_name_live_tokens_and_the_token_they_concern() {
        let limit = Refusal::LimitReached { max: 50 }.message();
        assert!(limit.starts_with("This account already has 50 live tokens, the most it allows."));
        let report = plan_revoke_reported(
            "ci",
            &StatusDates::default(),
            "https://example.com/x",
            crate::domain::time::now(),
        )
        .unwrap();
        assert_eq!(report.reason, "reported leaked at https://example.com/x");
        assert_eq!(
            report.audit.detail,
            "ci, reported leaked at https://example.com/x"
        );
    }
}
