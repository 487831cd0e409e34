//! Single sign-on (product.md §11) against a real OpenID provider: the npm package
//! `oidc-provider` (OpenID Certified), started per test by `tests/oidc/provider.mjs` with a
//! test client and test users, and driven over HTTP as a browser would, on both backends.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::{Client, StatusCode, redirect};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::smtp::free_port;

/// The provider, a child process; killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
    users: tempfile::NamedTempFile,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// `None` where Node or `oidc-provider` is missing (never in CI: `.ci/run` installs them).
    fn start(redirect_uri: &str, users: &Value) -> Option<Provider> {
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
        Some(Provider {
            child,
            issuer,
            users: file,
        })
    }

    /// Changes what the provider says of its people from the next request on.
    fn set_users(&self, users: &Value) {
        std::fs::write(self.users.path(), users.to_string()).expect("write users");
    }
}

fn people() -> Value {
    json!({
        "ada": {"email": "ada@example.com", "name": "Ada Lovelace", "groups": ["pt-admins"]},
        "bob": {"email": "bob@example.com", "name": "Bob Builder", "groups": ["staff"]},
    })
}

/// The app with SSO through a fresh provider; `None` where the Postgres half or the provider is
/// not available here.
async fn app_with_sso(backend: Backend, only: bool) -> Option<(TestApp, Provider)> {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(&format!("{base}/login/sso/callback"), &people())?;
    let issuer = provider.issuer.clone();
    let app = spawn_app_with(backend, |settings| {
        settings.bind = format!("127.0.0.1:{port}");
        settings.public_url = Some(base.clone());
        settings.oidc_issuer = Some(issuer);
        settings.oidc_client_id = Some("personal-tokens".into());
        settings.oidc_client_secret = Some("test-secret".into());
        settings.oidc_account = Some("Acme".into());
        settings.oidc_role_map = "pt-admins=admin,pt-engineers=engineer".into();
        settings.oidc_only = only;
    })
    .await?;
    Some((app, provider))
}

/// A browser that follows redirects, across the app and the provider, but not to the app's
/// callback nor from it: so a test can look at (or replay) the provider's answer and the app's.
fn browser() -> Client {
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
async fn through_the_provider(app: &TestApp, browser: &Client, login: &str) -> String {
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
async fn sign_in_as(app: &TestApp, browser: &Client, login: &str) -> reqwest::Response {
    let callback = through_the_provider(app, browser, login).await;
    browser.get(callback).send().await.unwrap()
}

async fn page(browser: &Client, app: &TestApp, path: &str) -> String {
    browser
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
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
                    let Some((app, provider)) = app_with_sso(Backend::Sqlite, $only).await else {
                        return;
                    };
                    body(app, provider).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some((app, provider)) = app_with_sso(Backend::Postgres, $only).await else {
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
        let token = {
            let form = page(&ada, &app, "/tokens/new").await;
            let csrf = csrf_token_in(&form);
            // The browser follows the answer to the one-time reveal.
            let reveal = ada.post(app.url("/tokens/new"))
                .form(&[("csrf_token", csrf.as_str()), ("name", "ci"), ("expires_in", "30"), ("role", "admin")])
                .send().await.unwrap().text().await.unwrap();
            crate::token_helpers::revealed_token(&reveal).expect("revealed")
        };
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

    async fn with_oidc_only_passwords_are_for_administrators(app, provider, only = true) {
        app.setup_admin().await;
        app.logout().await;
        let erin = app.with_user("Acme", "erin", "Erin Engineer", "engineer").await;
        let refused = app.new_browser().login(&erin.username, &erin.password).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.text().await.unwrap().contains("use “Sign in with SSO”"));
        let admin = app.new_browser().login("admin", ADMIN_PASSWORD).await;
        assert_eq!(location(&admin), "/tokens", "the way back in when the provider is down");
        let bob = browser();
        assert_eq!(sign_in_as(&app, &bob, "bob").await.headers()["location"], "/tokens");
        drop(provider);
    }
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
    for (change, words) in [
        (
            ("pt-admins=root", true),
            "OIDC_ROLE_MAP: `root` is not a role",
        ),
        (("", false), "set all of OIDC_ISSUER"),
    ] {
        let (url, _db) = crate::database::TestDatabase::sqlite();
        let mut settings = test_settings(&url);
        settings.oidc_role_map = change.0.into();
        settings.oidc_issuer = Some("http://127.0.0.1:9".into());
        if change.1 {
            settings.oidc_client_id = Some("id".into());
            settings.oidc_client_secret = Some("secret".into());
            settings.oidc_account = Some("Acme".into());
        }
        let error = personal_tokens::app::Application::build(settings)
            .await
            .err()
            .expect("refused at start")
            .to_string();
        assert!(error.contains(words), "{error}");
        assert!(!error.contains('\n'));
    }
}
