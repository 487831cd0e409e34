//! Permissions (product.md §9): what a token may reach. A token's access is `Full` (everything
//! its effective role allows) or `Scoped` (one level per named resource). What a call may do is
//! the intersection of the token's access, its own role and its issuer's current role, so a
//! scope can narrow a token and never widen it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use super::{DomainError, Role};

/// Read is below write: write implies read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Read,
    Write,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Read => "Read",
            Level::Write => "Read and write",
        }
    }

    fn parse(raw: &str) -> Option<Level> {
        match raw {
            "read" => Some(Level::Read),
            "write" => Some(Level::Write),
            _ => None,
        }
    }
}

/// The resources every account has. Any other resource is one of the account's services.
pub const BUILT_IN: [&str; 4] = ["tokens", "users", "audit", "introspect"];

/// A resource a scope names: a built-in one or a service, `[a-z][a-z0-9-]{0,39}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resource(Cow<'static, str>);

impl Resource {
    pub const TOKENS: Resource = Resource(Cow::Borrowed("tokens"));
    pub const USERS: Resource = Resource(Cow::Borrowed("users"));
    pub const AUDIT: Resource = Resource(Cow::Borrowed("audit"));
    pub const INTROSPECT: Resource = Resource(Cow::Borrowed("introspect"));

    /// A name of the right shape; whether a service of that name exists is the account's.
    pub fn parse(raw: &str) -> Option<Resource> {
        let mut chars = raw.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        (first_ok && rest_ok && raw.len() <= 40).then(|| Resource(Cow::Owned(raw.to_owned())))
    }

