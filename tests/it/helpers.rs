//! `spawn_app` and the small helpers that keep tests short.

pub use crate::database::TestDatabase;
use personal_tokens::app::Application;
use personal_tokens::config::Settings;
use reqwest::{Client, Response, redirect};

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The one way a test runs on both backends: emits `mod NAME { sqlite, postgres }` for each
/// `async fn NAME(app) { … }`. `app` is what `start` gives for the backend, `spawn_app` unless
/// the block begins `start = FN;` (an app with other settings, or a bare database): any async
/// `FN(Backend) -> Option<T>`, where `None` means the Postgres half is skipped (never in CI).
macro_rules! both_backends {
    (start = $start:expr; $(async fn $name:ident($app:pat) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let $app = $start($crate::helpers::Backend::Sqlite)
                        .await
                        .expect("SQLite always runs");
                    $body
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some($app) = $start($crate::helpers::Backend::Postgres).await else {
                        return;
                    };
                    $body
                }
            }
        )*
    };
    ($(async fn $name:ident($app:pat) $body:block)*) => {
        both_backends! { start = $crate::helpers::spawn_app; $(async fn $name($app) $body)* }
    };
}

/// One browser: a cookie jar pointed at the app.
pub struct Browser {
    pub address: String,
    pub client: Client,
}

pub struct TestApp {
    pub browser: Browser,
    pub database_url: String,
    /// The clock the app's token checks run at: move it forward instead of sleeping.
    pub clock: std::sync::Arc<personal_tokens::domain::time::Clock>,
    _database: TestDatabase,
}

impl std::ops::Deref for TestApp {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

/// Starts the real application on a free port with a database of its own. `None` when the
/// Postgres half is skipped (never in CI).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with settings changed by `configure` (secure cookies, a fixed session key…).
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let (database_url, database) = match backend {
        Backend::Sqlite => TestDatabase::sqlite(),
        Backend::Postgres => TestDatabase::postgres()?,
    };
    let mut settings = test_settings(&database_url);
    configure(&mut settings);
    let app = Application::build(settings).await.expect("app starts");
    let address = format!("http://{}", app.address());
    let clock = app.clock();
    tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        browser: Browser {
            address,
            client: client(),
        },
        database_url,
        clock,
        _database: database,
    })
}

pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        workers: Some(2),
        pool_size: 4,
        notice_interval: 0,
        // Counts reach the database quickly, so tests wait milliseconds for them.
        activity_flush_ms: 50,
        ..Settings::for_database(database_url)
    }
}

/// Builds and starts an application; returns its base URL.
pub async fn start_server(settings: Settings) -> String {
    let app = Application::build(settings).await.expect("app starts");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    address
}

/// Each element `css` selects in `html`, parsed as a browser parses it: (its text, decoded
/// and joined, and the attribute `attr` when one is asked for).
pub fn select_all(html: &str, css: &str, attr: Option<&str>) -> Vec<(String, Option<String>)> {
    let selector = scraper::Selector::parse(css).expect("a valid selector");
    scraper::Html::parse_document(html)
        .select(&selector)
        .map(|element| {
            let text = element.text().collect::<String>();
            let value = attr
                .and_then(|name| element.value().attr(name))
                .map(str::to_owned);
            (text, value)
        })
        .collect()
}

/// The text of the first element `css` selects, if any.
pub fn select_text(html: &str, css: &str) -> Option<String> {
    select_all(html, css, None)
        .into_iter()
        .next()
        .map(|(text, _)| text)
}

/// The attribute `attr` of the first element `css` selects, if any.
pub fn select_attr(html: &str, css: &str, attr: &str) -> Option<String> {
    select_all(html, css, Some(attr))
        .into_iter()
        .find_map(|(_, value)| value)
}

/// The `csrf_token` hidden field of a page.
pub fn csrf_token_in(html: &str) -> String {
    select_attr(html, r#"input[name="csrf_token"]"#, "value").expect("page has a CSRF field")
}

/// A response header as text ("" when absent).
pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn location(response: &Response) -> String {
    header(response, "location")
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("body")
    }

    /// Posts `fields` with the CSRF token of the page at `form_page`.
    pub async fn post_form(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let csrf = csrf_token_in(&self.get_html(form_page).await);
        let mut body: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
        body.extend_from_slice(fields);
        self.client
            .post(self.url(action))
            .form(&body)
            .send()
            .await
            .expect("POST")
    }

    /// First-run setup of account "Acme" with administrator "admin"; leaves the admin signed in.
    pub async fn setup_admin(&self) -> Response {
        let response = self
            .post_form(
                "/setup",
                "/setup",
                &[
                    ("account", "Acme"),
                    ("username", "admin"),
                    ("display_name", "Ada Admin"),
                    ("password", ADMIN_PASSWORD),
                    ("password_confirm", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert_eq!(response.status().as_u16(), 303, "setup redirects");
        response
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_form(
            "/login",
            "/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    pub async fn logout(&self) -> Response {
        self.post_form("/tokens", "/logout", &[]).await
    }
}

impl TestApp {
    /// A second browser: its own cookie jar, same server.
    pub fn new_browser(&self) -> Browser {
        Browser {
            address: self.address.clone(),
            client: client(),
        }
    }

    /// Runs `personal-tokens user add` against this app's database.
    pub fn cli_add_user(&self, args: &[&str], password: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_personal-tokens"))
            .args(["user", "add"])
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run the binary");
        // The command may refuse its arguments before reading stdin; that is its answer, not ours.
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(password.as_bytes());
        child.wait_with_output().expect("binary finishes")
    }
}
