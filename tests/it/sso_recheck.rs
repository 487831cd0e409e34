//! The SSO re-check (product.md §11) against the real provider of `sso.rs`: a person the
//! provider revokes loses their tokens within `OIDC_RECHECK`; one who stands keeps them and
//! follows their groups; every instance runs it and each person is asked about once; and the
//! provider's failures, rotations and mistakes deactivate nobody.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use personal_tokens::auth::oidc::{Oidc, OidcSettings, REFRESH_SEAL};
use personal_tokens::auth::sealed::Sealer;
use personal_tokens::auth::sso_recheck::{RecheckReport, pass};
use personal_tokens::domain::sso::RoleMap;
use personal_tokens::domain::time::Clock;
use personal_tokens::store::{DatabaseUrl, Store};
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::oidc::Provider;
use crate::sso::*;

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
            offline: true,
        },
        Sealer::new(&key, REFRESH_SEAL),
    )
    .unwrap()
}

/// The app re-checks hourly (so it keeps refresh tokens), and the tests run the passes, by
/// clocks hours ahead: the app's own pass finds nobody due while a test runs.
fn hourly() -> Setup {
    Setup {
        recheck: 3600,
        ..Setup::default()
    }
}

/// A clock `ahead` of now, as an instance's would read then.
fn clock_ahead(ahead: TimeDelta) -> Clock {
    let clock = Clock::default();
    clock.advance(ahead);
    clock
}

/// One pass, as an instance would run it `ahead` of now, with `OIDC_RECHECK` an hour.
async fn pass_at(app: &TestApp, provider: &Provider, ahead: TimeDelta) -> RecheckReport {
    let store = Store::open(&DatabaseUrl::parse(&app.database_url).unwrap(), 2).unwrap();
    pass(
        &store,
        &client_of(provider),
        TimeDelta::hours(1),
        false,
        &clock_ahead(ahead),
    )
    .await
    .unwrap()
}

/// Refresh grants the provider logged for `login` (`honoured` ones, or all asked for), once
/// they reach `want` (its lines reach the test a moment after its answers; waits up to 10 s) and
/// a moment more, so that one too many would show.
async fn grants(provider: &Provider, login: &str, honoured: bool, want: usize) -> usize {
    let count = || {
        if honoured {
            provider.refreshes_of(login)
        } else {
            provider.asked_about(login)
        }
    };
    let started = Instant::now();
    while count() < want && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    count()
}

/// Submits a form on `path` (with its CSRF token) as whoever `browser` is, who follows the
/// answer: where they end up.
async fn post_as(app: &TestApp, browser: &Client, path: &str, action: &str) -> String {
    let form = page(browser, app, path).await;
    let csrf = csrf_token_in(&form);
    let sent = browser
        .post(app.url(action))
        .form(&[("csrf_token", csrf.as_str())]);
    let answer = sent.send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    answer.url().path().to_owned()
}

/// Whether the users page shows `name` as deactivated, to administrator `admin`.
async fn deactivated_to(app: &TestApp, admin: &Client, name: &str) -> bool {
    let users = page(admin, app, "/users").await;
    let id = user_id_of(&users, name);
    page(admin, app, &format!("/users/{id}"))
        .await
        .contains("pill-deleted\">Deactivated")
}

/// `deactivated_to` the first administrator, signed in on the app's own client.
async fn deactivated(app: &TestApp, name: &str) -> bool {
    deactivated_to(app, &app.client, name).await
}

macro_rules! recheck_tests {
    ($(async fn $name:ident($app:ident, $provider:ident, $setup:expr) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($app: TestApp, $provider: Provider) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let Some((app, provider)) = start(Backend::Sqlite, $setup).await else {
                        return;
                    };
                    body(app, provider).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some((app, provider)) = start(Backend::Postgres, $setup).await else {
                        return;
                    };
                    body(app, provider).await;
                }
            }
        )*
    };
}

