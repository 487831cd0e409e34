//! GitHub's secret-scanning partner reports, as a mechanism: the operator's file of GitHub's
//! public keys, checking the ECDSA P-256 signature GitHub puts on each report, reading the report
//! within fixed limits, and the feedback entries to answer with. The HTTP handler that reads the
//! headers and looks the tokens up lives elsewhere and calls this. Like the rest of `auth`, this
//! may import `domain` and `store` but never `web`, `api` or `app`.
//!
//! A report carries leaked credentials, possibly live ones: no error here ever quotes the body,
//! and `Debug` on the report and feedback types hides the token.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::Deserialize;
use serde_json::Value;

/// GitHub's reports are small; this caps what a forged or runaway request can make us parse.
pub const MAX_REPORT_BYTES: usize = 1024 * 1024;

/// Each entry costs a database lookup, so a report may not ask for an unbounded number of them.
pub const MAX_REPORT_ENTRIES: usize = 1000;

/// A header value echoed into an error is cut to this many characters: it comes from the caller,
/// and a log line should not be theirs to fill.
const ECHO_LIMIT: usize = 80;

#[derive(Debug, thiserror::Error)]
pub enum ScanningError {
    #[error("cannot read the secret-scanning keys file {path}: {error}")]
    KeysFileUnreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    /// `load` wraps what `from_json` found so that the operator learns which file to fix.
    #[error("secret-scanning keys file {path}: {reason}")]
    KeysFile {
        path: PathBuf,
        reason: Box<ScanningError>,
    },
    #[error("not GitHub's public-keys JSON ({0})")]
    KeysJson(String),
    #[error("no public keys listed")]
    NoKeys,
    #[error("key identifier {0:?} is listed twice")]
    DuplicateKeyId(String),
    #[error("key {key_id:?} is not a P-256 public key in PEM (SubjectPublicKeyInfo)")]
    BadKey { key_id: String },

    #[error("no Github-Public-Key-Identifier header")]
    MissingKeyId,
    #[error("no Github-Public-Key-Signature header")]
    MissingSignature,
    #[error("unknown public key identifier {0:?}")]
    UnknownKeyId(String),
    #[error("the signature is not base64")]
    SignatureNotBase64,
    #[error("the signature is not a DER-encoded ECDSA signature")]
    SignatureNotDer,
    #[error("the signature does not match the body")]
    SignatureMismatch,

    #[error("the report is over {MAX_REPORT_BYTES} bytes")]
    ReportTooLarge,
    /// Only the position: serde_json's other messages can quote the input, which holds tokens.
    #[error("the report is not JSON (line {line}, column {column})")]
    ReportNotJson { line: usize, column: usize },
    #[error("the report is not a JSON array")]
    ReportNotArray,
    #[error("the report has {count} entries, over {MAX_REPORT_ENTRIES}")]
    ReportTooManyEntries { count: usize },
    #[error("report entry {index} is not an object")]
    ReportEntryNotObject { index: usize },
    #[error("report entry {index} has no string `token`")]
    ReportEntryNoToken { index: usize },
    #[error("report entry {index}: `{field}` is not a string")]
    ReportEntryField { index: usize, field: &'static str },
}

/// The shape GitHub publishes its keys in; `is_current` is not read because a report signed with
/// a key that is listed but no longer current is still GitHub's (rotation overlaps).
#[derive(Deserialize)]
struct KeysFile {
    public_keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    key_identifier: String,
    key: String,
}

/// GitHub's public keys for secret scanning, by identifier, each already parsed so that a bad
/// file fails at startup rather than on the first report.
#[derive(Debug, Clone)]
pub struct ScanningKeys {
    keys: Vec<(String, VerifyingKey)>,
}

impl ScanningKeys {
    pub fn from_json(text: &str) -> Result<ScanningKeys, ScanningError> {
        let file: KeysFile =
            serde_json::from_str(text).map_err(|e| ScanningError::KeysJson(e.to_string()))?;
        if file.public_keys.is_empty() {
            return Err(ScanningError::NoKeys);
        }
        let mut keys: Vec<(String, VerifyingKey)> = Vec::with_capacity(file.public_keys.len());
        for entry in file.public_keys {
            if keys.iter().any(|(id, _)| *id == entry.key_identifier) {
                return Err(ScanningError::DuplicateKeyId(entry.key_identifier));
            }
            let key = VerifyingKey::from_public_key_pem(&entry.key).map_err(|_| {
                ScanningError::BadKey {
                    key_id: entry.key_identifier.clone(),
                }
            })?;
            keys.push((entry.key_identifier, key));
        }
        Ok(ScanningKeys { keys })
    }

