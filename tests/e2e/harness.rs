//! The suite's harness: the application in-process on a fresh SQLite file, one chromedriver and
//! one headless Chromium per test (nextest runs each test in a process of its own), and the
//! checks every page gets: console errors, CSP violations, axe-core, screenshots.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use personal_tokens::app::Application;
use personal_tokens::config::Settings;

use crate::database::TestDatabase;
use serde_json::{Value, json};

pub const ACCOUNT: &str = "Acme";
pub const ADMIN: &str = "admin";
pub const ADMIN_NAME: &str = "Ada Admin";
pub const PASSWORD: &str = "correct horse battery staple";

/// How long any wait for the page may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// `let t = e2e!();` starts the app and a browser, or returns from the test when chromium or
/// chromedriver is missing (a failure instead when `CI=true`).
macro_rules! e2e {
    () => {
        e2e!(javascript: true)
    };
    (javascript: $javascript:expr) => {
        match $crate::harness::E2e::start($javascript).await {
            Some(t) => t,
            None => return,
        }
    };
    (postgres) => {
        match $crate::harness::E2e::start_on($crate::harness::Db::Postgres, true).await {
            Some(t) => t,
            None => return,
        }
    };
}

pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Straight to the process's stderr, past libtest's capture, so `cargo test` shows it too.
fn say(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Tools: chromium, chromedriver, axe-core
// ---------------------------------------------------------------------------------------------

struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
    /// axe.min.js, read once; `None` locally when `npm ci` was not run.
    axe: Option<Arc<String>>,
}

fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|path| path.is_file())
}

fn tools() -> Option<&'static Tools> {
    static TOOLS: OnceLock<Option<Tools>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            let chromium = find_program(
                "CHROME_BIN",
                &["chromium", "chromium-browser", "google-chrome"],
            );
            let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"]);
            let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
                let missing = "chromium or chromedriver not found (apt-get install chromium \
                     chromium-driver, or set CHROME_BIN and CHROMEDRIVER)";
                if is_ci() {
                    panic!("CI=true, so the browser tests may not be skipped: {missing}");
                }
                say(&format!("browser tests SKIPPED: {missing}"));
                return None;
            };
            let axe_path =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js");
            let axe = match std::fs::read_to_string(&axe_path) {
                Ok(source) => Some(Arc::new(source)),
                Err(error) => {
                    let missing =
                        format!("cannot read {} ({error}); run `npm ci`", axe_path.display());
                    if is_ci() {
                        panic!(
                            "CI=true, so the accessibility checks may not be skipped: {missing}"
                        );
                    }
                    say(&format!("accessibility checks SKIPPED: {missing}"));
                    None
                }
            };
            Some(Tools {
                chromium,
                chromedriver,
                axe,
            })
        })
        .as_ref()
}

pub fn screenshots_dir() -> PathBuf {
    std::env::var_os("E2E_SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"))
}

// ---------------------------------------------------------------------------------------------
// The application
// ---------------------------------------------------------------------------------------------

/// Which database the app under test runs on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct App {
    pub address: String,
    pub database_url: String,
    _db: TestDatabase,
}

