//! Opaque ids (random UUIDs as text), one type per table so a user id cannot stand for a token id.

use std::fmt;

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

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
}
