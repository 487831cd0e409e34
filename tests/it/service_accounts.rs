//! Service accounts (product.md §11): users of kind `service`, with no password and no e-mail,
//! that never sign in; administrators make and manage their tokens from their page, and SCIM
//! never touches them, so automation survives everyone's departure.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::token_helpers::*;

/// Adds the service account `deploy-bot` as the signed-in administrator; returns its page path.
async fn add_service_account(app: &TestApp) -> String {
    let response = app
        .post_form(
            "/users/new",
            "/users/new",
            &[
                ("kind", "service"),
                ("username", "deploy-bot"),
                ("display_name", "Deploy bot"),
                ("email", ""),
                ("role", "engineer"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap_or_default()
    );
    location(&response)
}

/// Makes a token for the service account on `page` through its form, and reveals it.
async fn service_token(app: &TestApp, page: &str, name: &str) -> String {
    service_token_with(app, page, name, &[]).await
}

/// `service_token`, with the form's access fields (`access`, `scopes`) added.
async fn service_token_with(
    app: &TestApp,
    page: &str,
    name: &str,
    access: &[(&str, &str)],
) -> String {
    let id = page.trim_start_matches("/users/");
    let mut fields = vec![
        ("for", id),
        ("name", name),
        ("description", ""),
        ("expires_in", "30"),
        ("expires_at", ""),
        ("role", "engineer"),
    ];
    fields.extend_from_slice(access);
    let response = app
        .post_form(&format!("/tokens/new?for={id}"), "/tokens/new", &fields)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(location(&response), "/tokens/reveal");
    reveal(app).await
}

both_backends! {
    async fn an_administrator_adds_a_service_account_and_makes_its_tokens(app) {
        app.setup_admin().await;
        let page = add_service_account(&app).await;
        let users = app.get_html("/users").await;
        assert!(users.contains("Deploy bot") && users.contains("Service account"), "{users}");
        let detail = app.get_html(&page).await;
        assert!(detail.contains("Add a token") && detail.contains("Never: its tokens are made"), "{detail}");

        let token = service_token(&app, &page, "ci deploy").await;
        let (status, body) = me(&app, &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["username"], "deploy-bot", "{body}");
        let detail = app.get_html(&page).await;
        assert!(detail.contains("ci deploy"), "listed on its page");
        let audit = app.get_html("/audit").await;
        assert!(audit.contains("Ada Admin"), "the administrator made it: {audit}");
    }

    async fn a_service_account_never_signs_in_and_takes_no_password_or_email(app) {
        app.setup_admin().await;
        for (field, value, words) in [
            ("password", "a long enough password", "has no password"),
            ("email", "bot@example.com", "has no e-mail"),
        ] {
            let mut fields = vec![("kind", "service"), ("username", "bot"), ("display_name", ""), ("role", "engineer"), ("email", ""), ("password", "")];
            fields.retain(|(name, _)| *name != field);
            fields.push((field, value));
            let response = app.post_form("/users/new", "/users/new", &fields).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            assert!(response.text().await.unwrap().contains(words), "{field}");
        }
        add_service_account(&app).await;
        let stranger = app.new_browser();
        for password in ["!", "anything at all here"] {
            let response = stranger.login("deploy-bot", password).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "as any wrong password");
            assert!(response.text().await.unwrap().contains("Invalid username or password."));
        }
    }

    async fn only_administrators_make_a_service_accounts_tokens(app) {
        app.setup_admin().await;
        let page = add_service_account(&app).await;
        let id = page.trim_start_matches("/users/").to_owned();
        let erin = engineer(&app).await;
        assert_eq!(erin.get(&format!("/tokens/new?for={id}")).await.status(), StatusCode::NOT_FOUND);
        let response = erin.post_form("/tokens/new", "/tokens/new", &[
            ("for", id.as_str()), ("name", "sneaky"), ("expires_in", "30"), ("role", "read_only"),
        ]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        // A person is not a service account: the administrator cannot make tokens in their name.
        app.with_user("Acme", "pat", "Pat Person", "engineer").await;
        let users = app.get_html("/users").await;
        let row = &users[..users.find("Pat Person").unwrap()];
        let start = row.rfind("data-user-id=\"").unwrap() + "data-user-id=\"".len();
        let pat = &row[start..start + row[start..].find('"').unwrap()];
        assert_eq!(app.get(&format!("/tokens/new?for={pat}")).await.status(), StatusCode::NOT_FOUND);
    }

    async fn a_service_account_keeps_its_tokens_when_the_people_leave_and_scim_never_sees_it(app) {
        app.setup_admin().await;
        let page = add_service_account(&app).await;
        let bots = service_token(&app, &page, "nightly").await;
        let provider = app.with_scoped_token("admin", "okta", "admin", Some(&["users:write"])).await;
        for name in ["ann", "bob"] {
            let (status, _, _) = call(&app, Method::POST, "/scim/v2/Users", Some(&provider), Some(json!({"userName": name}))).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let (_, _, people) = call(&app, Method::GET, "/scim/v2/Users", Some(&provider), None).await;
        let names: Vec<&str> = people["Resources"].as_array().unwrap().iter().map(|p| p["userName"].as_str().unwrap()).collect();
        assert!(!names.contains(&"deploy-bot"), "SCIM lists people only: {names:?}");
        for person in people["Resources"].as_array().unwrap() {
            if person["userName"] != "admin" {
                let path = format!("/scim/v2/Users/{}", person["id"].as_str().unwrap());
                assert_eq!(call(&app, Method::DELETE, &path, Some(&provider), None).await.0, StatusCode::NO_CONTENT);
            }
        }
        let service_id = page.trim_start_matches("/users/");
        let (status, _, _) = call(&app, Method::DELETE, &format!("/scim/v2/Users/{service_id}"), Some(&provider), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "SCIM cannot reach a service account");
        assert_eq!(me(&app, &bots).await.0, StatusCode::OK, "automation survives");
    }
}

both_backends! {
    async fn a_service_accounts_own_token_cannot_make_or_change_tokens(app) {
        app.setup_admin().await;
        let page = add_service_account(&app).await;
        let bots = service_token(&app, &page, "writer").await;
        let (status, _, refused) = call(&app, Method::POST, "/api/v1/tokens", Some(&bots), Some(json!({
            "name": "self-made", "expires_in_days": 30, "role": "read_only"
        }))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        assert!(refused["message"].as_str().unwrap().contains("made and changed by administrators"), "{refused}");
        let (status, _, listed) = call(&app, Method::GET, "/api/v1/tokens", Some(&bots), None).await;
        assert_eq!(status, StatusCode::OK, "reading is fine: {listed}");
        let id = page.trim_start_matches("/users/");
        let deactivated = app.post_form(&page, &format!("/users/{id}/deactivate"), &[]).await;
        assert_eq!(deactivated.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.get(&format!("/tokens/new?for={id}")).await.status(), StatusCode::NOT_FOUND, "a deactivated one gets none");
    }

    async fn services_that_verify_through_us_are_told_a_service_account_reads_tokens_at_most(app) {
        app.setup_admin().await;
        let page = add_service_account(&app).await;
        let scoped = service_token_with(&app, &page, "scoped", &[("access", "scoped"), ("scopes", "tokens:write")]).await;
        let verified = app.client.get(app.url("/auth/verify")).bearer_auth(&scoped).send().await.unwrap();
        assert_eq!(verified.status(), StatusCode::OK);
        assert_eq!(header(&verified, "x-auth-scopes"), "tokens:read", "what the API lets it do");
        let asked = app.client.get(app.url("/auth/verify?scope=tokens:write")).bearer_auth(&scoped).send().await.unwrap();
        assert_eq!(asked.status(), StatusCode::FORBIDDEN);
    }
}
