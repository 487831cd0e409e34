//! Accounts and users as typed at setup, on the command line, or at sign-in.

use secrecy::{ExposeSecret, SecretString};

use super::{DomainError, Role};

pub const ACCOUNT_NAME_MAX: usize = 100;
pub const USERNAME_MAX: usize = 64;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const PASSWORD_MIN: usize = 12;
/// Argon2 takes any length, but a megabyte password is a denial of service, not a password.
pub const PASSWORD_MAX: usize = 1024;
/// A generated initial password: 20 base62 characters, about 119 bits.
pub const GENERATED_PASSWORD_LEN: usize = 20;

fn trimmed_text(
    field: &'static str,
    label: &str,
    raw: &str,
    max: usize,
) -> Result<String, DomainError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(DomainError::new(field, format!("{label} is required.")));
    }
    if value.chars().count() > max {
        return Err(DomainError::new(
            field,
            format!("{label} must be at most {max} characters."),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::new(
            field,
            format!("{label} cannot contain control characters."),
        ));
    }
    Ok(value.to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName(String);

impl AccountName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        trimmed_text("account", "Account name", raw, ACCOUNT_NAME_MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        trimmed_text("display_name", "Display name", raw, DISPLAY_NAME_MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Usernames are stored lower-case so `Alice` and `alice` cannot be two people. `@` and `+`
/// are allowed because identity providers name people by e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(DomainError::new("username", "Username is required."));
        }
        if value.chars().count() > USERNAME_MAX {
            return Err(DomainError::new(
                "username",
                format!("Username must be at most {USERNAME_MAX} characters."),
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'))
        {
            return Err(DomainError::new(
                "username",
                "Username may use only letters, digits, '.', '_', '-', '@' and '+'.",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password being set (setup, `user add`). Sign-in takes whatever was typed instead, so a
/// rule added here later does not lock out existing users.
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(raw: &str, confirm: Option<&str>) -> Result<Self, DomainError> {
        let length = raw.chars().count();
        if length == 0 {
            return Err(DomainError::new("password", "Password is required."));
        }
        if length < PASSWORD_MIN {
            return Err(DomainError::new(
                "password",
                format!("Password must be at least {PASSWORD_MIN} characters."),
            ));
        }
        if length > PASSWORD_MAX {
            return Err(DomainError::new(
                "password",
                format!("Password must be at most {PASSWORD_MAX} characters."),
            ));
        }
        if let Some(confirm) = confirm
            && confirm != raw
        {
            return Err(DomainError::new(
                "password_confirm",
                "The two passwords do not match.",
            ));
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// An initial password for someone an administrator adds without typing one.
    pub fn generate() -> Self {
        Self(SecretString::from(super::secret::random_base62(
            GENERATED_PASSWORD_LEN,
        )))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

pub const EMAIL_MAX: usize = 254;

/// An e-mail address for notices. Deliberately loose (one `@`, a dot in the domain, no spaces or
/// control characters): the mail server is the judge of the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Blank means "no address".
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, DomainError> {
        let value = raw.trim();
        if value.is_empty() {
            return Ok(None);
        }
        let refuse = |message: &str| Err(DomainError::new("email", message));
        if value.chars().count() > EMAIL_MAX {
            return refuse("E-mail address must be at most 254 characters.");
        }
        if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return refuse("E-mail address cannot contain spaces or control characters.");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return refuse("Enter an e-mail address such as name@example.com.");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !domain.contains(['<', '>', '"', ',', ';', '(', ')', '[', ']', '\\']);
        if local.is_empty() || !domain_ok || local.contains(['<', '>', '"', ',', ';']) {
            return refuse("Enter an e-mail address such as name@example.com.");
        }
        Ok(Some(Self(value.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person signs in; a service account never does (no password, no e-mail, never SSO or
/// SCIM): automation that outlives whoever set it up (product.md §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKind {
    Person,
    Service,
}

impl UserKind {
    /// Blank is a person, the form's default.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "" | "person" => Some(UserKind::Person),
            "service" => Some(UserKind::Service),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Person => "person",
            UserKind::Service => "service",
        }
    }
}

/// A new person as typed on the setup page, on `/users/new` or to `user add`.
pub struct NewUserInput<'a> {
    pub account: &'a str,
    pub username: &'a str,
    /// Blank: the username, unless `display_name_required` (setup asks for one).
    pub display_name: &'a str,
    pub display_name_required: bool,
    pub email: &'a str,
    pub role: &'a str,
    pub password: &'a str,
    /// The password typed again, where the page asks for it.
    pub password_confirm: Option<&'a str>,
    /// A blank password is made here, to be shown once (`/users/new`).
    pub blank_password_is_generated: bool,
    /// `person` (or blank) or `service`.
    pub kind: &'a str,
}

/// A new person who passed every rule, with the password to hash.
#[derive(Debug)]
pub struct NewUser {
    pub account: AccountName,
    pub username: Username,
    pub display_name: DisplayName,
    pub email: Option<Email>,
    pub role: Role,
    /// `None` for a service account, which has none.
    pub password: Option<NewPassword>,
    /// The password was generated, not typed: it is shown once.
    pub password_generated: bool,
    pub kind: UserKind,
}

impl NewUser {
    /// Checks every field and reports every error at once, so a form shows them all.
    pub fn parse(input: &NewUserInput<'_>) -> Result<Self, Vec<DomainError>> {
        let kind = UserKind::parse(input.kind)
            .ok_or_else(|| DomainError::new("kind", "Choose a person or a service account."));
        let service = kind == Ok(UserKind::Service);
        let account = AccountName::parse(input.account);
        let username = Username::parse(input.username);
        let display_name = if input.display_name.trim().is_empty() && !input.display_name_required {
            username
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|name| DisplayName::parse(name.as_str()))
        } else {
            DisplayName::parse(input.display_name)
        };
        let email = if service && !input.email.trim().is_empty() {
            Err(DomainError::new(
                "email",
                "A service account has no e-mail: its notices go to the administrators.",
            ))
        } else {
            Email::parse_optional(input.email)
        };
        let role = Role::parse(input.role.trim())
            .ok_or_else(|| DomainError::new("role", "Choose a role."));
        // A service account never signs in: it has no password, and none is made for it.
        let generated = !service && input.password.is_empty() && input.blank_password_is_generated;
        let password = if service {
            if input.password.is_empty() {
                Ok(None)
            } else {
                Err(DomainError::new(
                    "password",
                    "A service account has no password: it never signs in.",
                ))
            }
        } else if generated {
            Ok(Some(NewPassword::generate()))
        } else {
            NewPassword::parse(input.password, input.password_confirm).map(Some)
        };
        // A username error is reported once, under its own field.
        let display_name = match (&username, display_name) {
            (Err(_), Err(e)) if e.field == "username" => Err(None),
            (_, other) => other.map_err(Some),
        };
        match (kind, account, username, display_name, email, role, password) {
            (
                Ok(kind),
                Ok(account),
                Ok(username),
                Ok(display_name),
                Ok(email),
                Ok(role),
                Ok(password),
            ) => Ok(Self {
                account,
                username,
                display_name,
                email,
                role,
                password,
                password_generated: generated,
                kind,
            }),
            (kind, account, username, display_name, email, role, password) => Err([
                kind.err(),
                account.err(),
                username.err(),
                display_name.err().flatten(),
                email.err(),
                role.err(),
                password.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

impl NewUser {
    /// The password to hash; a service account has none (and its blank is never stored).
    pub fn password_text(&self) -> &str {
        self.password.as_ref().map_or("", NewPassword::expose)
    }
}

/// A change to someone's standing that could leave an account without an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingChange {
    Role(Role),
    Deactivate,
    Reactivate,
}

impl StandingChange {
    /// The audit entry this change to `user` makes: its kind and how it reads.
    pub fn audit_entry(self, user: &User) -> (super::audit::AuditKind, String) {
        use super::audit::AuditKind;
        match self {
            StandingChange::Role(role) => (
                AuditKind::RoleChanged,
                format!(
                    "{}: {} → {}",
                    user.username,
                    user.role.label(),
                    role.label()
                ),
            ),
            StandingChange::Deactivate => (AuditKind::UserDeactivated, user.username.clone()),
            StandingChange::Reactivate => (AuditKind::UserReactivated, user.username.clone()),
        }
    }
}

/// How an added user reads in the audit log: "bob (Engineer)".
pub fn added_audit_detail(user: &User) -> String {
    format!("{} ({})", user.username, user.role.label())
}

/// The last active administrator of an account can be neither demoted nor deactivated: nobody
/// could undo it from the browser. `active_admins` counts the account's active administrators,
/// `target` included.
pub fn keeps_an_administrator(
    target: &User,
    change: StandingChange,
    active_admins: i64,
) -> Result<(), DomainError> {
    let removes_an_admin = target.active
        && target.role == Role::Admin
        && match change {
            StandingChange::Role(role) => role != Role::Admin,
            StandingChange::Deactivate => true,
            StandingChange::Reactivate => false,
        };
    if removes_an_admin && active_admins <= 1 {
        let field = match change {
            StandingChange::Role(_) => "role",
            StandingChange::Deactivate | StandingChange::Reactivate => "active",
        };
        return Err(DomainError::new(
            field,
            "This is the account's last active administrator. Make someone else an \
             administrator first.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_lower_cased() {
        assert_eq!(Username::parse("  Alice ").unwrap().as_str(), "alice");
    }

    #[test]
    fn usernames_refuse_spaces_markup_and_length() {
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("<script>").is_err());
        assert!(Username::parse(&"a".repeat(USERNAME_MAX + 1)).is_err());
        assert_eq!(Username::parse("").unwrap_err().field, "username");
    }

    #[test]
    fn names_count_characters_not_bytes() {
        let hundred_accented = "é".repeat(ACCOUNT_NAME_MAX);
        assert!(AccountName::parse(&hundred_accented).is_ok());
        assert!(AccountName::parse(&format!("{hundred_accented}é")).is_err());
    }

    #[test]
    fn passwords_need_twelve_characters_and_a_matching_confirmation() {
        assert!(NewPassword::parse("short", None).is_err());
        assert!(NewPassword::parse("long enough pass", None).is_ok());
        let mismatch =
            NewPassword::parse("long enough pass", Some("long enough pasS")).unwrap_err();
        assert_eq!(mismatch.field, "password_confirm");
    }

    #[test]
    fn email_is_optional_and_loosely_checked() {
        assert_eq!(Email::parse_optional("  ").unwrap(), None);
        let email = Email::parse_optional(" ada@example.com ").unwrap().unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
        for bad in [
            "ada",
            "ada@localhost",
            "@example.com",
            "ada@@example.com",
            "a da@example.com",
            "ada@example.com\0",
            "<script>@x.y",
        ] {
            assert_eq!(
                Email::parse_optional(bad).unwrap_err().field,
                "email",
                "{bad:?}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(EMAIL_MAX));
        assert!(Email::parse_optional(&long).is_err());
    }

    fn someone(role: Role, active: bool) -> User {
        User {
            active,
            ..User::sample(role)
        }
    }

    #[test]
    fn the_last_active_administrator_stays_one() {
        let admin = someone(Role::Admin, true);
        let demote = StandingChange::Role(Role::Engineer);
        assert_eq!(
            keeps_an_administrator(&admin, demote, 1).unwrap_err().field,
            "role"
        );
        assert!(keeps_an_administrator(&admin, StandingChange::Deactivate, 1).is_err());
        assert!(keeps_an_administrator(&admin, StandingChange::Role(Role::Admin), 1).is_ok());
        assert!(keeps_an_administrator(&admin, demote, 2).is_ok());
        assert!(keeps_an_administrator(&admin, StandingChange::Deactivate, 2).is_ok());
        let engineer = someone(Role::Engineer, true);
        assert!(keeps_an_administrator(&engineer, StandingChange::Deactivate, 1).is_ok());
    }

    fn input<'a>(display_name: &'a str, password: &'a str) -> NewUserInput<'a> {
        NewUserInput {
            account: "Acme",
            username: "Bob",
            display_name,
            display_name_required: false,
            email: "",
            role: "engineer",
            password,
            password_confirm: None,
            blank_password_is_generated: true,
            kind: "",
        }
    }

    #[test]
    fn a_new_user_takes_the_username_as_display_name_and_a_generated_password_when_blank() {
        let user = NewUser::parse(&input("", "")).unwrap();
        assert_eq!(user.username.as_str(), "bob");
        assert_eq!(user.display_name.as_str(), "bob");
        assert!(user.password_generated);
        assert_eq!(
            user.password.unwrap().expose().len(),
            GENERATED_PASSWORD_LEN
        );
        let typed = NewUser::parse(&input("Bob B.", "a long password here")).unwrap();
        assert_eq!(typed.display_name.as_str(), "Bob B.");
        assert!(!typed.password_generated);
    }

    #[test]
    fn setup_asks_for_a_display_name_and_the_password_twice() {
        let setup = NewUserInput {
            display_name_required: true,
            password_confirm: Some("another long password"),
            blank_password_is_generated: false,
            role: "admin",
            ..input("", "a long password here")
        };
        let fields: Vec<&str> = NewUser::parse(&setup)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["display_name", "password_confirm"]);
        let bad = NewUserInput {
            account: "",
            username: "no spaces",
            role: "root",
            ..input("", "short")
        };
        let fields: Vec<&str> = NewUser::parse(&bad)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["account", "username", "role", "password"]);
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let password = NewPassword::parse("correct horse battery", None).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}

/// A signed-in or looked-up user, with the account it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: super::UserId,
    pub account_id: super::AccountId,
    pub account_name: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub email: Option<String>,
    /// Whether expiry notices may go to `email`.
    pub email_notices: bool,
    /// Bumped to end every session of this user at once (deactivation, a new password): a
    /// session signed in at an older epoch is no longer accepted.
    pub session_epoch: i32,
    pub kind: UserKind,
}

#[cfg(test)]
impl User {
    /// An active user of a fresh account, for tests of the rules that take a user.
    pub(crate) fn sample(role: Role) -> Self {
        Self {
            id: super::UserId::generate(),
            account_id: super::AccountId::generate(),
            account_name: "Acme".into(),
            username: "ada".into(),
            display_name: "Ada".into(),
            role,
            active: true,
            email: None,
            email_notices: true,
            session_epoch: 0,
            kind: UserKind::Person,
        }
    }
}
