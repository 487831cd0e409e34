//! Single sign-on (product.md §11) against a real OpenID provider: the npm package
//! `oidc-provider` (OpenID Certified), started per test by `tests/oidc/provider.mjs` with a
//! test client and test users, and driven over HTTP as a browser would, on both backends.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode, redirect};
use serde_json::{Value, json};

use std::sync::Arc;

use chrono::TimeDelta;
use personal_tokens::auth::oidc::{Oidc, OidcSettings, REFRESH_SEAL};
use personal_tokens::auth::sealed::Sealer;
use personal_tokens::auth::sso_recheck::{RecheckReport, pass};
use personal_tokens::config::Settings;
use personal_tokens::domain::sso::RoleMap;
use personal_tokens::store::{DatabaseUrl, Store};

use crate::helpers::*;
use crate::oidc::Provider;
use crate::smtp::free_port;

fn people() -> Value {
    json!({
        "ada": {"email": "ada@example.com", "name": "Ada Lovelace", "groups": ["pt-admins"]},
        "bob": {"email": "bob@example.com", "name": "Bob Builder", "groups": ["staff"]},
    })
}

/// The role map of these tests.
const ROLE_MAP: &str = "pt-admins=admin,pt-engineers=engineer";

/// The app's SSO settings for `provider`, with the re-check every `recheck` seconds (0: none).
fn use_provider(
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

/// The session key every instance shares, so a test can open what they sealed.
const SESSION_KEY: &str = "8c1f0a5b6e7d4c3b2a1908f7e6d5c4b3a29181706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a190807f6e5d4c3b2a19081726354453627180919a8b7c";

/// The app's client at `provider`, as another instance would hold it.
fn client_of(provider: &Provider) -> Oidc {
    let key = (0..SESSION_KEY.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&SESSION_KEY[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>();
    Oidc::new(
        OidcSettings {
            issuer: provider.issuer.clone(),
            client_id: "personal-tokens".into(),
            client_secret: "test-secret".into(),
            redirect: "http://127.0.0.1:9/login/sso/callback".into(),
            role_claim: "groups".into(),
            role_map: RoleMap::parse(ROLE_MAP).unwrap(),
        },
        Sealer::new(&key, REFRESH_SEAL),
    )
    .unwrap()
}

/// The app with SSO through a fresh provider; `None` where the Postgres half or the provider is
/// not available here.
async fn app_with_sso(backend: Backend, only: bool, recheck: u64) -> Option<(TestApp, Provider)> {
    app_with_sso_map(backend, only, recheck, ROLE_MAP).await
}

async fn app_with_sso_map(
    backend: Backend,
    only: bool,
    recheck: u64,
    role_map: &str,
) -> Option<(TestApp, Provider)> {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(&format!("{base}/login/sso/callback"), &people())?;
    let app = spawn_app_with(backend, |settings| {
        settings.bind = format!("127.0.0.1:{port}");
        use_provider(settings, &provider, &base, only, recheck);
        settings.oidc_role_map = role_map.into();
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

/// A token made on the page by whoever `browser` is signed in as: its secret, from the reveal.
async fn make_token(app: &TestApp, browser: &Client, name: &str, role: &str) -> String {
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
async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    let me = app.client.get(app.url("/api/v1/me")).bearer_auth(token);
    me.send().await.unwrap().status()
}

/// Waits, up to 30 seconds, for `done`; the re-check runs every second in these tests.
async fn eventually<F: std::future::Future<Output = bool>>(
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
fn user_id_of(users_page: &str, name: &str) -> String {
    select_all(users_page, "a.token-name", Some("href"))
        .into_iter()
        .find(|(text, _)| text == name)
        .and_then(|(_, href)| href)
        .and_then(|href| href.strip_prefix("/users/").map(str::to_owned))
        .unwrap_or_else(|| panic!("{name} on the users page: {users_page}"))
}

macro_rules! sso_tests {
    ($(async fn $name:ident($app:ident, $provider:ident, only = $only:expr, recheck = $recheck:expr) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($app: TestApp, $provider: Provider) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let Some((app, provider)) = app_with_sso(Backend::Sqlite, $only, $recheck).await else {
                        return;
                    };
                    body(app, provider).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some((app, provider)) = app_with_sso(Backend::Postgres, $only, $recheck).await else {
                        return;
                    };
                    body(app, provider).await;
                }
            }
        )*
    };
}

sso_tests! {
    async fn a_first_sign_in_makes_the_person_with_the_mapped_role_and_a_new_group_changes_it(app, provider, only = false, recheck = 0) {
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
    }

    async fn a_wrong_or_missing_state_and_a_replayed_answer_are_pages_not_errors(app, provider, only = false, recheck = 0) {
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

    async fn an_expired_id_token_is_a_page(app, provider, only = false, recheck = 0) {
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

    async fn a_person_provisioned_by_scim_signs_in_as_themselves(app, provider, only = false, recheck = 0) {
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

    async fn the_re_check_follows_the_provider_and_deactivates_whom_it_revoked(app, provider, only = false, recheck = 1) {
        app.setup_admin().await;
        let (ada, bob) = (browser(), browser());
        assert_eq!(sign_in_as(&app, &ada, "ada").await.headers()["location"], "/tokens");
        assert_eq!(sign_in_as(&app, &bob, "bob").await.headers()["location"], "/tokens");
        let bobs = make_token(&app, &bob, "deploy", "read_only").await;
        assert_eq!(me_status(&app, &bobs).await, StatusCode::OK);
        let users = app.get_html("/users").await;
        let (ada_id, bob_id) = (user_id_of(&users, "Ada Lovelace"), user_id_of(&users, "Bob Builder"));
        let ada_page = app.get_html(&format!("/users/{ada_id}")).await;
        assert!(ada_page.contains("Through the identity provider (SSO). It last vouched for them"), "{ada_page}");
        assert!(ada_page.contains("Their role follows the identity provider's groups"), "{ada_page}");
        let story = app.get_html("/tokens").await;
        let token_href = select_attr(&story, "a.token-link", "href").expect("bob's token on the list");
        assert!(app.get_html(&token_href).await.contains("Bob Builder <span class=\"pill pill-service\" title=\"Signs in through the identity provider\">SSO</span>"));

        // The provider asked about them stands by them: nothing changes.
        eventually("ada re-checked", || async { provider.refreshes_of("ada") >= 2 }).await;
        assert_eq!(me_status(&app, &bobs).await, StatusCode::OK);

        // At the provider, Ada moves to the engineers and Bob leaves the company.
        let mut changed = people();
        changed["ada"]["groups"] = json!(["pt-engineers"]);
        changed["bob"]["disabled"] = json!(true);
        provider.set_users(&changed);
        eventually("bob's token refused", || async { me_status(&app, &bobs).await == StatusCode::UNAUTHORIZED }).await;
        let bob_gone = bob.get(app.url("/tokens")).send().await.unwrap();
        assert_eq!(bob_gone.url().path(), "/login", "bob's session ended with him");
        eventually("ada follows her group without signing in", || async {
            app.get_html(&format!("/users/{ada_id}")).await.contains("<dt>Role</dt><dd>Engineer</dd>")
        }).await;
        let bob_page = app.get_html(&format!("/users/{bob_id}")).await;
        assert!(bob_page.contains("pill-deleted\">Deactivated"), "{bob_page}");

        let audit = app.get_html("/audit").await;
        assert_eq!(audit.matches("bob@example.com, by SSO").count(), 1, "deactivated once: {audit}");
        assert!(audit.contains("ada@example.com: Administrator → Engineer, by SSO"), "{audit}");
        let notices = app.get_html("/notifications").await;
        assert!(notices.contains("Bob Builder (@bob@example.com) was deactivated by SSO"), "{notices}");
        // A deactivated person is not asked about again, and still cannot sign in.
        let asked = provider.refreshes_of("bob");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(provider.refreshes_of("bob"), asked);
    }

    async fn every_instance_runs_the_re_check_and_each_person_is_asked_about_once(app, provider, only = false, recheck = 1) {
        app.setup_admin().await;
        // Two more instances over the same database, re-checking every second as the first does.
        let base = app.address.clone();
        for _ in 0..2 {
            let mut settings = test_settings(&app.database_url);
            use_provider(&mut settings, &provider, &base, false, 1);
            start_server(settings).await;
        }
        let started = Instant::now();
        let ada = browser();
        assert_eq!(sign_in_as(&app, &ada, "ada").await.headers()["location"], "/tokens");
        tokio::time::sleep(Duration::from_secs(6)).await;
        let asked = provider.refreshes_of("ada");
        let seconds = started.elapsed().as_secs_f64();
        // Each claim needs her last check a second old: at most one ask per second between the
        // three instances, where unclaimed checks would ask up to three times a second.
        assert!(asked >= 2, "the instances re-checked ada: {asked}");
        assert!((asked as f64) <= seconds.floor() + 1.0, "{asked} asks in {seconds:.1} s");

        let bob = browser();
        sign_in_as(&app, &bob, "bob").await;
        let mut changed = people();
        changed["bob"]["disabled"] = json!(true);
        provider.set_users(&changed);
        let users = app.get_html("/users").await;
        let bob_id = user_id_of(&users, "Bob Builder");
        eventually("bob deactivated", || async {
            app.get_html(&format!("/users/{bob_id}")).await.contains("pill-deleted\">Deactivated")
        }).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let audit = app.get_html("/audit").await;
        assert_eq!(audit.matches("bob@example.com, by SSO").count(), 1, "{audit}");
        let notices = app.get_html("/notifications").await;
        assert_eq!(notices.matches("Bob Builder (@bob@example.com) was deactivated by SSO").count(), 1, "{notices}");
    }

    async fn passes_at_the_same_moment_ask_about_each_person_once(app, provider, only = false, recheck = 0) {
        app.setup_admin().await;
        assert_eq!(sign_in_as(&app, &browser(), "ada").await.headers()["location"], "/tokens");
        let store = Store::open(&DatabaseUrl::parse(&app.database_url).unwrap(), 8).unwrap();
        let oidc = Arc::new(client_of(&provider));
        let every = TimeDelta::hours(1);
        let run = |at: chrono::NaiveDateTime| {
            let (store, oidc) = (store.clone(), oidc.clone());
            tokio::spawn(async move { pass(&store, &oidc, every, false, at).await.unwrap() })
        };
        // Eight instances' passes, two hours after her sign-in, all at once.
        let later = app.clock.now() + TimeDelta::hours(2);
        let passes: Vec<_> = (0..8).map(|_| run(later)).collect();
        let mut asked = 0;
        for one in passes {
            let report: RecheckReport = one.await.unwrap();
            assert_eq!((report.deactivated, report.failed), (0, 0), "{report:?}");
            asked += report.current;
        }
        assert_eq!(asked, 1, "one of the passes claimed her");
        assert_eq!(provider.refreshes_of("ada"), 1);
        // Not again within the interval of that check; again once it has passed.
        assert_eq!(run(later + TimeDelta::minutes(59)).await.unwrap().current, 0);
        assert_eq!(run(later + TimeDelta::minutes(61)).await.unwrap().current, 1);
        assert_eq!(provider.refreshes_of("ada"), 2);
    }

    async fn with_oidc_only_passwords_are_for_administrators(app, provider, only = true, recheck = 0) {
        app.setup_admin().await;
        app.logout().await;
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
    let Some((app, provider)) = app_with_sso_map(backend, false, 1, "").await else {
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
