//! Leak response: IP allowlists (through a trusted proxy's X-Forwarded-For), new-address alerts,
//! "whose token is this?", and secret-scanning reports.

use std::time::{Duration, Instant};

use personal_tokens::config::Settings;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::token_helpers::*;

/// The app with 127.0.0.1 as a trusted proxy: a test request says where it comes from with
/// `X-Forwarded-For`.
async fn behind_a_proxy(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |settings: &mut Settings| {
        settings.trusted_proxies = "127.0.0.1, ::1".into();
    })
    .await
}

async fn me_from(app: &TestApp, token: &str, from: Option<&str>) -> (StatusCode, Value) {
    let mut request = app.client.get(app.url("/api/v1/me")).bearer_auth(token);
    if let Some(from) = from {
        request = request.header("X-Forwarded-For", from);
    }
    let response = request.send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// Polls `page` until it contains `text` (the alert and the refusal record trail the request).
async fn eventually(browser: &Browser, page: &str, text: &str) -> String {
    let started = Instant::now();
    loop {
        let html = browser.get_html(page).await;
        if html.contains(text) {
            return html;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{page} never showed {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn count(html: &str, text: &str) -> usize {
    html.matches(text).count()
}

macro_rules! behind_proxy {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let $app = behind_a_proxy(Backend::Sqlite).await.expect("SQLite always runs");
                    $body
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some($app) = behind_a_proxy(Backend::Postgres).await else { return };
                    $body
                }
            }
        )*
    };
}

behind_proxy! {
    async fn an_allowlisted_token_works_only_from_its_ranges(app) {
        app.setup_admin().await;
        let response = post_new_token(&app, &[("name", "office"), ("expires_in", "30"), ("role", "engineer"), ("allowed_ips", "127.0.0.1\n10.0.0.0/8, 2001:db8::/32")]).await;
        assert_eq!(location(&response), "/tokens/reveal");
        let token = reveal(&app).await;

        assert_eq!(me_from(&app, &token, None).await.0, StatusCode::OK, "from 127.0.0.1");
        assert_eq!(me_from(&app, &token, Some("10.20.30.40")).await.0, StatusCode::OK);
        assert_eq!(me_from(&app, &token, Some("2001:db8::7")).await.0, StatusCode::OK);
        let (status, body) = me_from(&app, &token, Some("203.0.113.9")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"], "ip_not_allowed");
        // A client cannot put its own address in front of the proxy's.
        assert_eq!(me_from(&app, &token, Some("10.0.0.1, 203.0.113.9")).await.0, StatusCode::FORBIDDEN);

        let audit = eventually(&app, "/audit?action=token_ip_refused", "<code>203.0.113.9</code>").await;
        assert!(audit.contains("office"));
        let list = tokens_html(&app, "").await;
        assert!(row(&list, "office").contains("IP-restricted: 127.0.0.1/32, 10.0.0.0/8, 2001:db8::/32"));

        let (status, _, body) = call(&app, reqwest::Method::POST, "/api/v1/tokens", Some(&token), Some(json!({"name": "from api", "expires_in_days": 7, "role": "read_only", "allowed_ips": ["192.0.2.0/24"]}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["allowed_ips"], json!(["192.0.2.0/24"]));
        let api_token = body["token"].as_str().unwrap().to_owned();
        assert_eq!(me_from(&app, &api_token, Some("192.0.2.200")).await.0, StatusCode::OK);
        assert_eq!(me_from(&app, &api_token, None).await.0, StatusCode::FORBIDDEN);
        let (status, _, body) = call(&app, reqwest::Method::POST, "/api/v1/tokens", Some(&token), Some(json!({"name": "bad", "expires_in_days": 7, "role": "read_only", "allowed_ips": ["example.com"]}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["field"], "allowed_ips");
    }

    async fn the_allowlist_field_refuses_junk_and_regenerate_can_change_it(app) {
        app.setup_admin().await;
        let response = post_new_token(&app, &[("name", "junk"), ("expires_in", "30"), ("role", "read_only"), ("allowed_ips", "10.0.0.0/33")]).await;
        assert_eq!(response.status(), 400);
        let page = response.text().await.unwrap();
        assert!(field_error(&page, "allowed_ips").is_some_and(|e| e.contains("10.0.0.0/33")));
        assert!(page.contains(">10.0.0.0/33</textarea>"), "what was typed is kept");

        create_token(&app, "open", "30", "read_only").await;
        let id = row_id(row(&tokens_html(&app, "").await, "open"));
        let bad = post_on(&app, &format!("/tokens/{id}/regenerate"), &[("allowed_ips", "nope")]).await;
        assert_eq!(bad.status(), 400);
        post_on(&app, &format!("/tokens/{id}/regenerate"), &[("allowed_ips", "198.51.100.0/24")]).await;
        let token = reveal(&app).await;
        assert_eq!(me_from(&app, &token, None).await.0, StatusCode::FORBIDDEN);
        assert_eq!(me_from(&app, &token, Some("198.51.100.4")).await.0, StatusCode::OK);
        // Regenerating without the field keeps the list.
        let id = row_id(rows_named(&tokens_html(&app, "?status=active").await, "open")[0]);
        post_on(&app, &format!("/tokens/{id}/regenerate"), &[]).await;
        let again = reveal(&app).await;
        assert_eq!(me_from(&app, &again, None).await.0, StatusCode::FORBIDDEN);
    }

    async fn a_new_address_alerts_the_issuer_once_and_a_known_one_never(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let token = create_token(&erin, "roaming", "30", "read_only").await;
        assert_eq!(me_from(&app, &token, None).await.0, StatusCode::OK, "the first use is no alert");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!erin.get_html("/notifications").await.contains("new address"));

        assert_eq!(me_from(&app, &token, Some("198.51.100.23")).await.0, StatusCode::OK);
        let page = eventually(&erin, "/notifications", "Token “roaming” was used from a new address, 198.51.100.23").await;
        assert_eq!(count(&page, "new address"), 1);
        for _ in 0..3 {
            me_from(&app, &token, Some("198.51.100.23")).await;
            me_from(&app, &token, None).await;
        }
        me_from(&app, &token, Some("203.0.113.50")).await;
        let page = eventually(&erin, "/notifications", "new address, 203.0.113.50").await;
        assert_eq!(count(&page, "new address"), 2, "one alert per new address");
        assert!(!app.get_html("/notifications").await.contains("roaming"), "the issuer's alert only");
    }
}
