//! A real OpenID provider for one test: the npm package `oidc-provider` (OpenID Certified),
//! started by `tests/oidc/provider.mjs` on a free port with a test client (`personal-tokens` /
//! `test-secret`) and the test's users. `None` (said) when it is not installed; with `CI=true`
//! that is a failure instead (`.ci/run` runs `npm ci`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// The provider, a child process; killed when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
    users: tempfile::NamedTempFile,
    /// Each refresh grant asked for, in order: (whom for, whether it was honoured).
    refreshed: Arc<Mutex<Vec<(String, bool)>>>,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// `None` where Node or `oidc-provider` is missing (never in CI: `.ci/run` installs them).
    #[allow(dead_code)] // the integration tests start every provider with `start_with`
    pub fn start(redirect_uri: &str, users: &Value) -> Option<Provider> {
        Self::start_with(redirect_uri, users, &[])
    }

    /// `start`, with more of `provider.mjs`'s settings (`ROTATE_REFRESH_TOKENS`…).
    pub fn start_with(redirect_uri: &str, users: &Value, env: &[(&str, &str)]) -> Option<Provider> {
        let root = env!("CARGO_MANIFEST_DIR");
        let installed = std::path::Path::new(root)
            .join("node_modules/oidc-provider")
            .exists();
        if !installed {
            assert!(
                std::env::var("CI").is_err(),
                "CI must have oidc-provider (npm ci) for the SSO tests"
            );
            eprintln!("SKIPPED: node_modules/oidc-provider is missing; run npm ci");
            return None;
        }
        let file = tempfile::NamedTempFile::new().expect("a users file");
        std::fs::write(file.path(), users.to_string()).expect("write users");
        let mut child = Command::new("node")
            .arg(format!("{root}/tests/oidc/provider.mjs"))
            .arg("0")
            .arg(redirect_uri)
            .env("USERS_FILE", file.path())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let issuer = loop {
            let line = lines
                .next()
                .expect("the provider says where it listens")
                .expect("a line");
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_owned();
            }
        };
        let refreshed = Arc::new(Mutex::new(Vec::new()));
        let seen = refreshed.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let grant = match line.split_once(' ') {
                    Some(("refreshed", login)) => (login.trim().to_owned(), true),
                    Some(("refresh-refused", login)) => (login.trim().to_owned(), false),
                    _ => continue,
                };
                seen.lock().unwrap().push(grant);
            }
        });
        Some(Provider {
            child,
            issuer,
            users: file,
            refreshed,
        })
    }

    /// How many refresh grants the provider honoured for `login`.
    #[allow(dead_code)] // nor counts refreshes
    pub fn refreshes_of(&self, login: &str) -> usize {
        let grants = self.refreshed.lock().unwrap();
        grants.iter().filter(|(l, ok)| l == login && *ok).count()
    }

    /// How many refresh grants were asked for `login`, honoured or not.
    #[allow(dead_code)] // nor counts refreshes
    pub fn asked_about(&self, login: &str) -> usize {
        let grants = self.refreshed.lock().unwrap();
        grants.iter().filter(|(l, _)| l == login).count()
    }

    /// Changes what the provider says of its people from the next request on.
    #[allow(dead_code)] // the browser suite never changes them
    pub fn set_users(&self, users: &Value) {
        std::fs::write(self.users.path(), users.to_string()).expect("write users");
    }
}
