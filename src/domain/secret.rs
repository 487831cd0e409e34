//! The token secret: its format, checksum, digest and masked form.
//!
//! !!! The format `ptk_` + 34 random base62 + 6 base62 CRC32 characters, and SHA-256 over the
//! whole string as the stored digest, cannot change once tokens are issued: secret scanners
//! match the prefix and every stored digest depends on the hash. !!!

use std::fmt;

use rand::RngExt;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "ptk_";
pub const RANDOM_LEN: usize = 34;
pub const CHECKSUM_LEN: usize = 6;
pub const TOKEN_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32 (IEEE, reflected), as zlib and PNG compute it. Small enough to keep in the open
/// rather than pull in a crate for eight lines.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Six base62 digits, most significant first: 62^6 > 2^32, so every CRC fits.
fn checksum(random: &str) -> [u8; CHECKSUM_LEN] {
    let mut value = u64::from(crc32(random.as_bytes()));
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits
}

/// `len` base62 characters from the operating system's CSPRNG (tokens, generated passwords).
pub(crate) fn random_base62(len: usize) -> String {
    let mut rng = UnwrapErr(SysRng);
    (0..len)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// A freshly made token in clear. It exists only between generation and the one reveal: no
/// `Display`, no `Serialize`, and a redacted `Debug`.
pub struct PlainToken(SecretString);

impl PlainToken {
    /// 34 characters from the operating system's CSPRNG, then the checksum.
    pub fn generate() -> Self {
        let random = random_base62(RANDOM_LEN);
        let checksum = checksum(&random);
        let mut token = String::with_capacity(TOKEN_LEN);
        token.push_str(PREFIX);
        token.push_str(&random);
        token.push_str(std::str::from_utf8(&checksum).expect("base62 is ASCII"));
        Self(SecretString::from(token))
    }

    /// The clear value, for the reveal page and the API's one-time answer only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(self.expose())
    }

    pub fn last_four(&self) -> String {
        let token = self.expose();
        token[token.len() - 4..].to_owned()
    }
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken([redacted])")
    }
}

/// Why a presented string is not a token, decided without the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    #[error("the token does not have the ptk_ format")]
    Shape,
    #[error("the token's checksum does not match: it was mistyped or truncated")]
    Checksum,
}

/// Checks prefix, length, alphabet and checksum of a presented token.
pub fn check_format(presented: &str) -> Result<(), TokenFormatError> {
    let body = presented
        .strip_prefix(PREFIX)
        .filter(|body| body.len() == RANDOM_LEN + CHECKSUM_LEN)
        .filter(|body| body.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or(TokenFormatError::Shape)?;
    let (random, sum) = body.split_at(RANDOM_LEN);
    if checksum(random) == sum.as_bytes() {
        Ok(())
    } else {
        Err(TokenFormatError::Checksum)
    }
}

/// SHA-256 of the whole token: what the store keeps and looks up by its unique index. A fast
/// hash is right here: the input has 200 bits of entropy, so there is nothing to brute-force.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

/// How a token is shown after its reveal: the prefix and its last four characters.
pub fn masked(last_four: &str) -> String {
    format!("{PREFIX}…{last_four}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn generated_tokens_have_the_scannable_shape() {
        let token = PlainToken::generate();
        let value = token.expose();
        assert_eq!(value.len(), TOKEN_LEN);
        assert!(value.starts_with("ptk_"));
        assert!(value[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(check_format(value), Ok(()));
        assert_ne!(value, PlainToken::generate().expose(), "random");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let token = PlainToken::generate();
        assert!(!format!("{token:?}").contains(&token.expose()[4..]));
    }

    #[test]
    fn malformed_tokens_are_refused_by_shape() {
        for bad in [
            "",
            "ptk_",
            "ghp_abc",
            "ptk_short",
            &format!("ptk_{}", "a".repeat(41)),
        ] {
            assert_eq!(check_format(bad), Err(TokenFormatError::Shape), "{bad}");
        }
        let token = PlainToken::generate();
        let with_space = format!("{} ", token.expose());
        assert_eq!(check_format(&with_space), Err(TokenFormatError::Shape));
    }

    #[test]
    fn masking_keeps_the_prefix_and_last_four() {
        let token = PlainToken::generate();
        let masked = masked(&token.last_four());
        assert!(masked.starts_with("ptk_…"));
        assert!(token.expose().ends_with(&masked["ptk_…".len()..]));
        assert_eq!(masked.chars().count(), 9);
    }

    #[test]
    fn the_digest_depends_on_every_character() {
        let token = PlainToken::generate();
        assert_eq!(token.digest(), TokenDigest::of(token.expose()));
        assert_ne!(token.digest(), PlainToken::generate().digest());
    }

    proptest! {
        #[test]
        fn every_generated_token_passes_its_own_check(_seed in 0u32..200) {
            let token = PlainToken::generate();
            prop_assert_eq!(check_format(token.expose()), Ok(()));
        }

        #[test]
        fn any_single_character_change_fails_the_check(
            position in 4usize..TOKEN_LEN,
            replacement in 0usize..62,
        ) {
            let token = PlainToken::generate();
            let mut bytes = token.expose().as_bytes().to_vec();
            let new = BASE62[replacement];
            prop_assume!(bytes[position] != new);
            bytes[position] = new;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(check_format(&changed).is_err());
        }

        #[test]
        fn well_shaped_guesses_fail_on_the_checksum(candidate in "ptk_[A-Za-z0-9]{40}") {
            // A random body carries a valid checksum about once in 2^32 tries.
            prop_assert_eq!(check_format(&candidate), Err(TokenFormatError::Checksum));
        }

        #[test]
        fn masking_always_shows_exactly_the_last_four(_seed in 0u32..50) {
            let token = PlainToken::generate();
            let masked = masked(&token.last_four());
            prop_assert!(masked.ends_with(&token.expose()[TOKEN_LEN - 4..]));
            prop_assert!(!masked.contains(&token.expose()[4..TOKEN_LEN - 4]));
        }
    }
}