    /// A name read back from the store, which only ever holds parsed names.
    pub fn from_trusted(raw: String) -> Resource {
        Resource(Cow::Owned(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_built_in(&self) -> bool {
        BUILT_IN.contains(&self.as_str())
    }

    /// The most a token of `role` may hold on this resource: `None` is no access at all.
    pub fn ceiling(&self, role: Role) -> Option<Level> {
        match (self.as_str(), role) {
            ("users", Role::Admin) => Some(Level::Write),
            ("users", _) => None,
            ("audit", Role::Admin) => Some(Level::Read),
            ("audit", _) => None,
            ("introspect", Role::ReadOnly) => None,
            ("introspect", _) => Some(Level::Read),
            // tokens, and every service
            (_, Role::ReadOnly) => Some(Level::Read),
            (_, _) => Some(Level::Write),
        }
    }

    /// The lowest role whose ceiling on this resource reaches `level`: what a token must be at
    /// least to hold it.
    pub fn lowest_role_for(&self, level: Level) -> Option<Role> {
        [Role::ReadOnly, Role::Engineer, Role::Admin]
            .into_iter()
            .find(|role| self.ceiling(*role).is_some_and(|ceiling| level <= ceiling))
    }

    /// What the page says next to a built-in resource's row.
    pub fn description(&self) -> &'static str {
        match self.as_str() {
            "tokens" => {
                "The token API: read lists and gets tokens; write creates, deletes, regenerates, suspends and resumes them."
            }
            "users" => "Provisioning (SCIM): read and change the account's users.",
            "audit" => "The audit log through the API.",
            "introspect" => "Check other tokens of the account, for a proxy or service.",
            _ => "",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `RESOURCE:read` or `RESOURCE:write`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub resource: Resource,
    pub level: Level,
}

impl Scope {
    pub const fn new(resource: Resource, level: Level) -> Scope {
        Scope { resource, level }
    }

    /// `RESOURCE:read` or `RESOURCE:write`, as a proxy asks for it.
    pub fn parse(raw: &str) -> Result<Scope, DomainError> {
        parse_scope(raw)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource, self.level.as_str())
    }
}

/// More than this many scopes is not a token request: there are four built-in resources and an
/// account registers at most `MAX_SERVICES` services.
pub const MAX_SCOPES: usize = 64;

/// An account registers at most this many services.
pub const MAX_SERVICES: usize = 60;

/// What a token may reach.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Access {
    /// Everything its effective role allows (every token made before scopes existed).
    #[default]
    Full,
    /// Only these resources, each at most at its level (and never above the role's ceiling).
    Scoped(BTreeMap<Resource, Level>),
}

/// A value as typed, shown in a message: printable, cut short, so markup or NUL cannot ride
/// along into the page.
pub(super) fn shown(raw: &str) -> String {
    let mut shown = super::name::printable(raw, 40);
    if raw.chars().count() > 40 {
        shown.push('…');
    }
    shown
}

fn scopes_error(message: impl Into<String>) -> DomainError {
    DomainError::new("scopes", message)
}

impl Access {
    /// The access asked for: `access` is `full` or `scoped` (blank: full), `scopes` the
    /// chosen `RESOURCE:LEVEL`s (blank entries, a select left at "No access", are skipped).
    /// Each scope must lie within the ceiling of `role`, the role the token will have.
    /// Whether a service of each name exists is `unknown_services`'s, given the account's.
    pub fn parse(access: &str, scopes: &[String], role: Role) -> Result<Access, DomainError> {
        match access.trim() {
            "" | "full" => Ok(Access::Full),
            "scoped" => Self::parse_scopes(scopes.iter().map(String::as_str), role),
            other => Err(DomainError::new(
                "access",
                format!("Access must be full or scoped, not `{}`.", shown(other)),
            )),
        }
    }

    /// A scoped access from a list of scopes (the API's `"scopes"`).
    pub fn parse_scopes<'a>(
        scopes: impl Iterator<Item = &'a str>,
        role: Role,
    ) -> Result<Access, DomainError> {
        let scopes: Vec<&str> = scopes.map(str::trim).filter(|s| !s.is_empty()).collect();
        if scopes.len() > MAX_SCOPES {
            return Err(scopes_error(format!(
                "A token holds at most {MAX_SCOPES} scopes; {} were given.",
                scopes.len()
            )));
        }
        if scopes.is_empty() {
            return Err(scopes_error(
                "Choose at least one resource for the token, or give it full access.",
            ));
        }
        let mut chosen = BTreeMap::new();
        for raw in scopes {
            let scope = parse_scope(raw)?;
            if chosen.contains_key(&scope.resource) {
                return Err(scopes_error(format!(
                    "`{}` is named more than once; give each resource one level.",
                    scope.resource
                )));
            }
            within_ceiling(&scope, role)?;
            chosen.insert(scope.resource, scope.level);
        }
        Ok(Access::Scoped(chosen))
    }

    /// The level this access reaches on `resource` for a token acting with `role`: the lower of
    /// its scope and the role's ceiling.
    pub fn level_on(&self, resource: &Resource, role: Role) -> Option<Level> {
        let ceiling = resource.ceiling(role)?;
        match self {
            Access::Full => Some(ceiling),
            Access::Scoped(scopes) => scopes.get(resource).map(|level| (*level).min(ceiling)),
        }
    }

    /// Whether a token with this access, acting with `role`, may make a call that needs `needed`.
    pub fn grants(&self, needed: &Scope, role: Role) -> bool {
        self.level_on(&needed.resource, role)
            .is_some_and(|level| level >= needed.level)
    }

    /// Every scope that is above `role`'s ceiling, for a regenerate by someone whose role fell.
    pub fn check_within(&self, role: Role) -> Result<(), DomainError> {
        match self {
            Access::Full => Ok(()),
            Access::Scoped(scopes) => scopes.iter().try_for_each(|(resource, level)| {
                within_ceiling(&Scope::new(resource.clone(), *level), role)
            }),
        }
    }

    /// Whether a caller with `giver` access, acting as `giver_role`, may hand this access out
    /// (a token making or regenerating a token): never more than the giver reaches itself, so
    /// a scoped token cannot mint a wider one.
    pub fn within(&self, giver: &Access, giver_role: Role) -> Result<(), DomainError> {
        let Access::Scoped(_) = giver else {
            return Ok(());
        };
        match self {
            Access::Full => Err(scopes_error(
                "This token is limited to scopes, so the tokens it makes are too: give \"scopes\" \
                 within its own.",
            )),
            Access::Scoped(scopes) => scopes.iter().try_for_each(|(resource, level)| {
                match giver.level_on(resource, giver_role) {
                    Some(held) if held >= *level => Ok(()),
                    _ => Err(scopes_error(format!(
                        "This token does not hold {resource}:{} itself, so it cannot give it.",
                        level.as_str()
                    ))),
                }
            }),
        }
    }

    /// The access in force for a token acting as `role`: each scope capped by the role's
    /// ceiling, and those the role allows nothing of dropped. What a service is told.
    pub fn effective(&self, role: Role) -> Access {
        match self {
            Access::Full => Access::Full,
            Access::Scoped(scopes) => Access::Scoped(
                scopes
                    .keys()
                    .filter_map(|resource| Some((resource.clone(), self.level_on(resource, role)?)))
                    .collect(),
            ),
        }
    }

    /// The services (not built-in resources) this access names.
    pub fn services(&self) -> impl Iterator<Item = &Resource> {
        let scopes = match self {
            Access::Full => None,
            Access::Scoped(scopes) => Some(scopes.keys()),
        };
        scopes.into_iter().flatten().filter(|r| !r.is_built_in())
    }

    /// A refusal for the first service this access names that `known` (the account's) lacks.
    pub fn unknown_services(&self, known: &[Resource]) -> Result<(), DomainError> {
        match self.services().find(|service| !known.contains(service)) {
            None => Ok(()),
            Some(service) => Err(scopes_error(format!(
                "There is no service named `{service}` in this account. An administrator adds \
                 services on the Services page."
            ))),
        }
    }

    /// The scopes, sorted by resource; `None` for full access (the API's `"scopes": null`).
    pub fn scopes(&self) -> Option<Vec<Scope>> {
        match self {
            Access::Full => None,
            Access::Scoped(scopes) => Some(
                scopes
                    .iter()
                    .map(|(resource, level)| Scope::new(resource.clone(), *level))
                    .collect(),
            ),
        }
    }

    /// "Full access", or the scopes, comma-separated: what the list, the token's page and the
    /// audit log show.
    pub fn summary(&self) -> String {
        match self.scopes() {
            None => "Full access".to_owned(),
            Some(scopes) => scopes
                .iter()
                .map(Scope::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The scopes space-separated (RFC 6749 §3.3), or `full`: what forward auth and
    /// introspection tell a service.
    pub fn scope_string(&self) -> String {
        match self.scopes() {
            None => "full".to_owned(),
            Some(scopes) => scopes
                .iter()
                .map(Scope::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// The stored form: `None` for full, else the scopes space-separated and sorted, each
    /// preceded by a space (` billing:read tokens:write`), so that "names resource R" is the
    /// substring ` R:` and needs no parsing in SQL.
    pub fn to_stored(&self) -> Option<String> {
        self.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|scope| format!(" {scope}"))
                .collect::<String>()
        })
    }

    /// The inverse of `to_stored`. A stored entry that no longer parses is dropped, which can
    /// only narrow the token.
    pub fn from_stored(stored: Option<&str>) -> Access {
        match stored {
            None => Access::Full,
            Some(stored) => Access::Scoped(
                stored
                    .split_whitespace()
                    .filter_map(|raw| parse_scope(raw).ok())
                    .map(|scope| (scope.resource, scope.level))
                    .collect(),
            ),
        }
    }
}

/// What the store matches to find tokens naming `resource` (see `Access::to_stored`).
pub fn stored_pattern(resource: &Resource) -> String {
    format!("% {resource}:%")
}

fn parse_scope(raw: &str) -> Result<Scope, DomainError> {
    let not_a_scope = || {
        scopes_error(format!(
            "`{}` is not a scope: write RESOURCE:read or RESOURCE:write.",
            shown(raw)
        ))
    };
    let (resource, level) = raw.split_once(':').ok_or_else(not_a_scope)?;
    let resource = Resource::parse(resource).ok_or_else(|| {
        scopes_error(format!(
            "`{}` is not a resource name: names are lower-case letters, digits and dashes.",
            shown(resource)
        ))
    })?;
    let level = Level::parse(level).ok_or_else(|| {
        scopes_error(format!(
            "`{}` is not a level: use read or write (`{resource}:read`).",
            shown(level)
        ))
    })?;
    Ok(Scope { resource, level })
}

fn within_ceiling(scope: &Scope, role: Role) -> Result<(), DomainError> {
    let refusal = |why: String| Err(scopes_error(why));
    match (scope.resource.as_str(), scope.level) {
        ("audit", Level::Write) => {
            refusal("audit:write does not exist: the audit log is read-only.".into())
        }
        ("introspect", Level::Write) => {
            refusal("introspect:write does not exist: introspection only reads.".into())
        }
        _ => match scope.resource.ceiling(role) {
            Some(ceiling) if ceiling >= scope.level => Ok(()),
            _ if role == Role::ReadOnly && scope.level == Level::Write => refusal(format!(
                "A Read-only token may hold only read scopes, not {scope}."
            )),
            _ => refusal(format!(
                "{scope} needs a higher role than {}: {}.",
                role.label(),
                needed_role(&scope.resource).label()
            )),
        },
    }
}

/// The lowest role whose ceiling includes some access to `resource`.
fn needed_role(resource: &Resource) -> Role {
    Role::ALL
        .into_iter()
        .rev()
        .find(|role| resource.ceiling(*role).is_some())
        .unwrap_or(Role::Admin)
}

/// One row of the add form's "Only what I choose" table: a resource and the levels a token of
/// `role` may be given on it (empty: the row is not offered).
pub struct ResourceChoice {
    pub resource: Resource,
    pub levels: Vec<Level>,
}

/// The rows the add form offers a token of at most `role`: the built-in resources, then the
/// account's services, each with the levels within the ceiling.
pub fn choices(role: Role, services: &[Resource]) -> Vec<ResourceChoice> {
    BUILT_IN
        .iter()
        .map(|name| Resource(Cow::Borrowed(name)))
        .chain(services.iter().cloned())
        .filter_map(|resource| {
            let ceiling = resource.ceiling(role)?;
            let levels = [Level::Read, Level::Write]
                .into_iter()
                .filter(|level| *level <= ceiling)
                .collect();
            Some(ResourceChoice { resource, levels })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_names_the_lowest_role_that_may_hold_it() {
        let tokens = Resource::TOKENS;
        assert_eq!(tokens.lowest_role_for(Level::Read), Some(Role::ReadOnly));
        assert_eq!(tokens.lowest_role_for(Level::Write), Some(Role::Engineer));
        let users = Resource::parse("users").unwrap();
        assert_eq!(users.lowest_role_for(Level::Write), Some(Role::Admin));
        let introspect = Resource::parse("introspect").unwrap();
        assert_eq!(
            introspect.lowest_role_for(Level::Read),
            Some(Role::Engineer)
        );
        assert_eq!(introspect.lowest_role_for(Level::Write), None);
    }

    fn scoped(scopes: &[&str], role: Role) -> Result<Access, DomainError> {
        Access::parse_scopes(scopes.iter().copied(), role)
    }

    fn scope(raw: &str) -> Scope {
        parse_scope(raw).unwrap()
    }

    #[test]
    fn write_implies_read_and_scopes_never_widen_the_role() {
        let access = scoped(&["billing:write", "tokens:read"], Role::Engineer).unwrap();
        assert!(access.grants(&scope("billing:read"), Role::Engineer));
        assert!(access.grants(&scope("billing:write"), Role::Engineer));
        assert!(access.grants(&scope("tokens:read"), Role::Engineer));
        assert!(!access.grants(&scope("tokens:write"), Role::Engineer));
        assert!(!access.grants(&scope("other:read"), Role::Engineer));
        // The issuer was demoted: the write scope now reads only.
        assert!(!access.grants(&scope("billing:write"), Role::ReadOnly));
        assert!(access.grants(&scope("billing:read"), Role::ReadOnly));
    }

    #[test]
    fn full_access_is_what_the_role_allows() {
        let full = Access::Full;
        assert!(full.grants(&scope("tokens:write"), Role::Engineer));
        assert!(!full.grants(&scope("tokens:write"), Role::ReadOnly));
        assert!(full.grants(&scope("billing:write"), Role::Engineer));
        assert!(!full.grants(&scope("audit:read"), Role::Engineer));
        assert!(full.grants(&scope("audit:read"), Role::Admin));
        assert!(full.grants(&scope("introspect:read"), Role::Engineer));
        assert!(!full.grants(&scope("introspect:read"), Role::ReadOnly));
    }

    #[test]
    fn the_ceiling_refuses_what_the_role_may_not_hold() {
        let refused = |scopes: &[&str], role| scoped(scopes, role).unwrap_err().message;
        assert!(refused(&["tokens:write"], Role::ReadOnly).contains("only read scopes"));
        assert!(refused(&["users:read"], Role::Engineer).contains("Administrator"));
        assert!(refused(&["audit:read"], Role::Engineer).contains("Administrator"));
        assert!(refused(&["introspect:read"], Role::ReadOnly).contains("Engineer"));
        assert!(refused(&["audit:write"], Role::Admin).contains("does not exist"));
        assert!(refused(&["introspect:write"], Role::Admin).contains("does not exist"));
        assert!(
            scoped(
                &["users:write", "audit:read", "introspect:read"],
                Role::Admin
            )
            .is_ok()
        );
    }

    #[test]
    fn bad_scopes_are_refused_with_a_message() {
        let refused = |scopes: &[&str]| scoped(scopes, Role::Admin).unwrap_err().message;
        assert!(refused(&["billing"]).contains("not a scope"));
        assert!(refused(&["billing:delete"]).contains("not a level"));
        assert!(refused(&["Bill:read"]).contains("not a resource name"));
        assert!(refused(&["bill\0ing:read"]).contains("not a resource name"));
        assert!(refused(&["<b>x</b>:read"]).contains("not a resource name"));
        assert!(refused(&["billing:read", "billing:write"]).contains("more than once"));
        assert!(refused(&[]).contains("at least one"));
        let many: Vec<String> = (0..1000).map(|i| format!("s{i}:read")).collect();
        let many = Access::parse_scopes(many.iter().map(String::as_str), Role::Admin);
        assert!(many.unwrap_err().message.contains("at most 64"));
        let error = Access::parse("owner", &[], Role::Admin).unwrap_err();
        assert_eq!(error.field, "access");
    }

    #[test]
    fn a_scoped_token_gives_out_no_more_than_it_holds() {
        let giver = scoped(&["tokens:write", "billing:read"], Role::Engineer).unwrap();
        let asked = |scopes: &[&str]| scoped(scopes, Role::Engineer).unwrap();
        assert!(
            asked(&["tokens:read", "billing:read"])
                .within(&giver, Role::Engineer)
                .is_ok()
        );
        assert!(
            asked(&["billing:write"])
                .within(&giver, Role::Engineer)
                .is_err()
        );
        assert!(
            asked(&["introspect:read"])
                .within(&giver, Role::Engineer)
                .is_err()
        );
        assert!(Access::Full.within(&giver, Role::Engineer).is_err());
        // Demoted, the giver's own write is read only, and so is what it may give.
        assert!(
            asked(&["tokens:write"])
                .within(&giver, Role::ReadOnly)
                .is_err()
        );
        assert!(Access::Full.within(&Access::Full, Role::ReadOnly).is_ok());
    }

    #[test]
    fn the_access_in_force_is_capped_by_the_role() {
        let access = scoped(
            &["billing:write", "introspect:read", "tokens:read"],
            Role::Engineer,
        )
        .unwrap();
        assert_eq!(access.effective(Role::Engineer), access);
        assert_eq!(
            access.effective(Role::ReadOnly).scope_string(),
            "billing:read tokens:read"
        );
        assert_eq!(Access::Full.effective(Role::ReadOnly), Access::Full);
    }

    #[test]
    fn stored_form_reads_back_and_names_each_resource_once() {
        let access = scoped(&["tokens:read", "billing:write"], Role::Admin).unwrap();
        let stored = access.to_stored().unwrap();
        assert_eq!(stored, " billing:write tokens:read");
        assert_eq!(Access::from_stored(Some(&stored)), access);
        assert_eq!(Access::from_stored(None), Access::Full);
        assert_eq!(Access::Full.to_stored(), None);
        assert_eq!(access.summary(), "billing:write, tokens:read");
        assert_eq!(Access::Full.summary(), "Full access");
    }

    #[test]
    fn services_must_exist_and_not_shadow_built_ins() {
        let access = scoped(&["billing:read", "tokens:read"], Role::Admin).unwrap();
        let billing = Resource::parse("billing").unwrap();
        assert!(access.unknown_services(&[]).is_err());
        assert!(access.unknown_services(&[billing]).is_ok());
    }

    #[test]
    fn the_form_offers_only_levels_within_the_ceiling() {
        let billing = Resource::parse("billing").unwrap();
        let rows = choices(Role::ReadOnly, std::slice::from_ref(&billing));
        let names: Vec<&str> = rows.iter().map(|r| r.resource.as_str()).collect();
        assert_eq!(names, ["tokens", "billing"]);
        assert!(rows.iter().all(|r| r.levels == [Level::Read]));
        let admin = choices(Role::Admin, &[billing]);
        let audit = admin
            .iter()
            .find(|r| r.resource == Resource::AUDIT)
            .unwrap();
        assert_eq!(audit.levels, [Level::Read]);
        assert_eq!(admin.len(), 5);
    }
}
