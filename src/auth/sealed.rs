//! Secrets the server must read back later (an identity provider's refresh token), sealed with
//! AES-256-GCM under a key derived from the session key. Where the session key comes from the
//! environment (`SESSION_KEY`), a copy of the database alone does not open them; where it is
//! the one the server keeps in the database, it does (the README says so). Each sealed value is
//! bound to what it belongs to (the associated data): moved to another row, it does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// Marks the format, so a later one can be told apart.
const PREFIX: &str = "v1.";
const NONCE_LEN: usize = 12;

pub struct Sealer {
    cipher: Aes256Gcm,
}

impl Sealer {
    /// A key for one `purpose`, derived from the server's master key: a leak of one purpose's
    /// key (or of a sealed value) says nothing of the session cookies' keys.
    pub fn new(master: &[u8], purpose: &str) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"personal-tokens sealed v1\0");
        hash.update(purpose.as_bytes());
        hash.update([0]);
        hash.update(master);
        let key: [u8; 32] = hash.finalize().into();
        Self {
            cipher: Aes256Gcm::new_from_slice(&key).expect("a 32-byte key"),
        }
    }

    /// `secret` sealed for `bound_to`, as text for a database column.
    pub fn seal(&self, secret: &str, bound_to: &str) -> String {
        // A random 96-bit nonce: safe for far more seals than one server makes (NIST SP 800-38D
        // allows 2^32 per key).
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: bound_to.as_bytes(),
                },
            )
            .expect("AES-GCM seals any message this size");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret, if `sealed` was made by this key for `bound_to` and not changed since.
    pub fn open(&self, sealed: &str, bound_to: &str) -> Option<SecretString> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: bound_to.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok().map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_where_it_belongs() {
        let sealer = Sealer::new(&[7; 64], "sso refresh");
        let sealed = sealer.seal("rt-secret", "issuer\nada");
        assert!(!sealed.contains("rt-secret"));
        assert_ne!(
            sealed,
            sealer.seal("rt-secret", "issuer\nada"),
            "a fresh nonce each time"
        );
        let opened = sealer.open(&sealed, "issuer\nada").expect("opens");
        assert_eq!(opened.expose_secret(), "rt-secret");
        assert!(
            sealer.open(&sealed, "issuer\nbob").is_none(),
            "moved to another person"
        );
        assert!(
            Sealer::new(&[8; 64], "sso refresh")
                .open(&sealed, "issuer\nada")
                .is_none()
        );
        assert!(
            Sealer::new(&[7; 64], "other")
                .open(&sealed, "issuer\nada")
                .is_none()
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open(&tampered, "issuer\nada").is_none());
        for junk in ["", "v1.", "v1.AAAA", "v2.abc", "plain"] {
            assert!(sealer.open(junk, "issuer\nada").is_none(), "{junk}");
        }
    }
}
