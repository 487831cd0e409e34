//! Roles and their order. "No higher than" always compares through `Ord` here.

use std::fmt;

/// Declared lowest first so the derived `Ord` is the product's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    ReadOnly,
    Engineer,
    Admin,
}

impl Role {
    /// Highest first, as forms list them.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Engineer, Role::ReadOnly];

    /// The stored and form value (`admin`, `engineer`, `read_only`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Engineer => "engineer",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Engineer => "Engineer",
            Role::ReadOnly => "Read-only",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == raw)
    }

    /// The roles someone holding `self` may hand out, highest first.
    pub fn grantable(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |role| *role <= self)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_admin_over_engineer_over_read_only() {
        assert!(Role::Admin > Role::Engineer);
        assert!(Role::Engineer > Role::ReadOnly);
    }

    #[test]
    fn parse_round_trips_and_rejects_labels() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Administrator"), None);
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn an_engineer_cannot_grant_admin() {
        let grantable: Vec<Role> = Role::Engineer.grantable().collect();
        assert_eq!(grantable, vec![Role::Engineer, Role::ReadOnly]);
    }
}
