//! The add and regenerate forms' access choice (product.md §9): "Full access" or "Only what I
//! choose", with one row per resource offering only the levels within the role's ceiling.

use super::forms::Choice;
use crate::domain::Role;
use crate::domain::scopes::{self, Access, Resource};

/// One choice of a row: a level, and the lowest token role that may hold it, so the page can
/// turn off what the role picked in the same form cannot hold.
pub struct ScopeOption {
    pub choice: Choice,
    /// `read_only`, `engineer` or `admin`; empty for "No access".
    pub min_role: &'static str,
}

/// One row of the "Only what I choose" table.
pub struct ScopeRow {
    pub resource: String,
    pub description: String,
    /// "No access", then each level the role allows; `selected` marked.
    pub options: Vec<ScopeOption>,
}

/// The access part of a form, as typed or as stored.
pub struct AccessField {
    pub scoped: bool,
    pub rows: Vec<ScopeRow>,
    /// The token is another's (a service account's): "its role", not "your role".
    pub for_other: bool,
}

impl AccessField {
    /// The rows a token of at most `role` is offered, with `chosen` (`RESOURCE:LEVEL`s) marked.
    pub fn new(
        role: Role,
        services: &[(Resource, String)],
        scoped: bool,
        chosen: &[String],
    ) -> Self {
        let names: Vec<Resource> = services.iter().map(|(name, _)| name.clone()).collect();
        let rows = scopes::choices(role, &names)
            .into_iter()
            .map(|choice| {
                let resource = choice.resource;
                let description = services
                    .iter()
                    .find(|(name, _)| *name == resource)
                    .map_or_else(|| resource.description().to_owned(), |(_, d)| d.clone());
                let mut options = vec![ScopeOption {
                    choice: Choice {
                        value: String::new(),
                        label: "No access".into(),
                        selected: false,
                    },
                    min_role: "",
                }];
                options.extend(choice.levels.iter().map(|level| {
                    let value = format!("{resource}:{}", level.as_str());
                    ScopeOption {
                        choice: Choice {
                            selected: chosen.contains(&value),
                            label: level.label().into(),
                            value,
                        },
                        min_role: resource.lowest_role_for(*level).map_or("", Role::as_str),
                    }
                }));
                if !options.iter().any(|o| o.choice.selected) {
                    options[0].choice.selected = true;
                }
                ScopeRow {
                    resource: resource.to_string(),
                    description,
                    options,
                }
            })
            .collect();
        Self {
            scoped,
            rows,
            for_other: false,
        }
    }

    /// The field for a token's stored access (regenerate's prefill).
    pub fn of(role: Role, services: &[(Resource, String)], access: &Access) -> Self {
        let chosen: Vec<String> = access
            .scopes()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect();
        Self::new(role, services, matches!(access, Access::Scoped(_)), &chosen)
    }
}

/// The `scopes` values of a form, one per line as `CsrfForm` joins them.
pub fn typed_scopes(joined: &str) -> Vec<String> {
    joined.lines().map(str::to_owned).collect()
}