    pub fn load(path: &Path) -> Result<ScanningKeys, ScanningError> {
        let text =
            std::fs::read_to_string(path).map_err(|error| ScanningError::KeysFileUnreadable {
                path: path.to_owned(),
                error,
            })?;
        Self::from_json(&text).map_err(|reason| ScanningError::KeysFile {
            path: path.to_owned(),
            reason: Box::new(reason),
        })
    }

    /// For a startup log line, so the operator can compare with what GitHub publishes.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// Checks the headers' signature over the raw body, byte for byte as received: GitHub signs
    /// the bytes it sent, so a body re-serialised from parsed JSON would not match.
    pub fn verify(
        &self,
        key_id: Option<&str>,
        signature_b64: Option<&str>,
        body: &[u8],
    ) -> Result<(), ScanningError> {
        // An empty header is as good as none, and reads better as "missing" than as a bad value.
        let key_id = present(key_id).ok_or(ScanningError::MissingKeyId)?;
        let signature_b64 = present(signature_b64).ok_or(ScanningError::MissingSignature)?;
        let key = self
            .keys
            .iter()
            .find(|(id, _)| id == key_id)
            .map(|(_, key)| key)
            .ok_or_else(|| {
                ScanningError::UnknownKeyId(key_id.chars().take(ECHO_LIMIT).collect())
            })?;
        let der = STANDARD
            .decode(signature_b64)
            .map_err(|_| ScanningError::SignatureNotBase64)?;
        let signature = Signature::from_der(&der).map_err(|_| ScanningError::SignatureNotDer)?;
        // p256 does not demand low-S, which matters: GitHub's signer does not normalise S.
        key.verify(body, &signature)
            .map_err(|_| ScanningError::SignatureMismatch)
    }
}

fn present(header: Option<&str>) -> Option<&str> {
    header.map(str::trim).filter(|value| !value.is_empty())
}

/// One match GitHub found. Fields other than `token` are informational and default to empty,
/// since GitHub has added fields over time and a missing one must not lose the token.
#[derive(Clone, PartialEq, Eq)]
pub struct ReportEntry {
    pub token: String,
    pub token_type: String,
    pub url: String,
    pub source: String,
}

impl fmt::Debug for ReportEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportEntry")
            .field("token", &Redacted(self.token.len()))
            .field("token_type", &self.token_type)
            .field("url", &self.url)
            .field("source", &self.source)
            .finish()
    }
}

/// Parses a report that has already passed `verify`. Unknown fields are ignored; a field of the
/// wrong type is refused rather than guessed at.
pub fn parse_report(body: &[u8]) -> Result<Vec<ReportEntry>, ScanningError> {
    if body.len() > MAX_REPORT_BYTES {
        return Err(ScanningError::ReportTooLarge);
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| ScanningError::ReportNotJson {
        line: e.line(),
        column: e.column(),
    })?;
    let Value::Array(items) = value else {
        return Err(ScanningError::ReportNotArray);
    };
    if items.len() > MAX_REPORT_ENTRIES {
        return Err(ScanningError::ReportTooManyEntries { count: items.len() });
    }
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let Value::Object(mut fields) = item else {
                return Err(ScanningError::ReportEntryNotObject { index });
            };
            let Some(Value::String(token)) = fields.remove("token") else {
                return Err(ScanningError::ReportEntryNoToken { index });
            };
            let mut text = |field: &'static str| match fields.remove(field) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(text)) => Ok(text),
                Some(_) => Err(ScanningError::ReportEntryField { index, field }),
            };
            Ok(ReportEntry {
                token_type: text("type")?,
                url: text("url")?,
                source: text("source")?,
                token,
            })
        })
        .collect()
}

