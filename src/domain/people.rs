//! Accounts and users as typed at setup, on the command line, or at sign-in.

use secrecy::{ExposeSecret, SecretString};

use super::DomainError;

pub const ACCOUNT_NAME_MAX: usize = 100;
pub const USERNAME_MAX: usize = 64;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const PASSWORD_MIN: usize = 12;
/// Argon2 takes any length, but a megabyte password is a denial of service, not a password.
pub const PASSWORD_MAX: usize = 1024;

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

/// Usernames are stored lower-case so `Alice` and `alice` cannot be two people.
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
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(DomainError::new(
                "username",
                "Username may use only letters, digits, '.', '_' and '-'.",
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

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
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
    pub role: super::Role,
    pub active: bool,
}
