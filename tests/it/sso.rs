//! Single sign-on (product.md §11) against a real OpenID provider: the npm package
//! `oidc-provider` (OpenID Certified), started per test by `tests/oidc/provider.mjs` with a
//! test client and test users, and driven over HTTP as a browser would, on both backends.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode, redirect};
use serde_json::{Value, json};

use personal_tokens::config::Settings;

use crate::helpers::*;
use crate::oidc::Provider;
use crate::smtp::free_port;

pub(crate) fn people() -> Value {
    json!({
        "ada": {"email": "ada@example.com", "name": "Ada Lovelace", "groups": ["pt-admins"]},
        "bob": {"email": "bob@example.com", "name": "Bob Builder", "groups": ["staff"]},
    })
}

/// The role map of these tests.
pub(crate) const ROLE_MAP: &str = "pt-admins=admin,pt-engineers=engineer";

/// The session key every instance shares, so a test can open what they sealed.
pub(crate) const SESSION_KEY: &str = "8c1f0a5b6e7d4c3b2a1908f7e6d5c4b3a29181706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a190807f6e5d4c3b2a19081726354453627180919a8b7c";

/// The app's SSO settings for `provider`, with the re-check every `recheck` seconds (0: none).
pub(crate) fn use_provider(
    settings: &mut Settings,
    provider: &Provider,
    base: &str,
    only: bool,
    recheck: u64,
) {
    settings.public_url = Some(base.to_owned());
    settings.oidc_issuer = Some(provider.issuer.clone());
    settings.oidc_client_id = Some("personal-tokens".into());
    settings.oidc_client_secret = Some("test-secret".into());
    settings.oidc_account = Some("Acme".into());
    settings.oidc_role_map = ROLE_MAP.into();
    settings.oidc_only = only;
    settings.oidc_recheck = recheck;
    settings.session_key = Some(SESSION_KEY.into());
}

/// How a test's app and provider are set up.
pub(crate) struct Setup {
    pub only: bool,
    /// `OIDC_RECHECK`; 0 (no background re-check) unless a test runs it.
    pub recheck: u64,
    pub role_map: &'static str,
    pub users: Value,
    /// More of `provider.mjs`'s settings.
    pub provider_env: &'static [(&'static str, &'static str)],
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            only: false,
            recheck: 0,
            role_map: ROLE_MAP,
            users: people(),
            provider_env: &[],
        }
    }
}

/// The app with SSO through a fresh provider; `None` where the Postgres half or the provider is
/// not available here.
pub(crate) async fn start(backend: Backend, setup: Setup) -> Option<(TestApp, Provider)> {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let redirect = format!("{base}/login/sso/callback");
    let provider = Provider::start_with(&redirect, &setup.users, setup.provider_env)?;
    let app = spawn_app_with(backend, |settings| {
        settings.bind = format!("127.0.0.1:{port}");
        use_provider(settings, &provider, &base, setup.only, setup.recheck);
        settings.oidc_role_map = setup.role_map.into();
    })
    .await?;
    Some((app, provider))
}

