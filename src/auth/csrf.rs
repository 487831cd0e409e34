//! CSRF tokens: one random value per session, echoed by every form as `csrf_token` and compared
//! in constant time.

use rand::RngExt;
use subtle::ConstantTimeEq;

pub const FIELD: &str = "csrf_token";

pub fn generate() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// True only when the session has a token and the form sent the same one.
pub fn matches(expected: Option<&str>, presented: &str) -> bool {
    match expected {
        Some(expected) if !expected.is_empty() => {
            expected.as_bytes().ct_eq(presented.as_bytes()).into()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_their_session() {
        let token = generate();
        assert_eq!(token.len(), 64);
        assert!(matches(Some(&token), &token));
        assert!(!matches(Some(&token), &generate()));
        assert!(!matches(None, ""));
        assert!(!matches(Some(""), ""));
    }
}
