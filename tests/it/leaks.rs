//! Leak response: IP allowlists (through a trusted proxy's X-Forwarded-For), new-address alerts,
//! "whose token is this?", and secret-scanning reports.

use std::time::{Duration, Instant};

use personal_tokens::config::Settings;
use reqwest::StatusCode;
use serde_json::{Value, json};

use personal_tokens::auth::scanning;
use personal_tokens::domain::secret::PlainToken;

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

/// The secret scalars of the test keys: the first is configured, the second is a stranger's.
const KEY: [u8; 32] = [7; 32];
const OTHER_KEY: [u8; 32] = [9; 32];
const KEY_ID: &str = "test-key-1";

/// The app with a secret-scanning keys file holding `KEY`; the folder lives as long as the app.
async fn with_scanning_keys(backend: Backend) -> Option<(TestApp, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    std::fs::write(&path, scanning::test_support::keys_json(KEY_ID, KEY)).unwrap();
    let app = spawn_app_with(backend, |settings: &mut Settings| {
        settings.secret_scanning_keys = Some(path);
    })
    .await?;
    Some((app, dir))
}

/// Posts `body` to the secret-scanning endpoint with the given key id and signature.
async fn send_report(
    app: &TestApp,
    body: &[u8],
    key_id: Option<&str>,
    signature: Option<String>,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url("/api/v1/secret-scanning"))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(key_id) = key_id {
        request = request.header("Github-Public-Key-Identifier", key_id);
    }
    if let Some(signature) = signature {
        request = request.header("Github-Public-Key-Signature", signature);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn signed_report(app: &TestApp, body: &[u8]) -> (u16, Value) {
    send_report(
        app,
        body,
        Some(KEY_ID),
        Some(scanning::test_support::sign(KEY, body)),
    )
    .await
}

both_backends! { start = behind_a_proxy;
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

both_backends! { start = with_scanning_keys;
    async fn a_signed_report_revokes_the_live_tokens_in_it_and_only_those((app, _keys)) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let erin_live = create_token(&erin, "erin-ci", "30", "read_only").await;
        let erin_kept = create_token(&erin, "erin-other", "30", "read_only").await;
        let admin_live = create_token(&app, "admin-ci", "30", "read_only").await;
        let gone = create_token(&app, "gone", "30", "read_only").await;
        let id = row_id(row(&tokens_html(&app, "?q=gone").await, "gone"));
        post_on(&app, &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        let stranger = PlainToken::generate().expose().to_owned();
        let body = json!([
            {"token": erin_live, "type": "personal_tokens", "url": "https://github.com/acme/app/blob/main/.env", "source": "content"},
            {"token": admin_live, "type": "personal_tokens", "url": "https://gist.github.com/x", "source": "gist"},
            {"token": gone, "type": "personal_tokens", "url": "https://github.com/acme/old", "source": "commit"},
            {"token": stranger, "type": "personal_tokens", "url": "https://github.com/else", "source": "content"},
            {"token": "ghp_not_ours_at_all", "type": "personal_tokens", "url": "", "source": "content"}
        ]).to_string();

        let (status, feedback) = signed_report(&app, body.as_bytes()).await;
        assert_eq!(status, 200, "{feedback}");
        let labels: Vec<&str> = feedback.as_array().unwrap().iter().map(|f| f["label"].as_str().unwrap()).collect();
        assert_eq!(labels, ["true_positive", "true_positive", "true_positive", "false_positive", "false_positive"]);
        assert_eq!(feedback[0]["token_raw"], erin_live.as_str());
        assert_eq!(feedback[0]["token_type"], "personal_tokens");
        assert_eq!(feedback[0].as_object().unwrap().len(), 3, "GitHub's shape and nothing else");

        let (status, answer) = me(&app, &erin_live).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked at once");
        assert_eq!(answer["message"], "The token was deleted.");
        assert_eq!(me(&app, &admin_live).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(me(&app, &erin_kept).await.0, StatusCode::OK, "only the reported ones");

        let notices = erin.get_html("/notifications").await;
        assert!(notices.contains("Token “erin-ci” was reported leaked and has been revoked"), "{notices}");
        let admin_notices = app.get_html("/notifications").await;
        assert!(admin_notices.contains("“erin-ci” was reported leaked") && admin_notices.contains("“admin-ci” was reported leaked"));
        assert!(!admin_notices.contains("“gone”"), "an already deleted token is not news");
        let audit = app.get_html("/audit?action=token_reported_leaked").await;
        assert!(audit.contains("erin-ci, reported leaked at https://github.com/acme/app/blob/main/.env"), "{audit}");
        let id = row_id(rows_named(&tokens_html(&app, "?q=erin-ci").await, "erin-ci")[0]);
        let page = app.get_html(&format!("/tokens/{id}/delete")).await;
        assert!(page.contains("reported leaked at https://github.com/acme/app/blob/main/.env"), "the row says why");

        // Reporting it again changes nothing and makes no second notice.
        let (status, _) = signed_report(&app, body.as_bytes()).await;
        assert_eq!(status, 200);
        assert_eq!(erin.get_html("/notifications").await.matches("reported leaked").count(), 1);
    }

    async fn bad_reports_change_nothing((app, _keys)) {
        app.setup_admin().await;
        let token = create_token(&app, "precious", "30", "read_only").await;
        let body = json!([{"token": token, "type": "t", "url": "u", "source": "s"}]).to_string();
        let other_body = json!([]).to_string();
        // (what, expected status, body, key id header, signature header)
        type Case<'a> = (&'a str, u16, Vec<u8>, Option<&'a str>, Option<String>);
        let cases: Vec<Case> = vec![
            ("no headers", 401, body.clone().into_bytes(), None, None),
            ("no signature", 401, body.clone().into_bytes(), Some(KEY_ID), None),
            ("unknown key id", 401, body.clone().into_bytes(), Some("other-key"), Some(scanning::test_support::sign(KEY, body.as_bytes()))),
            ("another key's signature", 401, body.clone().into_bytes(), Some(KEY_ID), Some(scanning::test_support::sign(OTHER_KEY, body.as_bytes()))),
            ("a signature of another body", 401, body.clone().into_bytes(), Some(KEY_ID), Some(scanning::test_support::sign(KEY, other_body.as_bytes()))),
            ("junk signature", 401, body.clone().into_bytes(), Some(KEY_ID), Some("!!not base64!!".into())),
        ];
        for (what, expected, body, key_id, signature) in cases {
            let (status, answer) = send_report(&app, &body, key_id, signature).await;
            assert_eq!(status, expected, "{what}: {answer}");
            assert_eq!(answer["error"], "invalid_signature", "{what}");
        }
        for (what, expected, body) in [
            ("junk JSON", 400, b"[{\"token\": ".to_vec()),
            ("not an array", 400, br#"{"token": "x"}"#.to_vec()),
            ("1,001 entries", 413, json!(vec![json!({"token": "x"}); 1001]).to_string().into_bytes()),
            ("over 1 MiB", 413, format!("[{{\"token\": \"{}\"}}]", "x".repeat(1024 * 1024)).into_bytes()),
        ] {
            let (status, answer) = signed_report(&app, &body).await;
            assert_eq!(status, expected, "{what}: {answer}");
            assert!(answer["error"].is_string(), "{what}: a JSON error");
        }
        assert_eq!(me(&app, &token).await.0, StatusCode::OK, "still live after all that");
        assert!(app.get_html("/audit?action=token_reported_leaked").await.contains("No events"));
    }

    async fn reports_are_rate_limited_per_address((app, _keys)) {
        let mut statuses = Vec::new();
        for _ in 0..61 {
            statuses.push(signed_report(&app, b"[]").await.0);
        }
        assert!(statuses[..60].iter().all(|s| *s == 200), "{statuses:?}");
        assert_eq!(statuses[60], 429);
    }
}

both_backends! {
    async fn without_keys_the_endpoint_does_not_exist(app) {
        let body = b"[]";
        let (status, answer) = send_report(&app, body, Some(KEY_ID), Some(scanning::test_support::sign(KEY, body))).await;
        assert_eq!(status, 404, "{answer}");
    }

    async fn whose_token_is_this_names_the_token_and_nothing_across_accounts(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let erins = create_token(&erin, "erin-laptop", "30", "engineer").await;
        let gus = add_user_and_sign_in(&app, "Globex", "gus", "Gus Admin", "admin").await;
        let globex = create_token(&gus, "globex-ci", "30", "read_only").await;

        let found = app.post_form("/tokens/lookup", "/tokens/lookup", &[("token", &erins)]).await;
        assert_eq!(found.status(), 200);
        assert_eq!(header(&found, "cache-control"), "no-store");
        let found = found.text().await.unwrap();
        assert!(found.contains("This is “erin-laptop”"), "{found}");
        assert!(found.contains("Erin Engineer") && found.contains(&masked(&erins)));
        assert!(!found.contains(&erins) && !found.contains(&erins[4..]), "the pasted token is not echoed");

        for other in [globex.as_str(), "ptk_nonsense", "", "\0"] {
            let page = app.post_form("/tokens/lookup", "/tokens/lookup", &[("token", other)]).await.text().await.unwrap();
            assert!(page.contains("Not a token of this account"), "{other:?}");
        }
        assert_eq!(erin.get("/tokens/lookup").await.status(), 404, "administrators only");
        assert_eq!(post_on(&erin, "/tokens/lookup", &[("token", &erins)]).await.status(), 404);

        // The revoke button is a delete with the word already typed.
        let id = row_id(row(&tokens_html(&app, "?q=erin-laptop").await, "erin-laptop"));
        let response = post_on(&app, &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(location(&response), "/tokens");
        assert!(found.contains(&format!("action=\"/tokens/{id}/delete\"")));
        assert_eq!(me(&app, &erins).await.0, StatusCode::UNAUTHORIZED);
    }
}