/// One answer to GitHub: whether the token it found is one of ours. GitHub matches feedback to
/// its report by the raw token and type, so both are echoed back unchanged.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct Feedback {
    pub token_raw: String,
    pub token_type: String,
    pub label: &'static str,
}

impl Feedback {
    pub fn true_positive(entry: &ReportEntry) -> Feedback {
        Self::labelled(entry, "true_positive")
    }

    pub fn false_positive(entry: &ReportEntry) -> Feedback {
        Self::labelled(entry, "false_positive")
    }

    fn labelled(entry: &ReportEntry, label: &'static str) -> Feedback {
        Feedback {
            token_raw: entry.token.clone(),
            token_type: entry.token_type.clone(),
            label,
        }
    }
}

impl fmt::Debug for Feedback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feedback")
            .field("token_raw", &Redacted(self.token_raw.len()))
            .field("token_type", &self.token_type)
            .field("label", &self.label)
            .finish()
    }
}

/// Stands in for a token in `Debug` output; the length helps tell entries apart in a test failure.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0)
    }
}

/// For tests only, here and in `tests/`: a keys file and signatures made with a key pair derived
/// from a fixed secret, so a test can sign reports the way GitHub does. It is public and outside
/// `cfg(test)` because integration tests link the ordinary library. It knows nothing that GitHub's
/// real keys would let anyone forge: a report signed with a test secret verifies only against a
/// keys file built from that same secret.
pub mod test_support {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{DerSignature, SigningKey};
    use p256::pkcs8::{EncodePublicKey, LineEnding};

    /// Panics unless `secret` is a valid P-256 scalar (non-zero, below the group order); any
    /// small repeated byte such as `[7; 32]` is.
    fn signing_key(secret: [u8; 32]) -> SigningKey {
        SigningKey::from_slice(&secret).expect("a test secret must be a valid P-256 scalar")
    }

    /// The public half of `secret` as GitHub publishes its keys: PEM SubjectPublicKeyInfo.
    pub fn public_key_pem(secret: [u8; 32]) -> String {
        signing_key(secret)
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("a P-256 public key encodes as PEM")
    }

    /// A keys file listing one key, `key_id`, the public half of `secret`.
    pub fn keys_json(key_id: &str, secret: [u8; 32]) -> String {
        serde_json::json!({
            "public_keys": [{
                "key_identifier": key_id,
                "key": public_key_pem(secret),
                "is_current": true,
            }]
        })
        .to_string()
    }

