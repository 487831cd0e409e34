//! Argon2id password hashing. One place sets the parameters, for the app and the tests alike.
//! These calls take tens of milliseconds by design: run them on the blocking pool.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

pub fn hash(password: &str) -> Result<String, HashError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A hash of nothing anyone knows, verified when the username does not exist so that a wrong
/// username costs as long as a wrong password and usernames cannot be probed by timing.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash("no user has this password, ever").unwrap_or_default());

fn matches(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        // Someone with no password (provisioned, a service account): as slow as a wrong one,
        // so timing does not tell who has a password.
        Err(_) => {
            if let Ok(parsed) = PasswordHash::new(&DUMMY_HASH) {
                let _ = hasher().verify_password(password.as_bytes(), &parsed);
            }
            false
        }
    }
}

/// True when `password` matches `stored`; `None` (no such user) and malformed hashes never match.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(stored) => matches(password, stored),
        None => {
            let _ = matches(password, &DUMMY_HASH);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&stored)));
        assert!(!verify("correct horse batterY", Some(&stored)));
    }

    #[test]
    fn an_unknown_user_never_verifies() {
        assert!(!verify("no user has this password, ever", None));
        assert!(!verify("anything", Some("not a phc string")));
    }
}
