//! Several instances over one Postgres database behave as one (product.md §12): limits that
//! protect the audit log and the secret-scanning endpoint hold across them.

use personal_tokens::auth::scanning;
use personal_tokens::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::token_helpers::*;

/// A first instance (with its fresh database) and two more over the same database, all with
/// the same secret-scanning key. `None` when Postgres is skipped (never in CI).
async fn three_instances() -> Option<(TestApp, Vec<Browser>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, scanning::test_support::keys_json("k1", [7; 32])).unwrap();
    let with_keys = |settings: &mut Settings| settings.secret_scanning_keys = Some(keys.clone());
    let first = spawn_app_with(Backend::Postgres, with_keys).await?;
    let mut others = Vec::new();
    for _ in 0..2 {
        let mut settings = test_settings(&first.database_url);
        with_keys(&mut settings);
        others.push(Browser {
            address: start_server(settings).await,
            client: client(),
        });
    }
    Some((first, others, dir))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_addresses_and_scanning_reports_are_limited_as_if_there_were_one_instance() {
    let Some((app, others, _keys)) = three_instances().await else {
        return;
    };
    let everyone: Vec<&Browser> = std::iter::once(&*app).chain(others.iter()).collect();
    app.setup_admin().await;
    let admin = app.with_token("admin", "admin-full", "admin").await;
    let body = json!({"name": "office only", "role": "engineer", "expires_in_days": 7,
                      "allowed_ips": ["10.0.0.0/8"]});
    let (_, _, made) = call(
        &app,
        Method::POST,
        "/api/v1/tokens",
        Some(&admin),
        Some(body),
    )
    .await;
    let office = made["token"].as_str().unwrap().to_owned();

    // Nine refusals from one address, three on each instance: one audit entry.
    for n in 0..9 {
        let (status, _, _) = call(
            everyone[n % 3],
            Method::GET,
            "/api/v1/me",
            Some(&office),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let refusals = || async {
        let (_, _, audit) = call(
            &app,
            Method::GET,
            "/api/v1/audit?action=token_ip_refused",
            Some(&admin),
            None,
        )
        .await;
        audit["total"].as_i64().unwrap()
    };
    let started = std::time::Instant::now();
    while refusals().await == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no refusal was recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Time for a second, wrong entry to land, were the limit kept per instance.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(refusals().await, 1, "one entry for the three instances");

    // 121 reports from one address over three instances: 60 are heard (and refused for their
    // missing signature), the rest are over the limit of 60 a minute.
    let mut statuses = Vec::new();
    for n in 0..121 {
        let response = everyone[n % 3]
            .client
            .post(everyone[n % 3].url("/api/v1/secret-scanning"))
            .header("Content-Type", "application/json")
            .body("[]")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    let heard = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((heard, limited), (60, 61), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_made_on_one_instance_works_on_the_others_until_signed_out_anywhere() {
    let Some((app, others, _keys)) = three_instances().await else {
        return;
    };
    app.setup_admin().await;
    let signed_in = app.new_browser().login("admin", ADMIN_PASSWORD).await;
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("pt_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("a session cookie");
    for other in &others {
        let page = crate::login::get_with_cookie(&other.address, "/tokens", &cookie).await;
        assert_eq!(
            page.status(),
            StatusCode::OK,
            "the session works on {}",
            other.address
        );
    }
    // Signed out on the second instance, with the same cookie (as the browser would send it).
    let form = crate::login::get_with_cookie(&others[0].address, "/settings", &cookie).await;
    let csrf = csrf_token_in(&form.text().await.unwrap());
    let out = client()
        .post(format!("{}/logout", others[0].address))
        .header("Cookie", &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&out), "/login");
    for address in [&app.address, &others[0].address, &others[1].address] {
        let page = crate::login::get_with_cookie(address, "/tokens", &cookie).await;
        assert_eq!(location(&page), "/login", "signed out on {address} too");
    }
}
