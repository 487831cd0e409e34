//! SCIM 2.0 at /scim/v2 (product.md §11), on both backends: the conformance suite scim2-tester
//! against the running server, then what a provider's joins, changes and departures do to the
//! people and their tokens, and the bad-input list.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::token_helpers::*;

/// An administrator's token that holds users:write, as an identity provider is given.
async fn provisioning_token(app: &TestApp) -> String {
    app.with_scoped_token("admin", "okta", "admin", Some(&["users:write"]))
        .await
}

async fn scim(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, _, body) = call(app, method, &format!("/scim/v2{path}"), token, body).await;
    (status, body)
}

both_backends! {
    async fn the_scim2_tester_conformance_suite_passes(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/scim-conformance");
        let installed = std::process::Command::new("python3")
            .args(["-c", "import scim2_tester, httpx2"])
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(std::env::var("CI").is_err(), "CI must have scim2-tester (pip install 'scim2-tester[httpx2]')");
            eprintln!("SKIPPED: scim2-tester is not installed");
            return;
        }
        let base = app.url("/scim/v2");
        // The server answers on this runtime's threads; the suite waits on its own.
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3")
                .arg(script)
                .arg(base)
                .env("SCIM_TOKEN", token)
                .output()
        })
        .await
        .unwrap()
        .expect("run scripts/scim-conformance");
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "scim2-tester: {}\n{printed}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(printed.contains(" 0 not"), "{printed}");
    }
}

/// The id SCIM gives the person named `user_name`, found as a provider finds people.
async fn id_of(app: &TestApp, token: &str, user_name: &str) -> String {
    let filter = format!("?filter=userName%20eq%20%22{user_name}%22");
    let (status, list) = scim(
        app,
        Method::GET,
        &format!("/Users{filter}"),
        Some(token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["totalResults"], 1, "{list}");
    list["Resources"][0]["id"].as_str().unwrap().to_owned()
}

fn deactivate() -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "replace", "value": {"active": false}}]})
}

