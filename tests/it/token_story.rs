//! A token's story: its page (activity, addresses, audit trail), rotation with overlap, and
//! suspend and resume. Time moves through the app's clock, never by sleeping through it.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::token_helpers::*;

/// The token page's accessible summary of its activity.
fn summary(page: &str) -> String {
    let marker = "<p id=\"activity-summary\">";
    let start = page.find(marker).expect("a summary") + marker.len();
    page[start..start + page[start..].find("</p>").unwrap()].to_owned()
}

/// Waits for the counts in memory to reach the database (every 50 ms in tests).
async fn page_when(browser: &Browser, path: &str, text: &str) -> String {
    let started = Instant::now();
    loop {
        let page = browser.get_html(path).await;
        if page.contains(text) {
            return page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{path} never said {text:?}: {}",
            summary(&page)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn token_id_of(browser: &Browser, name: &str) -> String {
    row_id(
        rows_named(
            &tokens_html(browser, &format!("?q={}", name.replace(' ', "+"))).await,
            name,
        )[0],
    )
}

both_backends! {
    async fn the_token_page_counts_requests_and_shows_addresses_and_its_trail(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let token = create_token(&erin, "busy bot", "30", "read_only").await;
        let id = token_id_of(&erin, "busy bot").await;
        let page = erin.get_html(&format!("/tokens/{id}")).await;
        assert!(page.contains("No requests in the last 90 days."), "{}", summary(&page));
        assert!(tokens_html(&erin, "").await.contains(&format!("href=\"/tokens/{id}\"")), "the name links to it");

        // 40 requests at once, from two user agents.
        let calls = (0..40).map(|n| {
            let agent = if n % 2 == 0 { "deploy-bot/1.0" } else { "curl/8.5" };
            app.client.get(app.url("/api/v1/me")).bearer_auth(&token).header("User-Agent", agent).send()
        });
        for response in futures_util::future::join_all(calls).await {
            assert_eq!(response.unwrap().status(), StatusCode::OK);
        }
        let today = chrono::Utc::now().date_naive().to_string();
        let page = page_when(&erin, &format!("/tokens/{id}"), "40 requests in the last 90 days").await;
        assert_eq!(summary(&page), format!("40 requests in the last 90 days (40 in the last 30), last on {today}."));
        assert!(page.contains(&format!("<title>{today}: 40 requests</title>")), "the day's bar");
        assert!(page.contains("<code>127.0.0.1</code>"), "the address");
        assert!(page.contains("deploy-bot/1.0") || page.contains("curl/8.5"), "with its user agent");
        assert!(page.contains("Token created"), "the audit trail");

        // More requests add to the stored count rather than replacing it.
        for _ in 0..5 {
            me(&app, &token).await;
        }
        page_when(&erin, &format!("/tokens/{id}"), "45 requests in the last 90 days").await;

        // Another user's or another account's token is 404.
        let rita = add_user_and_sign_in(&app, "Acme", "rita", "Rita Reader", "read_only").await;
        assert_eq!(rita.get(&format!("/tokens/{id}")).await.status(), 404);
        let gus = add_user_and_sign_in(&app, "Globex", "gus", "Gus Admin", "admin").await;
        assert_eq!(gus.get(&format!("/tokens/{id}")).await.status(), 404);
        assert_eq!(app.get(&format!("/tokens/{id}")).await.status(), 200, "the account's admin sees it");
        assert_eq!(erin.get("/tokens/00000000-0000-4000-8000-000000000000").await.status(), 404);
    }

    async fn rotation_with_overlap_keeps_the_old_secret_until_the_overlap_ends(app) {
        app.setup_admin().await;
        let old = app.with_token("admin", "deploy", "engineer").await;
        let old_id = token_id_of(&app, "deploy").await;
        let bad = post_on(&app, &format!("/tokens/{old_id}/regenerate"), &[("overlap", "2")]).await;
        assert_eq!(bad.status(), 400);
        assert!(field_error(&bad.text().await.unwrap(), "overlap").is_some());

        post_on(&app, &format!("/tokens/{old_id}/regenerate"), &[("overlap", "24")]).await;
        let new = reveal(&app).await;
        assert_eq!(me(&app, &old).await.0, StatusCode::OK, "the old secret still works");
        assert_eq!(me(&app, &new).await.0, StatusCode::OK);
        let list = tokens_html(&app, "").await;
        let rows = rows_named(&list, "deploy");
        assert_eq!(rows.len(), 2);
        assert!(rows[1].contains("rotating, old secret ends at"), "{}", rows[1]);
        let old_page = page_when(&app, &format!("/tokens/{old_id}"), "1 request in the last 90 days").await;
        assert!(old_page.contains("this secret keeps working until"), "its use during the overlap shows");

        app.clock.advance(TimeDelta::hours(23));
        assert_eq!(me(&app, &old).await.0, StatusCode::OK, "23 hours later");
        app.clock.advance(TimeDelta::hours(2));
        let (status, body) = me(&app, &old).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "25 hours later it died by itself");
        assert_eq!(body["message"], "The token was deleted.");
        assert_eq!(me(&app, &new).await.0, StatusCode::OK);

        // Through the API, and deleting the new token ends both secrets at once.
        let (status, _, body) = call(&app, Method::POST, &format!("/api/v1/tokens/{}/regenerate", token_id_of(&app, "deploy").await), Some(&new), Some(json!({"overlap_hours": 168}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let newest = body["token"].as_str().unwrap().to_owned();
        assert_eq!(me(&app, &new).await.0, StatusCode::OK, "in its overlap");
        let (status, _, body) = call(&app, Method::POST, &format!("/api/v1/tokens/{}/regenerate", body["id"].as_str().unwrap()), Some(&newest), Some(json!({"overlap_hours": 5}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["field"], "overlap_hours");
        let newest_id = token_id_of(&app, "deploy").await;
        let response = post_on(&app, &format!("/tokens/{newest_id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(location(&response), "/tokens");
        assert_eq!(me(&app, &newest).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(me(&app, &new).await.0, StatusCode::UNAUTHORIZED, "the old secret ended with it");
    }

    async fn suspend_refuses_at_once_and_resume_restores(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let token = create_token(&erin, "nightly", "30", "engineer").await;
        let id = token_id_of(&erin, "nightly").await;

        let response = post_on(&erin, &format!("/tokens/{id}/suspend"), &[]).await;
        assert_eq!(location(&response), format!("/tokens/{id}"));
        let (status, body) = me(&app, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the next request");
        assert_eq!(body["message"], "The token is suspended.");
        let suspended = tokens_html(&erin, "?status=suspended").await;
        assert_eq!(row_names(&suspended), ["nightly"], "the status filter finds it");
        assert_eq!(row_status(row(&suspended, "nightly")), "Suspended");
        assert!(row_names(&tokens_html(&erin, "?status=active").await).is_empty());
        assert!(erin.get_html(&format!("/tokens/{id}")).await.contains("Resume token"));

        post_on(&erin, &format!("/tokens/{id}/resume"), &[]).await;
        assert_eq!(me(&app, &token).await.0, StatusCode::OK, "resumed");

        // The API: an admin's token suspends Erin's; a read-only token may not.
        let admin_token = app.with_token("admin", "admin-ops", "admin").await;
        let reader = app.with_token("admin", "reader", "read_only").await;
        let path = format!("/api/v1/tokens/{id}/suspend");
        assert_eq!(call(&app, Method::POST, &path, Some(&reader), None).await.0, StatusCode::FORBIDDEN);
        let (status, _, body) = call(&app, Method::POST, &path, Some(&admin_token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "suspended");
        assert_eq!(me(&app, &token).await.0, StatusCode::UNAUTHORIZED);
        let (status, _, body) = call(&app, Method::POST, &format!("/api/v1/tokens/{id}/resume"), Some(&admin_token), None).await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("active")));
        let listed = call(&app, Method::GET, "/api/v1/tokens?status=suspended", Some(&admin_token), None).await.2;
        assert_eq!(listed["tokens"].as_array().unwrap().len(), 0);

        // The expiry clock keeps running while suspended.
        post_on(&erin, &format!("/tokens/{id}/suspend"), &[]).await;
        app.clock.advance(TimeDelta::days(31));
        assert_eq!(me(&app, &token).await.1["message"], "The token has expired.");
        // A month on, the administrator's session has ended too (its lifetime is 30 days).
        app.login("admin", ADMIN_PASSWORD).await;
        let audit = app.get_html("/audit?action=token_suspended").await;
        assert!(audit.contains("nightly"));
        assert!(app.get_html("/audit?action=token_resumed").await.contains("nightly"));
    }

    async fn a_lower_role_token_cannot_regenerate_or_revive_a_higher_one_and_chains_end_together(app) {
        app.setup_admin().await;
        let admin_token = app.with_token("admin", "admin-power", "admin").await;
        let ci = app.with_token("admin", "ci-engineer", "engineer").await;
        let id = token_id_of(&app, "admin-power").await;
        let (status, _, body) = call(&app, Method::POST, &format!("/api/v1/tokens/{id}/regenerate"), Some(&ci), Some(json!({"overlap_hours": 0}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"], "insufficient_scope");
        assert_eq!(call(&app, Method::POST, &format!("/api/v1/tokens/{id}/suspend"), Some(&ci), None).await.0, StatusCode::FORBIDDEN);
        assert_eq!(me(&app, &admin_token).await.0, StatusCode::OK, "untouched");

        // A rotation during a rotation: deleting the newest ends every older secret still working.
        let a = app.with_token("admin", "chain", "read_only").await;
        post_on(&app, &format!("/tokens/{}/regenerate", token_id_of(&app, "chain").await), &[("overlap", "168")]).await;
        let b = reveal(&app).await;
        post_on(&app, &format!("/tokens/{}/regenerate", token_id_of(&app, "chain").await), &[("overlap", "24")]).await;
        let c = reveal(&app).await;
        for secret in [&a, &b, &c] {
            assert_eq!(me(&app, secret).await.0, StatusCode::OK);
        }
        let newest = token_id_of(&app, "chain").await;
        post_on(&app, &format!("/tokens/{newest}/suspend"), &[]).await;
        for secret in [&a, &b, &c] {
            assert_eq!(me(&app, secret).await.1["message"], "The token is suspended.", "suspended together");
        }
        post_on(&app, &format!("/tokens/{newest}/resume"), &[]).await;
        assert_eq!(me(&app, &a).await.0, StatusCode::OK);
        post_on(&app, &format!("/tokens/{newest}/delete"), &[("confirm", "delete")]).await;
        for secret in [&a, &b, &c] {
            assert_eq!(me(&app, secret).await.0, StatusCode::UNAUTHORIZED, "all end at once");
        }
    }
}