/// A browser that follows redirects, across the app and the provider, but not to the app's
/// callback nor from it: so a test can look at (or replay) the provider's answer and the app's.
pub(crate) fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::custom(|attempt| {
            let callback = "/login/sso/callback";
            let from_callback = attempt
                .previous()
                .last()
                .is_some_and(|u| u.path() == callback);
            if attempt.url().path() == callback || from_callback {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .expect("client")
}

/// "Sign in with SSO", then the provider's login form as `login`: the callback URL the
/// provider sends the browser back to.
pub(crate) async fn through_the_provider(app: &TestApp, browser: &Client, login: &str) -> String {
    let form = browser.get(app.url("/login/sso")).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK, "the provider's login form");
    let page_url = form.url().clone();
    let page = form.text().await.unwrap();
    assert!(page.contains("name=\"login\""), "{page}");
    let action = page_url
        .join(&format!("{}/login", page_url.path()))
        .unwrap();
    let back = browser
        .post(action)
        .form(&[("login", login)])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let location = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/login/sso/callback?"), "{location}");
    location
}

/// A whole sign-in through the provider: the page the app answers the callback with.
pub(crate) async fn sign_in_as(app: &TestApp, browser: &Client, login: &str) -> reqwest::Response {
    let callback = through_the_provider(app, browser, login).await;
    browser.get(callback).send().await.unwrap()
}

pub(crate) async fn page(browser: &Client, app: &TestApp, path: &str) -> String {
    browser
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A token made on the page by whoever `browser` is signed in as: its secret, from the reveal.
pub(crate) async fn make_token(app: &TestApp, browser: &Client, name: &str, role: &str) -> String {
    let form = page(browser, app, "/tokens/new").await;
    let csrf = csrf_token_in(&form);
    // The browser follows the answer to the one-time reveal.
    let reveal = browser
        .post(app.url("/tokens/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", name),
            ("expires_in", "30"),
            ("role", role),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    crate::token_helpers::revealed_token(&reveal).expect("revealed")
}

/// What `GET /api/v1/me` answers `token`.
pub(crate) async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    let me = app.client.get(app.url("/api/v1/me")).bearer_auth(token);
    me.send().await.unwrap().status()
}

/// Waits, up to 30 seconds, for `done`; the re-check runs every second in these tests.
pub(crate) async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut done: impl FnMut() -> F,
) {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The user id the users page links `name` with.
pub(crate) fn user_id_of(users_page: &str, name: &str) -> String {
    select_all(users_page, "a.token-name", Some("href"))
        .into_iter()
        .find(|(text, _)| text == name)
        .and_then(|(_, href)| href)
        .and_then(|href| href.strip_prefix("/users/").map(str::to_owned))
        .unwrap_or_else(|| panic!("{name} on the users page: {users_page}"))
}

macro_rules! sso_tests {
    ($(async fn $name:ident($app:ident, $provider:ident, only = $only:expr) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($app: TestApp, $provider: Provider) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let setup = Setup { only: $only, ..Setup::default() };
                    let Some((app, provider)) = start(Backend::Sqlite, setup).await else {
                        return;
                    };
                    body(app, provider).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let setup = Setup { only: $only, ..Setup::default() };
                    let Some((app, provider)) = start(Backend::Postgres, setup).await else {
                        return;
                    };
                    body(app, provider).await;
                }
            }
        )*
    };
}

