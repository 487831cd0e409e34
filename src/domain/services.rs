//! The account's own services (product.md §9): APIs that administrators register so that
//! tokens can be scoped to them. Each is a resource with `read` and `write`.

use chrono::NaiveDateTime;

use super::DomainError;
use super::audit::AuditKind;
use super::name::TokenDescription;
use super::scopes::{MAX_SERVICES, Resource, shown};
use super::tokens::AuditNote;

/// A registered service, with how many live scoped tokens name it.
#[derive(Debug, Clone)]
pub struct Service {
    pub name: Resource,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub holders: i64,
}

/// A service as an administrator asked for it, every field parsed.
#[derive(Debug, Clone)]
pub struct NewService {
    pub name: Resource,
    pub description: String,
}

impl NewService {
    /// Checks both fields and reports both errors at once.
    pub fn parse(name: &str, description: &str) -> Result<NewService, Vec<DomainError>> {
        // A service's description follows a token's rules: optional, 500 characters, text.
        let description = TokenDescription::parse(description).map(|d| d.as_str().to_owned());
        match (parse_name(name), description) {
            (Ok(name), Ok(description)) => Ok(NewService { name, description }),
            (name, description) => Err([name.err(), description.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

fn parse_name(raw: &str) -> Result<Resource, DomainError> {
    let name = raw.trim();
    let resource = Resource::parse(name).ok_or_else(|| {
        DomainError::new(
            "name",
            format!(
                "`{}` is not a service name: start with a lower-case letter, then up to 39 \
                 lower-case letters, digits or dashes.",
                shown(name)
            ),
        )
    })?;
    if resource.is_built_in() {
        return Err(DomainError::new(
            "name",
            format!("`{resource}` is a built-in resource; choose another name."),
        ));
    }
    Ok(resource)
}

/// Why a service was not added or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceRefusal {
    Invalid(Vec<DomainError>),
    NotFound,
    Taken {
        name: String,
    },
    TooMany,
    /// Live scoped tokens still name it.
    Held {
        name: String,
        tokens: i64,
    },
}

impl ServiceRefusal {
    pub fn message(&self) -> String {
        match self {
            Self::Invalid(errors) => errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            Self::NotFound => "There is no such service in this account.".into(),
            Self::Taken { name } => {
                format!("This account already has a service named `{name}`.")
            }
            Self::TooMany => format!(
                "This account already has {MAX_SERVICES} services, the most it may register."
            ),
            Self::Held { name, tokens } => format!(
                "Service `{name}` is held by {tokens} live token{}; delete or regenerate {} \
                 without it first.",
                if *tokens == 1 { "" } else { "s" },
                if *tokens == 1 {
                    "that token"
                } else {
                    "those tokens"
                }
            ),
        }
    }
}

/// Whether `new` may be added to an account holding `existing` services, one of them perhaps
/// of the same name.
pub fn plan_add(
    new: &NewService,
    existing: usize,
    name_taken: bool,
) -> Result<AuditNote, ServiceRefusal> {
    if name_taken {
        return Err(ServiceRefusal::Taken {
            name: new.name.to_string(),
        });
    }
    if existing >= MAX_SERVICES {
        return Err(ServiceRefusal::TooMany);
    }
    Ok(AuditNote {
        kind: AuditKind::ServiceAdded,
        detail: new.name.to_string(),
    })
}

/// Whether `service` may be deleted while `live_holders` live tokens name it.
pub fn plan_delete(service: &Resource, live_holders: i64) -> Result<AuditNote, ServiceRefusal> {
    if live_holders > 0 {
        return Err(ServiceRefusal::Held {
            name: service.to_string(),
            tokens: live_holders,
        });
    }
    Ok(AuditNote {
        kind: AuditKind::ServiceDeleted,
        detail: service.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_may_not_be_built_in() {
        let name_error = |name: &str| NewService::parse(name, "").unwrap_err()[0].message.clone();
        assert!(name_error("tokens").contains("built-in"));
        assert!(name_error("Billing").contains("not a service name"));
        assert!(name_error(&"a".repeat(41)).contains("not a service name"));
        assert!(name_error("bill\0ing").contains("not a service name"));
        assert!(name_error("<script>").contains("not a service name"));
        let ok = NewService::parse(" billing-v2 ", " Invoices ").unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.description.as_str()),
            ("billing-v2", "Invoices")
        );
        let both = NewService::parse("", &"d".repeat(501)).unwrap_err();
        assert_eq!(both.len(), 2);
    }

    #[test]
    fn a_held_service_is_not_deleted_and_says_by_how_many() {
        let billing = Resource::parse("billing").unwrap();
        let refusal = plan_delete(&billing, 2).unwrap_err();
        assert!(refusal.message().contains("held by 2 live tokens"));
        assert_eq!(
            plan_delete(&billing, 0).unwrap().kind,
            AuditKind::ServiceDeleted
        );
    }

    #[test]
    fn names_are_unique_and_the_count_is_capped() {
        let new = NewService::parse("billing", "").unwrap();
        assert!(matches!(
            plan_add(&new, 0, true),
            Err(ServiceRefusal::Taken { .. })
        ));
        assert_eq!(
            plan_add(&new, MAX_SERVICES, false),
            Err(ServiceRefusal::TooMany)
        );
        assert!(plan_add(&new, 3, false).is_ok());
    }
}
