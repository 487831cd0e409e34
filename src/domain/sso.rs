//! Single sign-on through the company's OpenID Connect provider (product.md §11): the rules, free
//! of HTTP. Which role a person's groups give them, and what a person is called here.

use serde_json::Value;

use super::Role;
use super::users::{DisplayName, Email, Username};

/// `OIDC_ROLE_MAP`: provider group → role, e.g. `pt-admins=admin,pt-engineers=engineer`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMap(Vec<(String, Role)>);

impl RoleMap {
    /// Refuses, in one line, anything but `GROUP=ROLE` pairs separated by commas.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut pairs = Vec::new();
        for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((group, role)) = pair.split_once('=') else {
                return Err(format!(
                    "OIDC_ROLE_MAP: `{pair}` is not GROUP=ROLE (for example pt-admins=admin)"
                ));
            };
            let group = group.trim();
            if group.is_empty() || group.chars().any(char::is_control) {
                return Err(format!("OIDC_ROLE_MAP: `{pair}` names no group"));
            }
            let role = Role::parse(role.trim()).ok_or_else(|| {
                format!(
                    "OIDC_ROLE_MAP: `{}` is not a role; use admin, engineer or read_only",
                    role.trim()
                )
            })?;
            pairs.push((group.to_owned(), role));
        }
        Ok(Self(pairs))
    }

    /// Whether the provider decides roles: with no map (Google, whose tokens carry no groups),
    /// administrators do, on the users page, and sign-ins leave roles alone.
    pub fn decides_roles(&self) -> bool {
        !self.0.is_empty()
    }

    /// The role the provider gives: `None` where it decides none (no map), else what
    /// `role_for` says.
    pub fn role_from(&self, claim: Option<&Value>) -> Option<Role> {
        self.decides_roles().then(|| self.role_for(claim))
    }

    /// The highest role any of the person's groups maps to; Read-only when none does. The
    /// claim may be a list of groups or a single one; anything else maps to nothing.
    pub fn role_for(&self, claim: Option<&Value>) -> Role {
        let groups: Vec<&str> = match claim {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        self.0
            .iter()
            .filter(|(group, _)| groups.contains(&group.as_str()))
            .map(|(_, role)| *role)
            .max()
            .unwrap_or(Role::ReadOnly)
    }
}

/// One re-check pass may deactivate people only while their revocations look like people
/// leaving. `invalid_grant` also answers a client registration changed, a provider that lost
/// its sessions, or refresh tokens outlived while the app was down: then everyone comes back
/// "revoked" at once. From this many, when they are over half of those the pass asked about, the
/// pass deactivates nobody and says so; each person is asked about again next interval.
pub const REVOCATIONS_THAT_LOOK_WRONG: usize = 5;

/// Whether `revoked` of the `answered` people one pass asked about look like the provider's
/// mistake (or ours) rather than people leaving.
pub fn revocations_look_wrong(revoked: usize, answered: usize) -> bool {
    revoked >= REVOCATIONS_THAT_LOOK_WRONG && revoked * 2 > answered
}

/// What the provider says of a person, once its ID token was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoPerson {
    pub subject: String,
    pub email: Option<Email>,
    pub display_name: DisplayName,
    /// The usernames to try, best first, for a person seen for the first time.
    pub usernames: Vec<Username>,
    /// What the provider's groups give, where it decides roles (`RoleMap::role_from`).
    pub role: Option<Role>,
}

impl SsoPerson {
    /// Someone seen for the first time starts with the provider's role, else Read-only.
    pub fn first_role(&self) -> Role {
        self.role.unwrap_or(Role::ReadOnly)
    }
}