sso_tests! {
    async fn a_first_sign_in_makes_the_person_with_the_mapped_role_and_a_new_group_changes_it(app, provider, only = false) {
        app.setup_admin().await;
        let login = app.get_html("/login").await;
        assert!(login.contains("href=\"/login/sso\""), "the sign-in page offers SSO");
        assert!(!login.contains("id=\"sso-only\""), "and passwords for everyone");
        app.logout().await;

        let ada = browser();
        let answer = sign_in_as(&app, &ada, "ada").await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(answer.headers()["location"], "/tokens");
        let list = page(&ada, &app, "/tokens").await;
        assert!(list.contains("Ada Lovelace") && list.contains(">Administrator<"), "{list}");
        let users = page(&ada, &app, "/users").await;
        assert!(users.contains("ada@example.com"), "e-mail from the claims: {users}");
        assert!(users.contains(">SSO</span>"), "marked as signing in through the provider");

        // Her group changes at the provider: the next sign-in follows it, and her tokens narrow.
        let token = make_token(&app, &ada, "ci", "admin").await;
        let mut changed = people();
        changed["ada"]["groups"] = json!(["pt-engineers"]);
        provider.set_users(&changed);
        let again = browser();
        assert_eq!(sign_in_as(&app, &again, "ada").await.headers()["location"], "/tokens");
        assert!(page(&again, &app, "/tokens").await.contains(">Engineer<"));
        let me = app.client.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
        let me: Value = me.json().await.unwrap();
        assert_eq!(me["token"]["effective_role"], "engineer", "{me}");

        // No group that maps: Read-only, as a new person.
        let bob = browser();
        sign_in_as(&app, &bob, "bob").await;
        assert!(page(&bob, &app, "/tokens").await.contains(">Read-only<"));
        app.login("admin", ADMIN_PASSWORD).await;
        let audit = app.get_html("/audit").await;
        assert!(audit.contains("ada@example.com (Administrator), by SSO"), "{audit}");
        assert!(audit.contains("Administrator → Engineer, by SSO"), "{audit}");
        let rows = select_all(&audit, "tbody tr", None);
        let sign_ins = rows.iter().filter(|(row, _)| row.contains("Signed in") && row.contains("through SSO"));
        assert_eq!(sign_ins.filter(|(row, _)| row.contains("Ada Lovelace")).count(), 2, "both of her sign-ins: {rows:?}");
    }

    async fn a_wrong_or_missing_state_and_a_replayed_answer_are_pages_not_errors(app, provider, only = false) {
        app.setup_admin().await;
        let mallory = browser();
        let callback = through_the_provider(&app, &mallory, "bob").await;
        let forged = callback.replace("state=", "state=x");
        let answer = mallory.get(&forged).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(answer.text().await.unwrap().contains("does not belong to the sign-in"));
        // The attempt was used up by the forged answer: the real one finds nothing now.
        let late = mallory.get(&callback).send().await.unwrap();
        assert_eq!(late.status(), StatusCode::BAD_REQUEST);
        assert!(late.text().await.unwrap().contains("No sign-in was in progress"));

        let bob = browser();
        let callback = through_the_provider(&app, &bob, "bob").await;
        assert_eq!(bob.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
        let replay = browser().get(&callback).send().await.unwrap();
        assert_eq!(replay.status(), StatusCode::BAD_REQUEST, "another browser cannot use it");
        let twice = bob.get(&callback).send().await.unwrap();
        assert_eq!(twice.status(), StatusCode::BAD_REQUEST, "nor the same one twice");

        let denied = browser().get(app.url("/login/sso/callback?error=access_denied&error_description=no%20thanks")).send().await.unwrap();
        assert_eq!(denied.status(), StatusCode::BAD_REQUEST);
        assert!(denied.text().await.unwrap().contains("did not sign you in: no thanks"));
        drop(provider);
    }

    async fn an_expired_id_token_is_a_page(app, provider, only = false) {
        app.setup_admin().await;
        let bob = browser();
        let callback = through_the_provider(&app, &bob, "bob").await;
        // The provider's ID token lives an hour; by the app's clock, two have passed.
        app.clock.advance(chrono::TimeDelta::hours(2));
        let answer = bob.get(&callback).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let page = answer.text().await.unwrap();
        assert!(page.contains("did not verify"), "{page}");
        assert!(page.contains("expired"), "{page}");
        let users = app.get_html("/users").await;
        assert!(!users.contains("Bob Builder"), "nobody was made: {users}");
        drop(provider);
    }

    async fn a_person_provisioned_by_scim_signs_in_as_themselves(app, provider, only = false) {
        app.setup_admin().await;
        let scim = app.with_scoped_token("admin", "okta", "admin", Some(&["users:write"])).await;
        let made = app.client.post(app.url("/scim/v2/Users")).bearer_auth(&scim)
            .json(&json!({"userName": "bob@example.com", "externalId": "bob"}))
            .send().await.unwrap();
        assert_eq!(made.status(), StatusCode::CREATED);
        let id = made.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let bob = browser();
        assert_eq!(sign_in_as(&app, &bob, "bob").await.headers()["location"], "/tokens");
        let users = app.get_html("/users").await;
        assert_eq!(users.matches("data-user-id=").count(), 2, "the administrator and bob, once: {users}");
        assert!(users.contains(&format!("data-user-id=\"{id}\"")));
        drop(provider);
    }

    async fn a_deactivated_person_retrying_sso_locks_nobody_out_of_password_sign_in(app, provider, only = false) {
        app.setup_admin().await;
        let bob = browser();
        assert_eq!(sign_in_as(&app, &bob, "bob").await.headers()["location"], "/tokens");
        let users = app.get_html("/users").await;
        let page = format!("/users/{}", user_id_of(&users, "Bob Builder"));
        let deactivated = app.post_form(&page, &format!("{page}/deactivate"), &[]).await;
        assert_eq!(deactivated.status(), StatusCode::SEE_OTHER);
        app.logout().await;
        // More refused SSO attempts from this address than the password throttle allows.
        for _ in 0..personal_tokens::domain::sign_in::MAX_FAILURES_PER_ADDRESS + 1 {
            let refused = sign_in_as(&app, &browser(), "bob").await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        }
        let admin = app.new_browser().login("admin", ADMIN_PASSWORD).await;
        assert_eq!(location(&admin), "/tokens", "the same address still signs in with a password");
        app.login("admin", ADMIN_PASSWORD).await;
        let audit = app.get_html("/audit?action=login_failed").await;
        assert!(audit.contains("through SSO; deactivated here"), "each attempt is recorded: {audit}");
        drop(provider);
    }

    async fn with_oidc_only_passwords_are_for_administrators(app, provider, only = true) {
        app.setup_admin().await;
        app.logout().await;
        let login = app.get_html("/login").await;
        assert!(select_text(&login, "#sso-only").is_some_and(|hint| hint.contains("The password form is for administrators")), "{login}");
        let erin = app.with_user("Acme", "erin", "Erin Engineer", "engineer").await;
        // Her right password and a wrong one get the same answer: neither confirms a password.
        let refused = app.new_browser().login(&erin.username, &erin.password).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let refused = refused.text().await.unwrap();
        assert!(refused.contains("use “Sign in with SSO”"), "{refused}");
        let wrong = app.new_browser().login(&erin.username, "not her password").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            select_text(&wrong.text().await.unwrap(), "[role=alert]"),
            select_text(&refused, "[role=alert]")
        );
        let admin = app.new_browser().login("admin", ADMIN_PASSWORD).await;
        assert_eq!(location(&admin), "/tokens", "the way back in when the provider is down");
        let bob = browser();
        assert_eq!(sign_in_as(&app, &bob, "bob").await.headers()["location"], "/tokens");
        app.login("admin", ADMIN_PASSWORD).await;
        let audit = app.get_html("/audit").await;
        assert!(audit.contains("right password, but password sign-in is for administrators only"), "{audit}");
        let rows = select_all(&audit, "tbody tr", None);
        let erins: Vec<&str> = rows.iter().map(|(text, _)| text.as_str()).filter(|row| row.contains("erin")).collect();
        assert!(erins.iter().any(|row| row.contains("Failed sign-in")), "{erins:?}");
        assert!(!erins.iter().any(|row| row.contains("Signed in")), "erin never signed in: {erins:?}");
        drop(provider);
    }
}

