//! A token's name and description, as typed.

use super::DomainError;

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 500;

/// Text from outside (a header, a report, a search) made safe to show and store: trimmed,
/// without control characters (Postgres text cannot even hold NUL), at most `max` characters.
pub fn printable(raw: &str, max: usize) -> String {
    raw.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

/// 1–100 characters after trimming, no control characters. Unique among the issuer's live
/// tokens (the store's partial unique index enforces that part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(DomainError::new("name", "Give the token a name."));
        }
        if name.chars().count() > NAME_MAX {
            return Err(DomainError::new(
                "name",
                format!("The name must be at most {NAME_MAX} characters."),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::new(
                "name",
                "The name cannot contain control characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// A name read back from a stored token, which passed `parse` when it was made: a rule made
    /// stricter since must not stop a regenerate from keeping the name.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Optional, at most 500 characters; line breaks allowed, other control characters not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenDescription(String);

impl TokenDescription {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let description = raw.trim();
        if description.chars().count() > DESCRIPTION_MAX {
            return Err(DomainError::new(
                "description",
                format!("The description must be at most {DESCRIPTION_MAX} characters."),
            ));
        }
        if description
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(DomainError::new(
                "description",
                "The description cannot contain control characters.",
            ));
        }
        Ok(Self(description.to_owned()))
    }

    /// A description read back from a stored token (see `TokenName::from_stored`).
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            TokenName::parse("  ci deploy ").unwrap().as_str(),
            "ci deploy"
        );
        assert!(TokenName::parse("   ").is_err());
        assert!(TokenName::parse(&"n".repeat(NAME_MAX)).is_ok());
        assert!(TokenName::parse(&"n".repeat(10_000)).is_err());
        assert!(TokenName::parse("tab\there").is_err());
    }

    #[test]
    fn unicode_and_markup_are_kept_as_text() {
        assert_eq!(
            TokenName::parse("déploiement 🚀").unwrap().as_str(),
            "déploiement 🚀"
        );
        assert_eq!(TokenName::parse("<b>x</b>").unwrap().as_str(), "<b>x</b>");
    }

    #[test]
    fn descriptions_are_optional_and_bounded() {
        assert_eq!(TokenDescription::parse("").unwrap().as_str(), "");
        assert!(TokenDescription::parse("line one\nline two").is_ok());
        assert!(TokenDescription::parse(&"d".repeat(DESCRIPTION_MAX + 1)).is_err());
        assert!(TokenDescription::parse("bell\u{7}").is_err());
    }
}
