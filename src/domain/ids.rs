//! Opaque ids (random UUIDs as text), one type per table so a user id cannot stand for a token id.

use std::fmt;

macro_rules! id_type {
    ($name:ident) => {
        /// Deserializes (from a path, a query, a body) only through `parse`: a malformed id
        /// fails there, which an actix `Path` answers as 404.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = NotAnId;

            fn try_from(raw: String) -> Result<Self, NotAnId> {
                Self::parse(&raw).ok_or(NotAnId)
            }
        }

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            /// Wraps an id read back from the store. Ids that come from a URL go through
            /// `parse` instead, so a malformed one is simply "not found".
            pub fn from_trusted(raw: String) -> Self {
                Self(raw)
            }

            pub fn parse(raw: &str) -> Option<Self> {
                uuid::Uuid::parse_str(raw)
                    .ok()
                    .map(|uuid| Self(uuid.hyphenated().to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A value that is not an id of ours: to callers, simply "not found".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an id")]
pub struct NotAnId;

id_type!(AccountId);
id_type!(UserId);
id_type!(TokenId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_generated_ids_and_rejects_garbage() {
        let id = TokenId::generate();
        assert_eq!(TokenId::parse(id.as_str()), Some(id));
        assert_eq!(TokenId::parse("1 OR 1=1"), None);
        assert_eq!(TokenId::parse(""), None);
    }

    #[test]
    fn ids_deserialize_only_through_parse() {
        let id = TokenId::generate();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<TokenId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<TokenId>("\"../etc/passwd\"").is_err());
    }
}