impl App {
    /// `None` when Postgres is asked for but not configured (a failure in CI). `configure`
    /// changes the settings (single sign-on).
    async fn start(db: Db, configure: impl FnOnce(&mut Settings)) -> Option<App> {
        let (database_url, test_db) = match db {
            Db::Sqlite => TestDatabase::sqlite(),
            Db::Postgres => TestDatabase::postgres()?,
        };
        let mut settings = Settings {
            bind: "127.0.0.1:0".into(),
            workers: Some(2),
            pool_size: 4,
            // No background notice pass: pages look the same however long a test runs.
            notice_interval: 0,
            activity_flush_ms: 50,
            ..Settings::for_database(&database_url)
        };
        configure(&mut settings);
        let app = Application::build(settings).await.expect("app starts");
        let address = format!("http://{}", app.address());
        tokio::spawn(app.run_until_stopped());
        Some(App {
            address,
            database_url,
            _db: test_db,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `GET /api/v1/me` with `Authorization: Bearer TOKEN`; the status code.
    pub async fn api_me(&self, token: &str) -> u16 {
        reqwest::Client::new()
            .get(self.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /api/v1/me")
            .status()
            .as_u16()
    }

    /// `personal-tokens user add ARGS --password-stdin` against this app's database.
    pub fn cli_add_user(&self, args: &[&str], password: &str) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_personal-tokens"))
            .args(["user", "add"])
            .args(args)
            .arg("--password-stdin")
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the personal-tokens binary");
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(password.as_bytes());
        let output = child.wait_with_output().expect("the binary finishes");
        assert!(
            output.status.success(),
            "user add {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// chromedriver
// ---------------------------------------------------------------------------------------------

struct Driver {
    child: Child,
    /// `127.0.0.1:PORT`
    host: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

impl Driver {
    async fn start(program: &Path, log: &Path) -> Driver {
        let http = reqwest::Client::new();
        let mut failures = Vec::new();
        // A port found free may be taken before chromedriver binds it: try another.
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(program)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .arg("--log-level=WARNING")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
            let host = format!("127.0.0.1:{port}");
            let started = Instant::now();
            while started.elapsed() < WAIT {
                if let Ok(Some(status)) = child.try_wait() {
                    failures.push(format!("port {port}: exited with {status}"));
                    break;
                }
                let ready = http
                    .get(format!("http://{host}/status"))
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                if let Ok(response) = ready
                    && response.status().is_success()
                {
                    return Driver { child, host };
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
            failures.push(format!("port {port}: not ready within {WAIT:?}"));
        }
        panic!("chromedriver did not start: {failures:?}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// One test's world
// ---------------------------------------------------------------------------------------------

pub struct E2e {
    pub app: App,
    pub browser: Browser,
    // Dropped after the browser: its session is closed before chromedriver is stopped.
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl std::ops::Deref for E2e {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

impl E2e {
    /// The app, chromedriver and a browser session; `None` when the browser is missing and this
    /// is not CI.
    pub async fn start(javascript: bool) -> Option<E2e> {
        Self::start_on(Db::Sqlite, javascript).await
    }

    pub async fn start_on(db: Db, javascript: bool) -> Option<E2e> {
        Self::start_with(db, javascript, |_| {}).await
    }

    /// `start_on` with the settings changed by `configure`.
    pub async fn start_with(
        db: Db,
        javascript: bool,
        configure: impl FnOnce(&mut Settings),
    ) -> Option<E2e> {
        let tools = tools()?;
        let app = App::start(db, configure).await?;
        let profile = tempfile::tempdir().expect("temp dir");
        let driver = Driver::start(&tools.chromedriver, &profile.path().join("driver.log")).await;
        let browser = Browser::open(tools, &driver, &profile, &app.address, javascript).await;
        Some(E2e {
            app,
            browser,
            _driver: driver,
            _profile: profile,
        })
    }

    /// Checks the console once more (for pages left unchecked) and closes the browser session;
    /// call at the end of a test.
    pub async fn finish(self) {
        self.browser.check_console("end of test", None).await;
        self.browser.close().await;
    }
}

// ---------------------------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------------------------

pub struct Browser {
    pub client: Client,
    session: String,
    driver_host: String,
    http: reqwest::Client,
    base: String,
    axe: Option<Arc<String>>,
    pub javascript: bool,
    closed: AtomicBool,
}

/// One console entry from chromedriver's browser log.
#[derive(Debug)]
pub struct LogEntry {
    pub level: String,
    pub source: String,
    pub message: String,
}

impl Browser {
    async fn open(
        tools: &Tools,
        driver: &Driver,
        profile: &tempfile::TempDir,
        base: &str,
        javascript: bool,
    ) -> Browser {
        let user_data = profile.path().join("chromium");
        let mut prefs = serde_json::Map::new();
        if !javascript {
            prefs.insert(
                "profile.managed_default_content_settings.javascript".into(),
                json!(2),
            );
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tools.chromium,
                // What this machine needs (no sandbox as root, no network but loopback), and a
                // fresh profile per test.
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--force-color-profile=srgb",
                    "--lang=en-US",
                    "--window-size=1280,800",
                    format!("--user-data-dir={}", user_data.display()),
                ],
                "prefs": prefs,
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let driver_url = format!("http://{}", driver.host);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"));
        let session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        Browser {
            client,
            session,
            driver_host: driver.host.clone(),
            http: reqwest::Client::new(),
            base: base.to_owned(),
            axe: tools.axe.clone(),
            javascript,
            closed: AtomicBool::new(false),
        }
    }

    pub async fn close(&self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            let _ = self.client.clone().close().await;
        }
    }

    // --- WebDriver and DevTools commands fantoccini has no method for ------------------------

    /// POST to `/session/{id}{path}`; the answer's `value`, or the error's JSON.
    async fn driver_post(&self, path: &str, body: Value) -> Result<Value, Value> {
        let url = format!(
            "http://{}/session/{}{}",
            self.driver_host, self.session, path
        );
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("chromedriver answers");
        let ok = response.status().is_success();
        let json: Value = response.json().await.expect("chromedriver answers JSON");
        let value = json.get("value").cloned().unwrap_or(Value::Null);
        if ok { Ok(value) } else { Err(value) }
    }

    /// A Chrome DevTools Protocol command through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.driver_post("/goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
    }

    /// The console entries logged since the last call.
    pub async fn console(&self) -> Vec<LogEntry> {
        let entries = self
            .driver_post("/se/log", json!({ "type": "browser" }))
            .await
            .unwrap_or_else(|e| panic!("reading the browser log: {e}"));
        entries
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|entry| LogEntry {
                level: entry["level"].as_str().unwrap_or_default().to_owned(),
                source: entry["source"].as_str().unwrap_or_default().to_owned(),
                message: entry["message"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    /// W3C "Set Permission" for clipboard read and write on the app's origin.
    pub async fn grant_clipboard(&self) {
        for name in ["clipboard-read", "clipboard-write"] {
            self.driver_post(
                "/permissions",
                json!({ "descriptor": { "name": name }, "state": "granted" }),
            )
            .await
            .unwrap_or_else(|e| panic!("granting {name}: {e}"));
        }
    }

    /// What `navigator.clipboard.readText()` gives.
    pub async fn clipboard(&self) -> String {
        let answer = self
            .js_async(
                "const done = arguments[arguments.length - 1];
                 navigator.clipboard.readText().then(
                   (text) => done({ text }),
                   (error) => done({ error: String(error) }));",
            )
            .await;
        match answer["text"].as_str() {
            Some(text) => text.to_owned(),
            None => panic!("clipboard read failed: {}", answer["error"]),
        }
    }

    /// Emulates `prefers-color-scheme: dark` (or undoes it).
    pub async fn set_dark(&self, dark: bool) {
        let value = if dark { "dark" } else { "" };
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] }),
        )
        .await;
    }

    // --- Navigation and the page -------------------------------------------------------------

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    }

    /// Path and query of the current page.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query().filter(|query| !query.is_empty()) {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    pub async fn js_async(&self, script: &str) -> Value {
        self.client
            .execute_async(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("async script failed: {e}\n{script}"))
    }

    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element {css} on {}: {e}", self.path().await),
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find_all")
            .is_empty()
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks `css` and waits for the new document it loads, even at the same address.
    pub async fn click_to_load(&self, css: &str) {
        self.js("window.e2eOldPage = true;").await;
        self.click(css).await;
        self.wait_until(
            "the next page",
            "return window.e2eOldPage !== true && document.readyState === 'complete';",
        )
        .await;
    }

    /// Clears a field and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// The rendered text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.expect("attribute")
    }

    pub async fn prop(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.prop(name).await.expect("property")
    }

    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    /// Waits until the page at `path` (path and query; a prefix ending in `*` matches any
    /// rest) is loaded and its first `h1` is `heading`.
    pub async fn wait_for_page(&self, path: &str, heading: &str) {
        let started = Instant::now();
        loop {
            let here = self.path().await;
            let path_ok = match path.strip_suffix('*') {
                Some(prefix) => here.starts_with(prefix),
                None => here == path,
            };
            if path_ok {
                let ready = self
                    .client
                    .execute(
                        "const h = document.querySelector('h1');
                         return document.readyState === 'complete' && h ? h.innerText : null;",
                        Vec::new(),
                    )
                    .await
                    .ok();
                if let Some(Value::String(h1)) = &ready
                    && h1.trim() == heading
                {
                    return;
                }
                if started.elapsed() > WAIT {
                    panic!("on {here} the heading is {ready:?}, not {heading:?}");
                }
            } else if started.elapsed() > WAIT {
                panic!("still on {here}, not on {path} (heading {heading:?})");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `script` returns `true`.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let started = Instant::now();
        loop {
            if let Ok(Value::Bool(true)) = self.client.execute(script, Vec::new()).await {
                return;
            }
            if started.elapsed() > WAIT {
                panic!("timed out waiting for {what} on {}", self.path().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // --- The keyboard -------------------------------------------------------------------------

    /// Presses and releases each key in turn (W3C key actions).
    pub async fn keys(&self, keys: &[char]) {
        let mut actions = KeyActions::new("keyboard".into());
        for &key in keys {
            actions = actions
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        self.client
            .perform_actions(actions)
            .await
            .expect("key actions");
        self.client.release_actions().await.expect("release keys");
    }

    pub async fn press(&self, key: Key) {
        self.keys(&[key.into()]).await;
    }

    pub async fn type_text(&self, text: &str) {
        self.keys(&text.chars().collect::<Vec<_>>()).await;
    }

    /// The focused element, e.g. `a "Add a personal token"` or `input#name "Name"`.
    pub async fn focused(&self) -> String {
        let described = self
            .js("const el = document.activeElement;
                 if (!el || el === document.body) return 'body';
                 const label = el.getAttribute('aria-label')
                   || (el.labels && el.labels.length ? el.labels[0].innerText : '')
                   || el.innerText || el.value || '';
                 return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                   + ' \"' + label.trim().replace(/\\s+/g, ' ') + '\"';")
            .await;
        described.as_str().unwrap_or_default().to_owned()
    }

    /// Presses Tab until the focused element's description contains `wanted`; checks that each
    /// element on the way shows a visible focus ring.
    pub async fn tab_to(&self, wanted: &str) {
        let mut path = Vec::new();
        for _ in 0..40 {
            self.press(Key::Tab).await;
            let here = self.focused().await;
            let ring = self
                .js("const el = document.activeElement;
                     if (!el || el === document.body) return true;
                     const style = getComputedStyle(el);
                     return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;")
                .await;
            assert_eq!(
                ring,
                Value::Bool(true),
                "{here} has no visible focus indicator"
            );
            if here.contains(wanted) {
                return;
            }
            path.push(here);
        }
        panic!("Tab never reached {wanted:?}; focus went through {path:#?}");
    }

    // --- Checks every page gets --------------------------------------------------------------

    /// No console error and no CSP violation since the last check, and no serious or critical
    /// axe-core violation on the page.
    pub async fn check(&self, label: &str) {
        self.check_console(label, None).await;
        self.check_axe(label).await;
    }

    /// `check`, on a page whose own response is the error status `status` (Chromium logs
    /// "Failed to load resource" for the document itself; nothing else may fail).
    pub async fn check_error_page(&self, label: &str, status: u16) {
        self.check_console(label, Some(status)).await;
        self.check_axe(label).await;
    }

    async fn check_console(&self, label: &str, document_status: Option<u16>) {
        let here = self.client.current_url().await.expect("current URL");
        let mut here = here.to_string();
        if let Some(hash) = here.find('#') {
            here.truncate(hash);
        }
        let bad: Vec<String> = self
            .console()
            .await
            .into_iter()
            .filter(|entry| {
                let expected = document_status.is_some_and(|status| {
                    entry.source == "network"
                        && entry.message.starts_with(&format!("{here} "))
                        && entry
                            .message
                            .contains(&format!("the server responded with a status of {status}"))
                });
                let csp = entry.message.contains("Content Security Policy");
                (entry.level == "SEVERE" || csp) && !expected
            })
            .map(|entry| format!("[{} {}] {}", entry.level, entry.source, entry.message))
            .collect();
        assert!(
            bad.is_empty(),
            "{label}: console errors or CSP violations on {here}:\n{}",
            bad.join("\n")
        );
    }

    async fn check_axe(&self, label: &str) {
        let Some(axe) = &self.axe else { return };
        if !self.javascript {
            // WebDriver's own scripts still run where the page's are off, but axe-core waits on
            // timers, which never fire there. The tests with JavaScript check the same pages.
            return;
        }
        let loaded = self.js("return typeof window.axe === 'object';").await;
        if loaded != Value::Bool(true) {
            self.js(axe).await;
        }
        let result = self
            .js_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then((r) => done({ violations: r.violations.map((v) => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
                     })) }))
                   .catch((e) => done({ error: String(e) }));",
            )
            .await;
        if let Some(error) = result.get("error") {
            panic!("{label}: axe-core failed: {error}");
        }
        let violations = result["violations"].as_array().cloned().unwrap_or_default();
        let mut serious = Vec::new();
        for violation in &violations {
            let impact = violation["impact"].as_str().unwrap_or("none");
            let nodes: Vec<String> = violation["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|node| {
                    format!(
                        "    {} — {}",
                        node["target"],
                        node["summary"]
                            .as_str()
                            .unwrap_or_default()
                            .replace('\n', " ")
                    )
                })
                .collect();
            let line = format!(
                "  {} ({impact}): {}\n{}",
                violation["id"].as_str().unwrap_or_default(),
                violation["help"].as_str().unwrap_or_default(),
                nodes.join("\n")
            );
            if matches!(impact, "serious" | "critical") {
                serious.push(line);
            } else {
                eprintln!("{label}: axe-core, not failing the test:\n{line}");
            }
        }
        assert!(
            serious.is_empty(),
            "{label}: serious or critical accessibility violations on {}:\n{}",
            self.path().await,
            serious.join("\n")
        );
    }

    /// Saves `NAME-desktop.png` (1280×800) and `NAME-phone.png` (390×844), whole pages, under
    /// `target/screenshots/`; fails when anything makes the page wider than the phone.
    pub async fn shoot(&self, name: &str) {
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        for (width_name, width, height, mobile) in
            [("desktop", 1280, 800, false), ("phone", 390, 844, true)]
        {
            self.cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
            )
            .await;
            let overflow = self.js(OVERFLOW_SCRIPT).await;
            let overflow = overflow.as_array().cloned().unwrap_or_default();
            assert!(
                overflow.is_empty(),
                "{name} at {width}px: the page is wider than the screen because of {overflow:#?}"
            );
            let full_height = self
                .js("return Math.ceil(document.documentElement.getBoundingClientRect().height);")
                .await
                .as_f64()
                .unwrap_or(f64::from(height))
                .max(f64::from(height));
            let shot = self
                .cdp(
                    "Page.captureScreenshot",
                    json!({
                        "format": "png",
                        "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": width, "height": full_height, "scale": 1 },
                    }),
                )
                .await;
            let png = base64::engine::general_purpose::STANDARD
                .decode(shot["data"].as_str().expect("screenshot data"))
                .expect("base64 PNG");
            let path = dir.join(format!("{name}-{width_name}.png"));
            std::fs::write(&path, png)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        }
        self.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
    }

    /// The session cookie, as a `Cookie:` header value for requests made beside the browser.
    pub async fn session_cookie(&self) -> String {
        let cookie = self
            .client
            .get_named_cookie("pt_session")
            .await
            .expect("the session cookie");
        format!("{}={}", cookie.name(), cookie.value())
    }
}

/// Elements that stick out past the right edge of the page.
const OVERFLOW_SCRIPT: &str = "
const root = document.documentElement;
const width = root.clientWidth;
if (root.scrollWidth <= width) return [];
const found = [];
for (const el of document.body.querySelectorAll('*')) {
  // Inside the table's scrolling wrapper is fine, unless positioned out of its reach.
  const scrolls = el.closest('.table-wrap') && !el.classList.contains('table-wrap');
  if (scrolls && !['absolute', 'fixed'].includes(getComputedStyle(el).position)) continue;
  const right = el.getBoundingClientRect().right;
  if (right > width + 0.5) {
    const cls = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    found.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + ' right=' + Math.round(right));
  }
}
return found.length ? found.slice(0, 12) : ['document is ' + root.scrollWidth + 'px wide'];
";

impl Drop for Browser {
    /// A test that panicked did not close its session: end it here, so Chromium does not
    /// outlive the test (a plain blocking request; no runtime is needed).
    fn drop(&mut self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        let Ok(mut stream) = TcpStream::connect(&self.driver_host) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session, self.driver_host
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
        }
    }
}