    /// The `Github-Public-Key-Signature` value for `body` signed with `secret`: base64 of the
    /// DER signature over SHA-256 of the body. RFC 6979 makes it deterministic, so no RNG.
    pub fn sign(secret: [u8; 32], body: &[u8]) -> String {
        let signature: DerSignature = signing_key(secret).sign(body);
        STANDARD.encode(signature.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{keys_json, public_key_pem, sign};
    use super::*;

    const SECRET: [u8; 32] = [7; 32];
    const OTHER_SECRET: [u8; 32] = [9; 32];
    const KEY_ID: &str = "test-key-1";
    const BODY: &[u8] = br#"[{"token":"ptk_abc","type":"personal_token","url":"https://github.com/o/r/blob/x/f","source":"content"}]"#;

    fn keys() -> ScanningKeys {
        ScanningKeys::from_json(&keys_json(KEY_ID, SECRET)).expect("test keys parse")
    }

    #[test]
    fn a_good_signature_verifies() {
        let signature = sign(SECRET, BODY);
        keys()
            .verify(Some(KEY_ID), Some(&signature), BODY)
            .expect("verifies");
    }

    /// GitHub's own published sample request and the public key it was signed with: proves the
    /// conventions (SHA-256, DER, standard base64) are GitHub's, not merely self-consistent.
    #[test]
    fn github_documented_sample_verifies() {
        let key_id = "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c";
        let keys = serde_json::json!({"public_keys": [{
            "key_identifier": key_id,
            "key": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYAGMWO8XgCamYKMJS6jc/qgvSlAd\nAjPuDPRcXU22YxgBrz+zoN19MzuRyW87qEt9/AmtoNP5GrobzUvQSyJFVw==\n-----END PUBLIC KEY-----\n",
            "is_current": true,
        }]});
        let keys = ScanningKeys::from_json(&keys.to_string()).expect("GitHub's key parses");
        let body = br#"[{"source":"commit","token":"some_token","type":"some_type","url":"https://example.com/base-repo-url/"}]"#;
        let signature = "MEQCIQDaMKqrGnE27S0kgMrEK0eYBmyG0LeZismAEz/BgZyt7AIfXt9fErtRS4XaeSt/AO1RtBY66YcAdjxji410VQV4xg==";
        keys.verify(Some(key_id), Some(signature), body)
            .expect("GitHub's sample verifies");
        let mut changed = body.to_vec();
        changed[20] ^= 1;
        assert!(matches!(
            keys.verify(Some(key_id), Some(signature), &changed),
            Err(ScanningError::SignatureMismatch)
        ));
    }

    #[test]
    fn a_body_changed_by_one_byte_fails() {
        let signature = sign(SECRET, BODY);
        let mut changed = BODY.to_vec();
        let last = changed.len() - 2;
        changed[last] ^= 0x01;
        assert!(matches!(
            keys().verify(Some(KEY_ID), Some(&signature), &changed),
            Err(ScanningError::SignatureMismatch)
        ));
    }

    #[test]
    fn a_wrong_key_id_fails() {
        let signature = sign(SECRET, BODY);
        match keys().verify(Some("other-key"), Some(&signature), BODY) {
            Err(ScanningError::UnknownKeyId(id)) => assert_eq!(id, "other-key"),
            other => panic!("expected UnknownKeyId, got {other:?}"),
        }
    }

    #[test]
    fn an_echoed_key_id_is_cut_short() {
        let long = "x".repeat(10_000);
        match keys().verify(Some(&long), Some(&sign(SECRET, BODY)), BODY) {
            Err(ScanningError::UnknownKeyId(id)) => assert_eq!(id.len(), ECHO_LIMIT),
            other => panic!("expected UnknownKeyId, got {other:?}"),
        }
    }

    #[test]
    fn a_signature_by_another_key_fails() {
        let signature = sign(OTHER_SECRET, BODY);
        assert!(matches!(
            keys().verify(Some(KEY_ID), Some(&signature), BODY),
            Err(ScanningError::SignatureMismatch)
        ));
    }

    #[test]
    fn any_listed_key_verifies_its_own_signatures() {
        let keys = serde_json::json!({"public_keys": [
            {"key_identifier": "old", "key": public_key_pem(OTHER_SECRET), "is_current": false},
            {"key_identifier": "new", "key": public_key_pem(SECRET), "is_current": true},
        ]});
        let keys = ScanningKeys::from_json(&keys.to_string()).expect("parses");
        assert_eq!(keys.key_ids().collect::<Vec<_>>(), ["old", "new"]);
        keys.verify(Some("old"), Some(&sign(OTHER_SECRET, BODY)), BODY)
            .expect("a listed, non-current key still verifies");
        keys.verify(Some("new"), Some(&sign(SECRET, BODY)), BODY)
            .expect("the current key verifies");
        assert!(matches!(
            keys.verify(Some("old"), Some(&sign(SECRET, BODY)), BODY),
            Err(ScanningError::SignatureMismatch)
        ));
    }

    #[test]
    fn garbage_base64_fails() {
        assert!(matches!(
            keys().verify(Some(KEY_ID), Some("not base64!!"), BODY),
            Err(ScanningError::SignatureNotBase64)
        ));
    }

    #[test]
    fn base64_that_is_not_der_fails() {
        let not_der = STANDARD.encode([0x30, 0x02, 0x01]);
        assert!(matches!(
            keys().verify(Some(KEY_ID), Some(&not_der), BODY),
            Err(ScanningError::SignatureNotDer)
        ));
    }

    #[test]
    fn missing_headers_fail() {
        let signature = sign(SECRET, BODY);
        assert!(matches!(
            keys().verify(None, Some(&signature), BODY),
            Err(ScanningError::MissingKeyId)
        ));
        assert!(matches!(
            keys().verify(Some("  "), Some(&signature), BODY),
            Err(ScanningError::MissingKeyId)
        ));
        assert!(matches!(
            keys().verify(Some(KEY_ID), None, BODY),
            Err(ScanningError::MissingSignature)
        ));
        assert!(matches!(
            keys().verify(Some(KEY_ID), Some(""), BODY),
            Err(ScanningError::MissingSignature)
        ));
    }

    #[test]
    fn signing_is_deterministic() {
        assert_eq!(sign(SECRET, BODY), sign(SECRET, BODY));
    }

    #[test]
    fn a_broken_pem_is_refused_naming_the_key() {
        let good = public_key_pem(SECRET);
        let broken = good.replacen("MFkw", "MFkx", 1);
        let keys = serde_json::json!({"public_keys": [
            {"key_identifier": "fine", "key": good},
            {"key_identifier": "the-broken-one", "key": broken},
        ]});
        let error = ScanningKeys::from_json(&keys.to_string()).expect_err("refused");
        assert!(
            matches!(&error, ScanningError::BadKey { key_id } if key_id == "the-broken-one"),
            "{error:?}"
        );
        assert!(error.to_string().contains("the-broken-one"), "{error}");
    }

    #[test]
    fn a_keys_file_without_keys_or_with_junk_is_refused() {
        assert!(matches!(
            ScanningKeys::from_json(r#"{"public_keys": []}"#),
            Err(ScanningError::NoKeys)
        ));
        assert!(matches!(
            ScanningKeys::from_json("[]"),
            Err(ScanningError::KeysJson(_))
        ));
        let pem = public_key_pem(SECRET);
        let twice = serde_json::json!({"public_keys": [
            {"key_identifier": "k", "key": pem},
            {"key_identifier": "k", "key": pem},
        ]});
        assert!(matches!(
            ScanningKeys::from_json(&twice.to_string()),
            Err(ScanningError::DuplicateKeyId(id)) if id == "k"
        ));
    }

    #[test]
    fn load_names_the_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("absent.json");
        let error = ScanningKeys::load(&missing).expect_err("no such file");
        assert!(matches!(error, ScanningError::KeysFileUnreadable { .. }));
        assert!(error.to_string().contains("absent.json"), "{error}");

        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, r#"{"public_keys": []}"#).expect("write");
        let error = ScanningKeys::load(&empty).expect_err("no keys");
        assert!(error.to_string().contains("empty.json"), "{error}");

        let good = dir.path().join("keys.json");
        std::fs::write(&good, keys_json(KEY_ID, SECRET)).expect("write");
        let keys = ScanningKeys::load(&good).expect("loads");
        keys.verify(Some(KEY_ID), Some(&sign(SECRET, BODY)), BODY)
            .expect("verifies");
    }

    #[test]
    fn parse_report_accepts_a_normal_report() {
        let body = br#"[
            {"token":"ptk_one","type":"personal_token","url":"https://github.com/a","source":"content","extra":1},
            {"token":"ptk_two"}
        ]"#;
        let entries = parse_report(body).expect("parses");
        assert_eq!(
            entries,
            [
                ReportEntry {
                    token: "ptk_one".into(),
                    token_type: "personal_token".into(),
                    url: "https://github.com/a".into(),
                    source: "content".into(),
                },
                ReportEntry {
                    token: "ptk_two".into(),
                    token_type: String::new(),
                    url: String::new(),
                    source: String::new(),
                },
            ]
        );
        assert_eq!(parse_report(b"[]").expect("empty report"), []);
    }

    #[test]
    fn parse_report_refuses_junk_json() {
        assert!(matches!(
            parse_report(b"[{\"token\": \"ptk_secret\""),
            Err(ScanningError::ReportNotJson { .. })
        ));
    }

    #[test]
    fn parse_report_refuses_a_non_array() {
        assert!(matches!(
            parse_report(br#"{"token":"ptk_x"}"#),
            Err(ScanningError::ReportNotArray)
        ));
    }

    #[test]
    fn parse_report_refuses_an_entry_without_a_token() {
        assert!(matches!(
            parse_report(br#"[{"token":"ptk_x"},{"type":"t"}]"#),
            Err(ScanningError::ReportEntryNoToken { index: 1 })
        ));
        assert!(matches!(
            parse_report(br#"[{"token":42}]"#),
            Err(ScanningError::ReportEntryNoToken { index: 0 })
        ));
        assert!(matches!(
            parse_report(br#"["ptk_x"]"#),
            Err(ScanningError::ReportEntryNotObject { index: 0 })
        ));
        assert!(matches!(
            parse_report(br#"[{"token":"ptk_x","url":["no"]}]"#),
            Err(ScanningError::ReportEntryField {
                index: 0,
                field: "url"
            })
        ));
    }

    fn report_of(count: usize) -> Vec<u8> {
        let entries = vec![serde_json::json!({"token": "ptk_x", "type": "t"}); count];
        serde_json::to_vec(&entries).expect("serialises")
    }

    #[test]
    fn parse_report_refuses_too_many_entries() {
        assert_eq!(
            parse_report(&report_of(MAX_REPORT_ENTRIES))
                .expect("at the limit")
                .len(),
            MAX_REPORT_ENTRIES
        );
        assert!(matches!(
            parse_report(&report_of(MAX_REPORT_ENTRIES + 1)),
            Err(ScanningError::ReportTooManyEntries { count: 1001 })
        ));
    }

    #[test]
    fn parse_report_refuses_a_body_over_one_mib() {
        let mut body = br#"[{"token":""#.to_vec();
        body.resize(MAX_REPORT_BYTES - 3, b'a');
        body.extend_from_slice(br#""}]"#);
        assert_eq!(body.len(), MAX_REPORT_BYTES);
        assert_eq!(parse_report(&body).expect("at the limit").len(), 1);
        body.insert(1, b' ');
        assert!(matches!(
            parse_report(&body),
            Err(ScanningError::ReportTooLarge)
        ));
    }

    #[test]
    fn errors_and_debug_never_show_the_token() {
        let error = parse_report(br#"[{"token":"ptk_secret","url":5}]"#).expect_err("bad url");
        assert!(!format!("{error} {error:?}").contains("ptk_secret"));
        let error = parse_report(br#"[{"token":"ptk_secret"]"#).expect_err("not JSON");
        assert!(!format!("{error} {error:?}").contains("ptk_secret"));

        let entry = &parse_report(br#"[{"token":"ptk_secret"}]"#).expect("parses")[0];
        let feedback = Feedback::true_positive(entry);
        assert!(!format!("{entry:?} {feedback:?}").contains("ptk_secret"));
    }

    #[test]
    fn feedback_serialises_as_github_expects() {
        let entry = ReportEntry {
            token: "ptk_x".into(),
            token_type: "personal_token".into(),
            url: "u".into(),
            source: "s".into(),
        };
        let answer = [
            Feedback::true_positive(&entry),
            Feedback::false_positive(&entry),
        ];
        assert_eq!(
            serde_json::to_value(answer).expect("serialises"),
            serde_json::json!([
                {"token_raw": "ptk_x", "token_type": "personal_token", "label": "true_positive"},
                {"token_raw": "ptk_x", "token_type": "personal_token", "label": "false_positive"},
            ])
        );
    }
}
