//! The kinds of event the audit log records (product.md §6), with the words the audit page shows.
//! The stored value is `as_str`; a kind is never renamed once written.

/// Declared in the order the audit page's action filter lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    LoginSucceeded,
    LoginFailed,
    TokenCreated,
    TokenRegenerated,
    TokenDeleted,
    TokenReportedLeaked,
    TokenIpRefused,
    TokenSuspended,
    TokenResumed,
    UserAdded,
    RoleChanged,
    UserDeactivated,
    UserReactivated,
    PasswordChanged,
    PolicyChanged,
    ServiceAdded,
    ServiceDeleted,
}

impl AuditKind {
    pub const ALL: [AuditKind; 17] = [
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::TokenCreated,
        AuditKind::TokenRegenerated,
        AuditKind::TokenDeleted,
        AuditKind::TokenReportedLeaked,
        AuditKind::TokenIpRefused,
        AuditKind::TokenSuspended,
        AuditKind::TokenResumed,
        AuditKind::UserAdded,
        AuditKind::RoleChanged,
        AuditKind::UserDeactivated,
        AuditKind::UserReactivated,
        AuditKind::PasswordChanged,
        AuditKind::PolicyChanged,
        AuditKind::ServiceAdded,
        AuditKind::ServiceDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login_succeeded",
            AuditKind::LoginFailed => "login_failed",
            AuditKind::TokenCreated => "token_created",
            AuditKind::TokenRegenerated => "token_regenerated",
            AuditKind::TokenDeleted => "token_deleted",
            AuditKind::TokenReportedLeaked => "token_reported_leaked",
            AuditKind::TokenIpRefused => "token_ip_refused",
            AuditKind::TokenSuspended => "token_suspended",
            AuditKind::TokenResumed => "token_resumed",
            AuditKind::UserAdded => "user_added",
            AuditKind::RoleChanged => "role_changed",
            AuditKind::UserDeactivated => "user_deactivated",
            AuditKind::UserReactivated => "user_reactivated",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::PolicyChanged => "policy_changed",
            AuditKind::ServiceAdded => "service_added",
            AuditKind::ServiceDeleted => "service_deleted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "Signed in",
            AuditKind::LoginFailed => "Failed sign-in",
            AuditKind::TokenCreated => "Token created",
            AuditKind::TokenRegenerated => "Token regenerated",
            AuditKind::TokenDeleted => "Token deleted",
            AuditKind::TokenReportedLeaked => "Token reported leaked and revoked",
            AuditKind::TokenIpRefused => "Token refused from an address outside its allowlist",
            AuditKind::TokenSuspended => "Token suspended",
            AuditKind::TokenResumed => "Token resumed",
            AuditKind::UserAdded => "User added",
            AuditKind::RoleChanged => "Role changed",
            AuditKind::UserDeactivated => "User deactivated",
            AuditKind::UserReactivated => "User reactivated",
            AuditKind::PasswordChanged => "Password changed",
            AuditKind::PolicyChanged => "Policy changed",
            AuditKind::ServiceAdded => "Service added",
            AuditKind::ServiceDeleted => "Service deleted",
        }
    }

    pub fn parse(raw: &str) -> Option<AuditKind> {
        AuditKind::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_has_its_own_name() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        let mut names: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditKind::ALL.len());
        assert_eq!(AuditKind::parse("token_created; DROP TABLE"), None);
    }
}