/// With no `OIDC_ROLE_MAP` (Google's tokens carry no groups), people start Read-only and
/// administrators give roles on the users page; signing in again keeps them.
async fn without_a_role_map_an_administrator_gives_the_roles(backend: Backend) {
    let setup = Setup {
        recheck: 1,
        role_map: "",
        ..Setup::default()
    };
    let Some((app, provider)) = start(backend, setup).await else {
        return;
    };
    app.setup_admin().await;
    let ada = browser();
    assert_eq!(
        sign_in_as(&app, &ada, "ada").await.headers()["location"],
        "/tokens"
    );
    let users = app.get_html("/users").await;
    let page = format!("/users/{}", user_id_of(&users, "Ada Lovelace"));
    let before = app.get_html(&page).await;
    assert!(
        before.contains("<dt>Role</dt><dd>Read-only</dd>"),
        "in pt-admins, but nothing maps: {before}"
    );
    assert!(!before.contains("follows the identity provider's groups"));
    let id = page.trim_start_matches("/users/");
    let raised = app
        .post_form(&page, &format!("/users/{id}/role"), &[("role", "engineer")])
        .await;
    assert_eq!(raised.status(), StatusCode::SEE_OTHER);
    // Re-checked and signed in again: still what the administrator gave.
    eventually("ada re-checked", || async {
        provider.refreshes_of("ada") >= 1
    })
    .await;
    assert_eq!(
        sign_in_as(&app, &browser(), "ada").await.headers()["location"],
        "/tokens"
    );
    let after = app.get_html(&page).await;
    assert!(after.contains("<dt>Role</dt><dd>Engineer</dd>"), "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_role_map_an_administrator_gives_the_roles_sqlite() {
    without_a_role_map_an_administrator_gives_the_roles(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_role_map_an_administrator_gives_the_roles_postgres() {
    without_a_role_map_an_administrator_gives_the_roles(Backend::Postgres).await;
}

both_backends! {
    async fn without_oidc_there_is_no_sso(app) {
        app.setup_admin().await;
        assert_eq!(app.get("/login/sso").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.get("/login/sso/callback?code=x&state=y").await.status(), StatusCode::NOT_FOUND);
        app.logout().await;
        assert!(!app.get_html("/login").await.contains("/login/sso"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_is_down_or_answers_junk_is_a_page() {
    for junk in [false, true] {
        let port = free_port();
        // Junk: the app itself, which answers discovery with a page, not a provider's document.
        // Down: a port nothing listens on.
        let issuer = if junk {
            format!("http://127.0.0.1:{port}")
        } else {
            format!("http://127.0.0.1:{}", free_port())
        };
        let Some(app) = spawn_app_with(Backend::Sqlite, |settings| {
            settings.bind = format!("127.0.0.1:{port}");
            settings.oidc_issuer = Some(issuer.clone());
            settings.oidc_client_id = Some("personal-tokens".into());
            settings.oidc_client_secret = Some("test-secret".into());
            settings.oidc_account = Some("Acme".into());
        })
        .await
        else {
            return;
        };
        app.setup_admin().await;
        let answer = app.get("/login/sso").await;
        assert_eq!(answer.status(), StatusCode::BAD_GATEWAY, "junk: {junk}");
        assert!(
            answer
                .text()
                .await
                .unwrap()
                .contains("not answering as it should")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_that_cannot_be_read_stop_the_server_with_one_line() {
    fn complete(settings: &mut Settings) {
        settings.oidc_client_id = Some("id".into());
        settings.oidc_client_secret = Some("secret".into());
        settings.oidc_account = Some("Acme".into());
    }
    type Change = fn(&mut Settings);
    let cases: [(Change, &str); 3] = [
        (
            |settings| {
                complete(settings);
                settings.oidc_role_map = "pt-admins=root".into();
            },
            "OIDC_ROLE_MAP: `root` is not a role",
        ),
        (|_| {}, "set all of OIDC_ISSUER"),
        (
            |settings| {
                complete(settings);
                settings.oidc_recheck = u64::MAX;
            },
            "OIDC_RECHECK: at most 31622400 seconds",
        ),
    ];
    for (change, words) in cases {
        let (url, _db) = crate::database::TestDatabase::sqlite();
        let mut settings = test_settings(&url);
        settings.oidc_issuer = Some("http://127.0.0.1:9".into());
        change(&mut settings);
        let error = personal_tokens::app::Application::build(settings)
            .await
            .err()
            .expect("refused at start")
            .to_string();
        assert!(error.contains(words), "{error}");
        assert!(!error.contains('\n'));
    }
}