impl SsoPerson {
    /// From the verified claims: `sub`, and `email`, `name` and `preferred_username` where
    /// usable. A claim that breaks our rules (an address that is not one, a name with control
    /// characters) is left out rather than refusing the person.
    pub fn from_claims(
        subject: &str,
        email: Option<&str>,
        name: Option<&str>,
        preferred_username: Option<&str>,
        role: Option<Role>,
    ) -> Self {
        let email = email.and_then(|e| Email::parse_optional(e).ok().flatten());
        let mut usernames: Vec<Username> = [preferred_username, email.as_ref().map(Email::as_str)]
            .into_iter()
            .flatten()
            .filter_map(|candidate| Username::parse(candidate).ok())
            .collect();
        let from_subject: String = subject
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(20)
            .collect();
        if let Ok(fallback) = Username::parse(&format!("sso-{from_subject}")) {
            usernames.push(fallback);
        }
        usernames.dedup();
        let display_name = name
            .and_then(|n| DisplayName::parse(n).ok())
            .or_else(|| {
                usernames
                    .first()
                    .and_then(|u| DisplayName::parse(u.as_str()).ok())
            })
            .or_else(|| DisplayName::parse("SSO user").ok())
            .expect("a constant display name is valid");
        Self {
            subject: subject.to_owned(),
            email,
            display_name,
            usernames,
            role,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_highest_mapped_group_wins_and_no_match_is_read_only() {
        let map = RoleMap::parse("pt-admins=admin, pt-engineers=engineer").unwrap();
        let groups = json!(["staff", "pt-engineers", "pt-admins"]);
        assert_eq!(map.role_for(Some(&groups)), Role::Admin);
        assert_eq!(map.role_for(Some(&json!("pt-engineers"))), Role::Engineer);
        assert_eq!(map.role_for(Some(&json!(["staff"]))), Role::ReadOnly);
        assert_eq!(map.role_for(None), Role::ReadOnly);
        assert_eq!(map.role_for(Some(&json!(42))), Role::ReadOnly);
        assert_eq!(
            RoleMap::parse("").unwrap().role_for(Some(&groups)),
            Role::ReadOnly
        );
    }

    #[test]
    fn a_pass_where_most_are_revoked_deactivates_nobody() {
        assert!(!revocations_look_wrong(1, 1), "one person leaving");
        assert!(!revocations_look_wrong(4, 4), "a small team leaving");
        assert!(revocations_look_wrong(5, 5), "everyone at once");
        assert!(revocations_look_wrong(6, 10));
        assert!(
            !revocations_look_wrong(5, 10),
            "half of a pass is people leaving"
        );
        assert!(
            !revocations_look_wrong(40, 1000),
            "a layoff in a large company"
        );
    }

    #[test]
    fn without_a_map_the_provider_decides_no_role() {
        let groups = json!(["pt-admins"]);
        assert_eq!(RoleMap::parse("").unwrap().role_from(Some(&groups)), None);
        let map = RoleMap::parse("pt-admins=admin").unwrap();
        assert_eq!(map.role_from(Some(&groups)), Some(Role::Admin));
        assert_eq!(
            map.role_from(None),
            Some(Role::ReadOnly),
            "a mapped provider demotes"
        );
        let person = SsoPerson::from_claims("s", None, None, None, None);
        assert_eq!(person.first_role(), Role::ReadOnly);
    }

    #[test]
    fn a_map_that_cannot_be_read_says_why_in_one_line() {
        for (raw, words) in [
            ("pt-admins", "is not GROUP=ROLE"),
            ("pt-admins=root", "`root` is not a role"),
            ("=admin", "names no group"),
        ] {
            let error = RoleMap::parse(raw).unwrap_err();
            assert!(error.contains(words), "{raw}: {error}");
            assert!(!error.contains('\n'));
        }
    }

    #[test]
    fn a_person_is_named_from_the_usable_claims() {
        let ada = SsoPerson::from_claims(
            "00u1",
            Some("Ada@Example.com"),
            Some("Ada Lovelace"),
            None,
            Some(Role::Engineer),
        );
        assert_eq!(ada.usernames[0].as_str(), "ada@example.com");
        assert_eq!(ada.usernames[1].as_str(), "sso-00u1");
        assert_eq!(ada.display_name.as_str(), "Ada Lovelace");
        let odd = SsoPerson::from_claims(
            "x|y",
            Some("not mail"),
            Some("bad\u{0}"),
            None,
            Some(Role::ReadOnly),
        );
        assert_eq!(odd.email, None);
        assert_eq!(odd.usernames[0].as_str(), "sso-xy");
        assert_eq!(odd.display_name.as_str(), "sso-xy");
    }
}