recheck_tests! {
    async fn the_re_check_follows_the_provider_and_deactivates_whom_it_revoked(app, provider, Setup { recheck: 1, ..Setup::default() }) {
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
        // A deactivated person is not asked about again: their grant went with them.
        let asked = provider.asked_about("bob");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(provider.asked_about("bob"), asked);
    }

    async fn every_instance_runs_the_re_check_and_each_person_is_asked_about_once(app, provider, Setup { recheck: 1, ..Setup::default() }) {
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

    async fn passes_at_the_same_moment_ask_about_each_person_once(app, provider, hourly()) {
        app.setup_admin().await;
        assert_eq!(sign_in_as(&app, &browser(), "ada").await.headers()["location"], "/tokens");
        let store = Store::open(&DatabaseUrl::parse(&app.database_url).unwrap(), 8).unwrap();
        let oidc = Arc::new(client_of(&provider));
        let every = TimeDelta::hours(1);
        let run = |ahead: TimeDelta| {
            let (store, oidc) = (store.clone(), oidc.clone());
            tokio::spawn(async move { pass(&store, &oidc, every, false, &clock_ahead(ahead)).await.unwrap() })
        };
        // Eight instances' passes, two hours after her sign-in, all at once.
        let later = TimeDelta::hours(2);
        let passes: Vec<_> = (0..8).map(|_| run(later)).collect();
        let mut asked = 0;
        for one in passes {
            let report: RecheckReport = one.await.unwrap();
            assert_eq!((report.deactivated, report.failed), (0, 0), "{report:?}");
            asked += report.current;
        }
        assert_eq!(asked, 1, "one of the passes claimed her");
        assert_eq!(grants(&provider, "ada", true, 1).await, 1);
        // Not again within the interval of that check; again once it has passed.
        assert_eq!(run(later + TimeDelta::minutes(59)).await.unwrap().current, 0);
        assert_eq!(run(later + TimeDelta::minutes(61)).await.unwrap().current, 1);
        assert_eq!(grants(&provider, "ada", true, 2).await, 2);
    }


    async fn a_rotated_refresh_token_is_kept_and_asked_with_next_time(app, provider, Setup { provider_env: &[("ROTATE_REFRESH_TOKENS", "1")], ..hourly() }) {
        app.setup_admin().await;
        assert_eq!(sign_in_as(&app, &browser(), "ada").await.headers()["location"], "/tokens");
        // Each answer spends the token asked with: the next pass must ask with the new one.
        for hours in [2, 4, 6] {
            let report = pass_at(&app, &provider, TimeDelta::hours(hours)).await;
            assert_eq!(report, RecheckReport { current: 1, ..RecheckReport::default() }, "at +{hours} h");
        }
        assert_eq!(grants(&provider, "ada", true, 3).await, 3);
        assert!(!deactivated(&app, "Ada Lovelace").await);
    }

    async fn a_provider_that_is_down_deactivates_nobody(app, provider, hourly()) {
        app.setup_admin().await;
        assert_eq!(sign_in_as(&app, &browser(), "bob").await.headers()["location"], "/tokens");
        let client = client_of(&provider);
        drop(provider);
        let store = Store::open(&DatabaseUrl::parse(&app.database_url).unwrap(), 2).unwrap();
        let report = pass(&store, &client, TimeDelta::hours(1), false, &clock_ahead(TimeDelta::hours(2))).await.unwrap();
        assert_eq!(report, RecheckReport { failed: 1, ..RecheckReport::default() });
        assert!(!deactivated(&app, "Bob Builder").await);
        let users = app.get_html("/users").await;
        let bob = app.get_html(&format!("/users/{}", user_id_of(&users, "Bob Builder"))).await;
        assert!(bob.contains("It is asked about them again regularly."), "{bob}");
    }

    async fn the_last_administrator_stays_and_a_reactivated_person_starts_afresh(app, provider, hourly()) {
        app.setup_admin().await;
        let (ada, bob) = (browser(), browser());
        assert_eq!(sign_in_as(&app, &ada, "ada").await.headers()["location"], "/tokens");
        assert_eq!(sign_in_as(&app, &bob, "bob").await.headers()["location"], "/tokens");
        // Ada, an administrator through her group, deactivates the first one: she is the last.
        let users = page(&ada, &app, "/users").await;
        let admin_id = user_id_of(&users, "Ada Admin");
        let path = format!("/users/{admin_id}");
        assert_eq!(post_as(&app, &ada, &path, &format!("{path}/deactivate")).await, path);
        assert!(deactivated_to(&app, &ada, "Ada Admin").await);

        let mut gone = people();
        gone["ada"]["disabled"] = json!(true);
        gone["bob"]["disabled"] = json!(true);
        provider.set_users(&gone);
        let report = pass_at(&app, &provider, TimeDelta::hours(2)).await;
        assert_eq!(report, RecheckReport { deactivated: 1, held_back: 1, ..RecheckReport::default() });
        assert!(deactivated_to(&app, &ada, "Bob Builder").await);
        let users = page(&ada, &app, "/users").await;
        assert!(users.contains("Ada Lovelace"), "ada is still signed in: {users}");
        assert!(!deactivated_to(&app, &ada, "Ada Lovelace").await, "the last administrator stays");

        // Bob is taken back here; his old grant went when he was deactivated, so the provider's
        // refusal of it deactivates nobody again. Ada is asked about (and kept) every interval.
        let bob_id = user_id_of(&users, "Bob Builder");
        let path = format!("/users/{bob_id}");
        assert_eq!(post_as(&app, &ada, &path, &format!("{path}/reactivate")).await, path);
        assert!(!deactivated_to(&app, &ada, "Bob Builder").await);
        // One ask each so far (the pass at +2 h), seen before counting on.
        let (ada_asked, bob_asked) = (grants(&provider, "ada", false, 1).await, grants(&provider, "bob", false, 1).await);
        let report = pass_at(&app, &provider, TimeDelta::hours(4)).await;
        assert_eq!(report, RecheckReport { held_back: 1, ..RecheckReport::default() });
        // Bob would have been asked in the same pass as ada, whose ask is seen first.
        assert_eq!(grants(&provider, "ada", false, ada_asked + 1).await, ada_asked + 1);
        assert_eq!(provider.asked_about("bob"), bob_asked, "no grant of bob's is kept");
        assert!(!deactivated_to(&app, &ada, "Bob Builder").await);
        let bob_page = page(&ada, &app, &path).await;
        assert!(bob_page.contains("it is asked about them at their next sign-in"), "{bob_page}");
    }

    async fn when_the_provider_refuses_nearly_everyone_at_once_nobody_is_deactivated(app, provider, Setup { users: crowd(false), ..hourly() }) {
        app.setup_admin().await;
        for n in 1..=6 {
            let login = format!("p{n}");
            assert_eq!(sign_in_as(&app, &browser(), &login).await.headers()["location"], "/tokens");
        }
        // A client registration changed, say: every grant comes back invalid_grant.
        provider.set_users(&crowd(true));
        let report = pass_at(&app, &provider, TimeDelta::hours(2)).await;
        assert_eq!(report, RecheckReport { held_back: 6, ..RecheckReport::default() });
        assert!(!deactivated(&app, "Person 1").await);
        // Held again an hour later. The administrators hear of it once a day, in one notice.
        let (first, again) = (TimeDelta::hours(2), TimeDelta::hours(3) + TimeDelta::minutes(1));
        let report = pass_at(&app, &provider, again).await;
        assert_eq!(report, RecheckReport { held_back: 6, ..RecheckReport::default() });
        let notices = app.get_html("/notifications").await;
        let held = "and 5 others at once: nobody was deactivated";
        let days = if clock_ahead(first).now().date() == clock_ahead(again).now().date() { 1 } else { 2 };
        assert_eq!(notices.matches(held).count(), days, "{notices}");
        // Put right, with one of them gone for real: only that one goes.
        let mut one_gone = crowd(false);
        one_gone["p1"]["disabled"] = json!(true);
        provider.set_users(&one_gone);
        let report = pass_at(&app, &provider, TimeDelta::hours(4) + TimeDelta::minutes(2)).await;
        assert_eq!(report, RecheckReport { current: 5, deactivated: 1, ..RecheckReport::default() });
        assert!(deactivated(&app, "Person 1").await);
        assert!(!deactivated(&app, "Person 2").await);
    }
}

/// Six people of the provider, all disabled or none.
fn crowd(disabled: bool) -> serde_json::Value {
    let people: serde_json::Map<String, serde_json::Value> = (1..=6)
        .map(|n| {
            let person = json!({"email": format!("p{n}@example.com"), "name": format!("Person {n}"), "groups": ["staff"], "disabled": disabled});
            (format!("p{n}"), person)
        })
        .collect();
    serde_json::Value::Object(people)
}
