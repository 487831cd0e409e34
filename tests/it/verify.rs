//! Verifying tokens for the account's own services (product.md §10): forward auth at
//! `/auth/verify` and RFC 7662 introspection at `/api/v1/introspect`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::token_helpers::*;

/// A forward-auth check as a proxy makes it: the caller's Authorization header, `query` as is.
async fn verify(app: &Browser, authorization: Option<&str>, query: &str) -> reqwest::Response {
    let mut request = app.client.get(app.url(&format!("/auth/verify{query}")));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.expect("GET /auth/verify")
}

async fn introspect(app: &Browser, caller: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/introspect"))
        .bearer_auth(caller)
        .form(form)
        .send()
        .await
        .expect("POST /api/v1/introspect");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn token_id(app: &Browser, token: &str) -> String {
    let (_, _, own) = call(app, Method::GET, "/api/v1/tokens/self", Some(token), None).await;
    own["id"].as_str().expect("the token's id").to_owned()
}

both_backends! {
    async fn forward_auth_answers_with_who_is_calling_or_why_not(app) {
        app.setup_admin().await;
        with_service(&app, "billing").await;
        let full = app.with_token("admin", "full", "engineer").await;
        let reader = app.with_scoped_token("admin", "billing-reader", "engineer", Some(&["billing:read"])).await;

        for query in ["", "?scope=", "?scope=not-a-scope"] {
            let response = verify(&app, None, query).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{query}: the token comes first");
            assert_eq!(header(&response, "www-authenticate"), "Bearer", "no token: a bare challenge");
        }
        let response = verify(&app, Some("Bearer ptk_nope"), "").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(header(&response, "www-authenticate"), r#"Bearer error="invalid_token""#);

        let response = verify(&app, Some(&format!("Bearer {full}")), "?scope=billing:write").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-auth-user"), "admin");
        assert_eq!(header(&response, "x-auth-account"), "Acme");
        assert_eq!(header(&response, "x-auth-role"), "engineer");
        assert_eq!(header(&response, "x-auth-scopes"), "full");
        assert_eq!(header(&response, "x-auth-token-id"), token_id(&app, &full).await);
        assert!(!header(&response, "x-auth-user-id").is_empty());
        assert_eq!(response.text().await.unwrap(), "", "an empty body");

        // Gcore's scheme works as well as Bearer.
        let response = verify(&app, Some(&format!("APIKey {reader}")), "?scope=billing:read").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-auth-scopes"), "billing:read");
        let response = verify(&app, Some(&format!("Bearer {reader}")), "?scope=billing:read&scope=billing:write").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            header(&response, "www-authenticate"),
            r#"Bearer error="insufficient_scope", scope="billing:write""#
        );
        let response = verify(&app, Some(&format!("Bearer {reader}")), "?scope=tokens:read").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);

        // Bad input is a 4xx, never a 5xx.
        let many = "?".to_owned() + &vec!["scope=billing:read"; 100].join("&");
        for (authorization, query) in [
            (format!("Bearer {reader}"), "?scope=billing".to_owned()),
            (format!("Bearer {reader}"), "?scope=%00:read".to_owned()),
            (format!("Bearer {reader}"), many),
            (format!("Basic {reader}"), String::new()),
            (format!("Bearer {}", "x".repeat(8000)), String::new()),
            ("Bearer ptk_\u{e9}\u{e9}".to_owned(), String::new()),
        ] {
            let response = verify(&app, Some(&authorization), &query).await;
            assert!(response.status().is_client_error(), "{query}: {}", response.status());
        }
    }

    async fn services_are_told_the_scopes_in_force_after_a_demotion(app) {
        app.setup_admin().await;
        with_service(&app, "billing").await;
        app.with_user("Acme", "erin", "Erin Engineer", "engineer").await;
        let writer = app.with_scoped_token("erin", "billing-writer", "engineer", Some(&["billing:write", "tokens:read"])).await;
        let checker = app.with_scoped_token("admin", "checker", "engineer", Some(&["introspect:read"])).await;
        let erin_id = crate::admin::user_id(&app, "erin").await;
        let response = post_on(&app, &format!("/users/{erin_id}/role"), &[("role", "read_only")]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);

        let response = verify(&app, Some(&format!("Bearer {writer}")), "?scope=billing:read").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-auth-scopes"), "billing:read tokens:read", "capped by the role");
        assert_eq!(header(&response, "x-auth-role"), "read_only");
        let response = verify(&app, Some(&format!("Bearer {writer}")), "?scope=billing:write").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let (_, answer) = introspect(&app, &checker, &[("token", &writer)]).await;
        assert_eq!(answer["scope"], "billing:read tokens:read");
        assert_eq!(answer["role"], "read_only");
    }

    async fn a_verified_call_is_a_use_of_the_token(app) {
        app.setup_admin().await;
        let token = app.with_token("admin", "proxied", "engineer").await;
        for _ in 0..3 {
            let response = verify(&app, Some(&format!("Bearer {token}")), "").await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        let id = token_id(&app, &token).await;
        // Counts reach the database every 50 ms in tests.
        let started = std::time::Instant::now();
        loop {
            let page = app.get_html(&format!("/tokens/{id}")).await;
            // The three checks, and the call that read the token's id.
            if page.contains("4 requests in the last 90 days") {
                assert!(page.contains("<code>127.0.0.1</code>"), "the address is noted");
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "the checks were never counted");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    async fn suspended_deleted_expired_and_ip_refused_tokens_are_refused_by_forward_auth(app) {
        app.setup_admin().await;
        let token = app.with_token("admin", "soon-suspended", "engineer").await;
        let id = token_id(&app, &token).await;
        let response = post_on(&app, &format!("/tokens/{id}/suspend"), &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(verify(&app, Some(&format!("Bearer {token}")), "").await.status(), StatusCode::UNAUTHORIZED);
        let response = post_on(&app, &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let response = verify(&app, Some(&format!("Bearer {token}")), "").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(header(&response, "www-authenticate"), r#"Bearer error="invalid_token""#);

        // From an address outside its allowlist: 403, and the API says the same.
        let admin = app.with_token("admin", "admin-full", "admin").await;
        let body = json!({"name": "office only", "role": "engineer", "expires_in_days": 7,
                          "allowed_ips": ["10.0.0.0/8"]});
        let (status, _, made) = call(&app, Method::POST, "/api/v1/tokens", Some(&admin), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
        let office = made["token"].as_str().unwrap().to_owned();
        let response = verify(&app, Some(&format!("Bearer {office}")), "").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "ip_not_allowed");

        // The APIKey scheme works on the API too.
        let response = app.client.get(app.url("/api/v1/me")).header("Authorization", format!("APIKey {admin}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);

        // Past its expiry.
        app.clock.advance(chrono::TimeDelta::days(31));
        let response = verify(&app, Some(&format!("Bearer {admin}")), "").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.json::<Value>().await.unwrap()["message"], "The token has expired.");
    }

    async fn introspection_tells_an_account_about_its_own_tokens_only(app) {
        app.setup_admin().await;
        with_service(&app, "billing").await;
        let checker = app.with_scoped_token("admin", "checker", "engineer", Some(&["introspect:read"])).await;
        let reader = app.with_scoped_token("admin", "billing-reader", "read_only", Some(&["billing:read"])).await;

        let (status, active) = introspect(&app, &checker, &[("token", &reader), ("token_type_hint", "access_token")]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(active["active"], true);
        assert_eq!(active["scope"], "billing:read");
        assert_eq!(active["username"], "admin");
        assert_eq!(active["client_id"], token_id(&app, &reader).await);
        assert_eq!(active["token_type"], "bearer");
        assert_eq!(active["account"], "Acme");
        assert_eq!(active["role"], "read_only");
        assert!(active["exp"].as_i64().unwrap() > active["iat"].as_i64().unwrap());
        // No PUBLIC_URL here, so no issuer: never one the caller's headers could choose.
        assert!(active.get("iss").is_none(), "{active}");
        assert_eq!(active["sub"].as_str().map(str::len), Some(36), "the user's id: {active}");
        let (_, full) = introspect(&app, &checker, &[("token", &checker)]).await;
        assert_eq!(full["scope"], "introspect:read");

        // Every inactive case is exactly {"active": false}.
        app.with_user("Other", "olga", "Olga Other", "admin").await;
        let foreign = app.with_token("olga", "foreign", "admin").await;
        let deleted = app.with_token("admin", "gone", "engineer").await;
        let id = token_id(&app, &deleted).await;
        post_on(&app, &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        let unknown = personal_tokens::domain::secret::PlainToken::generate();
        for form in [
            vec![("token", foreign.as_str())],
            vec![("token", deleted.as_str())],
            vec![("token", unknown.expose())],
            vec![("token", "ptk_malformed")],
            vec![("token", "")],
            vec![],
        ] {
            let (status, answer) = introspect(&app, &checker, &form).await;
            assert_eq!((status, answer), (StatusCode::OK, json!({"active": false})), "{form:?}");
        }

        // The caller needs introspect:read, and a form.
        let (status, _) = introspect(&app, &reader, &[("token", &checker)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body, _) = {
            let (status, _, body) = call(&app, Method::POST, "/api/v1/introspect", Some(&checker), Some(json!({"token": reader}))).await;
            (status, body, ())
        };
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
}