both_backends! {
    async fn a_provider_adds_finds_changes_and_removes_a_person_seen_on_the_users_page(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        let (status, made) = scim(&app, Method::POST, "/Users", Some(&token), Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "Grace@Example.com",
            "name": {"givenName": "Grace", "familyName": "Hopper"},
            "emails": [{"value": "grace@example.com", "type": "work", "primary": true}],
            "externalId": "00u-grace",
        }))).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(made["userName"], "grace@example.com");
        assert_eq!(made["meta"]["resourceType"], "User");
        let id = made["id"].as_str().unwrap().to_owned();
        let users = app.get_html("/users").await;
        assert!(users.contains("grace@example.com") && users.contains("Grace Hopper"), "{users}");
        assert!(users.contains(">SCIM</span>"), "marked as provisioned: {users}");

        assert_eq!(id_of(&app, &token, "GRACE@example.com").await, id, "userName is not case-exact");
        let (_, by_external) = scim(&app, Method::GET, "/Users?filter=externalId%20eq%20%2200u-grace%22", Some(&token), None).await;
        assert_eq!(by_external["Resources"][0]["id"], id.as_str());

        let (status, replaced) = scim(&app, Method::PUT, &format!("/Users/{id}"), Some(&token), Some(json!({
            "userName": "grace@example.com", "displayName": "Rear Admiral Hopper", "active": true,
        }))).await;
        assert_eq!(status, StatusCode::OK, "{replaced}");
        assert!(replaced.get("name").is_none(), "a replace drops what it does not send");
        assert!(app.get_html("/users").await.contains("Rear Admiral Hopper"));

        let (status, patched) = scim(&app, Method::PATCH, &format!("/Users/{id}"), Some(&token), Some(json!({
            "Operations": [{"op": "Replace", "path": "displayName", "value": "Amazing Grace"}]
        }))).await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        assert!(app.get_html("/users").await.contains("Amazing Grace"));

        let (status, _) = scim(&app, Method::DELETE, &format!("/Users/{id}"), Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, gone) = scim(&app, Method::GET, &format!("/Users/{id}"), Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(gone["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        let users = app.get_html("/users").await;
        assert!(users.contains("Amazing Grace"), "the row stays for the record");
        assert!(users.contains("Removed by SCIM"), "{users}");
        let audit = app.get_html("/audit").await;
        assert!(audit.contains("by SCIM (token “okta”)"), "{audit}");
    }

    async fn a_deactivated_persons_token_stops_on_the_next_call_and_comes_back_on_reactivation(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        let (status, _) = scim(&app, Method::POST, "/Users", Some(&token), Some(json!({"userName": "ada"}))).await;
        assert_eq!(status, StatusCode::CREATED);
        let hers = app.with_token("ada", "laptop", "read_only").await;
        assert_eq!(me(&app, &hers).await.0, StatusCode::OK);
        let id = id_of(&app, &token, "ada").await;

        let (status, body) = scim(&app, Method::PATCH, &format!("/Users/{id}"), Some(&token), Some(deactivate())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], false);
        assert_eq!(me(&app, &hers).await.0, StatusCode::UNAUTHORIZED, "the very next call");

        // Entra ID's shape: a path and a string.
        let (status, body) = scim(&app, Method::PATCH, &format!("/Users/{id}"), Some(&token), Some(json!({
            "Operations": [{"op": "Replace", "path": "active", "value": "True"}]
        }))).await;
        assert_eq!((status, &body["active"]), (StatusCode::OK, &json!(true)), "{body}");
        assert_eq!(me(&app, &hers).await.0, StatusCode::OK, "within its lifetime, it works again");
    }

    async fn scim_needs_a_token_with_users_write(app) {
        app.setup_admin().await;
        let tokens_only = app.with_scoped_token("admin", "ci", "admin", Some(&["tokens:write"])).await;
        let (status, body) = scim(&app, Method::GET, "/Users", Some(&tokens_only), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        assert!(body["detail"].as_str().unwrap().contains("users:write"), "{body}");
        let (status, _) = scim(&app, Method::GET, "/Users", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let engineer = app.with_token("admin", "engineer-full", "engineer").await;
        assert_eq!(scim(&app, Method::GET, "/Users", Some(&engineer), None).await.0, StatusCode::FORBIDDEN);
    }

    async fn the_last_administrator_stays_one_through_scim(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        let admin = id_of(&app, &token, "admin").await;
        for (method, body) in [(Method::PATCH, Some(deactivate())), (Method::DELETE, None)] {
            let (status, refused) = scim(&app, method.clone(), &format!("/Users/{admin}"), Some(&token), body).await;
            assert_eq!(status, StatusCode::CONFLICT, "{method}: {refused}");
            assert!(refused["detail"].as_str().unwrap().contains("last active administrator"), "{refused}");
        }
        assert_eq!(me(&app, &token).await.0, StatusCode::OK, "still an administrator, still working");
    }

    async fn bad_scim_input_gets_a_scim_error_never_a_server_error(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        let raw = |body: &'static str| {
            let (client, url, token) = (app.client.clone(), app.url("/scim/v2/Users"), token.clone());
            async move {
                let response = client.post(url).bearer_auth(token).header("content-type", "application/scim+json")
                    .body(body).send().await.unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            }
        };
        let (status, body) = raw("{not json").await;
        assert_eq!((status, body["scimType"].as_str()), (StatusCode::BAD_REQUEST, Some("invalidSyntax")), "{body}");
        let (status, body) = raw("[]").await;
        assert_eq!((status, body["scimType"].as_str()), (StatusCode::BAD_REQUEST, Some("invalidSyntax")), "{body}");
        let (status, body) = raw("{\"userName\": \"a\u{0}b\"}").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

        let long = "x".repeat(10_000);
        for body in [
            json!({"userName": long}),
            json!({"userName": "ok", "displayName": long}),
            json!({"userName": "ok", "name": {"givenName": long}}),
            json!({"userName": "ok", "displayName": "nul\u{0}here"}),
            json!({"userName": "ok", "active": "perhaps"}),
            json!({"userName": ["a"]}),
        ] {
            let (status, refused) = scim(&app, Method::POST, "/Users", Some(&token), Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {refused}");
            assert_eq!(refused["scimType"], "invalidValue", "{refused}");
        }
        let (status, made) = scim(&app, Method::POST, "/Users", Some(&token), Some(json!({"userName": "lin", "nickName": "unknown attributes are ignored"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert!(made.get("nickName").is_none());
        let (status, taken) = scim(&app, Method::POST, "/Users", Some(&token), Some(json!({"userName": "LIN"}))).await;
        assert_eq!((status, taken["scimType"].as_str()), (StatusCode::CONFLICT, Some("uniqueness")), "{taken}");

        for filter in ["title%20eq%20%22x%22", "userName%20sw%20%22a%22", "userName%20eq%20lin", "(("] {
            let (status, refused) = scim(&app, Method::GET, &format!("/Users?filter={filter}"), Some(&token), None).await;
            assert_eq!((status, refused["scimType"].as_str()), (StatusCode::BAD_REQUEST, Some("invalidFilter")), "{filter}: {refused}");
        }
        let id = id_of(&app, &token, "lin").await;
        for body in [json!({"Operations": [{"op": "replace", "path": "id", "value": "x"}]}), json!({"Operations": "all"})] {
            let (status, refused) = scim(&app, Method::PATCH, &format!("/Users/{id}"), Some(&token), Some(body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {refused}");
        }
        assert_eq!(scim(&app, Method::GET, "/Users/not-an-id", Some(&token), None).await.0, StatusCode::NOT_FOUND);
        assert_eq!(scim(&app, Method::GET, "/Users?count=lots", Some(&token), None).await.0, StatusCode::BAD_REQUEST);
        let (status, _, _) = call(&app, Method::PUT, "/scim/v2/Users", Some(&token), None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}

both_backends! {
    async fn a_stale_version_or_a_taken_username_changes_nothing(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        for name in ["ann", "bea"] {
            assert_eq!(scim(&app, Method::POST, "/Users", Some(&token), Some(json!({"userName": name}))).await.0, StatusCode::CREATED);
        }
        let ann = id_of(&app, &token, "ann").await;
        let rename = json!({"Operations": [{"op": "replace", "path": "userName", "value": "BEA"}]});
        let (status, refused) = scim(&app, Method::PATCH, &format!("/Users/{ann}"), Some(&token), Some(rename)).await;
        assert_eq!((status, refused["scimType"].as_str()), (StatusCode::CONFLICT, Some("uniqueness")), "{refused}");
        let (status, _) = scim(&app, Method::PUT, &format!("/Users/{ann}"), Some(&token), Some(json!({"userName": "bea"}))).await;
        assert_eq!(status, StatusCode::CONFLICT);

        let (_, headers, before) = call(&app, Method::GET, &format!("/scim/v2/Users/{ann}"), Some(&token), None).await;
        let etag = headers["etag"].to_str().unwrap().to_owned();
        assert_eq!(before["meta"]["version"], etag.as_str());
        let put = |tag: &str| {
            app.client.put(app.url(&format!("/scim/v2/Users/{ann}"))).bearer_auth(&token)
                .header("if-match", tag.to_owned()).json(&json!({"userName": "ann", "displayName": "Ann A."}))
        };
        assert_eq!(put("W/\"stale\"").send().await.unwrap().status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(put(&etag).send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(put(&etag).send().await.unwrap().status(), StatusCode::PRECONDITION_FAILED, "that version is gone now");
        assert_eq!(put("*").send().await.unwrap().status(), StatusCode::OK);
    }

    async fn another_accounts_token_finds_nobody_here(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        scim(&app, Method::POST, "/Users", Some(&token), Some(json!({"userName": "ann"}))).await;
        let ann = id_of(&app, &token, "ann").await;
        app.with_user("Globex", "gus", "Gus Admin", "admin").await;
        let theirs = app.with_scoped_token("gus", "their-okta", "admin", Some(&["users:write"])).await;
        let (_, list) = scim(&app, Method::GET, "/Users", Some(&theirs), None).await;
        let names: Vec<&str> = list["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect();
        assert_eq!(names, ["gus"], "only their own account");
        for method in [Method::GET, Method::DELETE] {
            assert_eq!(scim(&app, method, &format!("/Users/{ann}"), Some(&theirs), None).await.0, StatusCode::NOT_FOUND);
        }
        assert_eq!(scim(&app, Method::PATCH, &format!("/Users/{ann}"), Some(&theirs), Some(deactivate())).await.0, StatusCode::NOT_FOUND);
    }

    async fn a_removed_person_comes_back_under_the_same_username(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        scim(&app, Method::POST, "/Users", Some(&token), Some(json!({"userName": "ann", "externalId": "old"}))).await;
        let ann = id_of(&app, &token, "ann").await;
        let hers = app.with_token("ann", "laptop", "read_only").await;
        assert_eq!(scim(&app, Method::DELETE, &format!("/Users/{ann}"), Some(&token), None).await.0, StatusCode::NO_CONTENT);
        assert_eq!(me(&app, &hers).await.0, StatusCode::UNAUTHORIZED);
        let (status, back) = scim(&app, Method::POST, "/Users", Some(&token), Some(json!({"userName": "ann", "externalId": "new"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{back}");
        assert_eq!(back["id"], ann.as_str(), "the same record");
        assert_eq!(back["externalId"], "new");
        assert_eq!(me(&app, &hers).await.0, StatusCode::OK, "their token, still within its lifetime, works again");
    }

    async fn a_person_deactivated_on_the_page_stays_so_whatever_the_provider_repeats(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        scim(&app, Method::POST, "/Users", Some(&token), Some(json!({"userName": "ann", "active": true}))).await;
        let ann = id_of(&app, &token, "ann").await;
        let response = app.post_form(&format!("/users/{ann}"), &format!("/users/{ann}/deactivate"), &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let (status, body) = scim(&app, Method::PUT, &format!("/Users/{ann}"), Some(&token), Some(json!({"userName": "ann", "active": true}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], false, "the administrator's decision holds");
    }

    async fn the_last_administrator_is_a_person_and_a_service_account_does_not_count(app) {
        app.setup_admin().await;
        let response = app.post_form("/users/new", "/users/new", &[
            ("kind", "service"), ("username", "okta-bot"), ("display_name", ""), ("email", ""), ("role", "admin"), ("password", ""),
        ]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let token = provisioning_token(&app).await;
        let admin = id_of(&app, &token, "admin").await;
        let (status, refused) = scim(&app, Method::PUT, &format!("/Users/{admin}"), Some(&token), Some(json!({"userName": "admin", "active": false}))).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert!(refused["detail"].as_str().unwrap().contains("last active administrator"));
        assert!(refused.get("scimType").is_none(), "{refused}");
    }

    async fn a_control_character_in_a_filter_is_refused_not_a_server_error(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        for filter in ["userName%20eq%20%22%5Cu0000%22", "emails.value%20eq%20%22a%5Cu0007b%22", "externalId%20eq%20%22%5Cn%22"] {
            let (status, refused) = scim(&app, Method::GET, &format!("/Users?filter={filter}"), Some(&token), None).await;
            assert_eq!((status, refused["scimType"].as_str()), (StatusCode::BAD_REQUEST, Some("invalidFilter")), "{filter}: {refused}");
        }
        let (status, _) = scim(&app, Method::POST, "/.search", Some(&token), Some(json!({"filter": "userName eq \"\\u0000\""}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, found) = scim(&app, Method::GET, "/Users?filter=emails%20eq%20%22NOBODY%40example.com%22", Some(&token), None).await;
        assert_eq!((status, &found["totalResults"]), (StatusCode::OK, &json!(0)), "{found}");
    }

    async fn a_body_too_large_or_no_token_gets_a_scim_error(app) {
        app.setup_admin().await;
        let token = provisioning_token(&app).await;
        let huge = format!("{{\"userName\": \"{}\"}}", "a".repeat(100_000));
        let response = app.client.post(app.url("/scim/v2/Users")).bearer_auth(&token)
            .header("content-type", "application/scim+json").body(huge).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        let (status, _) = scim(&app, Method::GET, "/Users?count=lots", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the token first, then the query");
    }
}
