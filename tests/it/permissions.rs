//! Permissions (product.md §9): scopes narrow a token, the ceiling holds on the page and through
//! the API, services are the account's own resources, and every API route declares its scope.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::user_id;
use crate::helpers::*;
use crate::token_helpers::*;

/// The routes any valid token may call, whatever its scopes, and those that take no token.
const ANY_TOKEN: [&str; 3] = ["/api/v1/me", "/api/v1/tokens/self", "/auth/verify"];
const NO_TOKEN: [&str; 1] = ["/api/v1/secret-scanning"];

/// Every operation of the OpenAPI document: (method, path, the bearer scopes it declares).
async fn operations(app: &Browser) -> Vec<(Method, String, Option<Vec<String>>)> {
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().unwrap() {
            let scopes = operation["security"].as_array().map(|requirements| {
                requirements
                    .iter()
                    .filter_map(|r| r["bearer"].as_array())
                    .flatten()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            });
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            found.push((method, path.clone(), scopes));
        }
    }
    found
}

/// A body the route accepts, so that a call holding the scope gets past validation.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    match (method.as_str(), path) {
        // Within the holder's own tokens:write: a scoped token makes only scoped tokens.
        ("POST", "/api/v1/tokens") => Some(json!({
            "name": format!("made-{}", rand_suffix()), "role": "read_only", "expires_in_days": 7,
            "scopes": ["tokens:read"]
        })),
        ("POST", p) if p.ends_with("/regenerate") => Some(json!({})),
        _ => None,
    }
}

fn rand_suffix() -> String {
    personal_tokens::domain::TokenId::generate().to_string()[..8].to_owned()
}

fn challenge(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Every resource the API registers (read from its route table, as `layering.rs` reads the
/// sources), so that a route left out of the OpenAPI document, and so of the check below,
/// fails here.
fn registered_api_paths() -> Vec<String> {
    let table = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/mod.rs"))
        .expect("the API's route table");
    table
        .split("web::resource(\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').expect("a closing quote")])
        // Forward auth sits outside the /api/v1 scope; every other resource is inside it.
        .map(|path| match path.starts_with("/auth/") {
            true => path.to_owned(),
            false => format!("/api/v1{path}"),
        })
        .filter(|path| path != "/api/v1/openapi.json")
        .collect()
}

both_backends! {
    async fn every_route_declares_a_scope_and_is_checked_with_and_without_it(app) {
        app.setup_admin().await;
        let documented: Vec<String> = operations(&app).await.into_iter().map(|(_, path, _)| path).collect();
        for path in registered_api_paths() {
            assert!(documented.contains(&path), "{path} is registered but not in the OpenAPI document");
        }
        // A token of another resource entirely, for "lacks the scope": each call must refuse it.
        assert_eq!(add_service(&app, "elsewhere", "").await.status(), StatusCode::SEE_OTHER);
        let lacking = app
            .with_scoped_token("admin", "elsewhere-only", "admin", Some(&["elsewhere:read"]))
            .await;
        let operations = operations(&app).await;
        assert!(operations.len() >= 9, "the document lists every route: {operations:?}");
        for (method, path, scopes) in operations {
            if NO_TOKEN.contains(&path.as_str()) {
                continue;
            }
            let scopes = scopes.unwrap_or_else(|| panic!("{method} {path} declares no security"));
            if ANY_TOKEN.contains(&path.as_str()) {
                assert!(scopes.is_empty(), "{path} is open to any token");
                let (status, _, _) = call(&app, method.clone(), &path, Some(&lacking), None).await;
                assert_eq!(status, StatusCode::OK, "any token may call {method} {path}");
                continue;
            }
            assert_eq!(scopes.len(), 1, "{method} {path} declares exactly one scope: {scopes:?}");
            let needed = &scopes[0];
            // An id that names no token: a call that passed the scope check answers 404.
            let path = path.replace("{id}", &personal_tokens::domain::TokenId::generate().to_string());

            let (status, headers, body) =
                call(&app, method.clone(), &path, Some(&lacking), body_for(&method, &path)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} without {needed}");
            assert_eq!(body["error"], "insufficient_scope");
            assert_eq!(
                challenge(&headers),
                format!(r#"Bearer error="insufficient_scope", scope="{needed}""#)
            );

            let holding = app
                .with_scoped_token("admin", &format!("holds-{}", rand_suffix()), "admin", Some(&[needed.as_str()]))
                .await;
            let (status, _, body) =
                call(&app, method.clone(), &path, Some(&holding), body_for(&method, &path)).await;
            // Past the check a call may still be refused for what it sent (an unknown id, no
            // form), but never for its token.
            assert!(
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                "{method} {path} with {needed} passes the scope check: {status} {body}"
            );
        }
    }

    async fn the_ceiling_holds_for_each_role_on_the_page_and_through_the_api(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let engineer_token = app.with_token("erin", "erin-full", "engineer").await;
        let admin_token = app.with_token("admin", "admin-full", "admin").await;
        let create = |token: String, role: &'static str, scopes: Value| {
            let app = &app;
            async move {
                let body = json!({"name": format!("c-{}", rand_suffix()), "role": role,
                                  "expires_in_days": 7, "scopes": scopes});
                call(app, Method::POST, "/api/v1/tokens", Some(&token), Some(body)).await
            }
        };
        for (token, role, scope, allowed) in [
            (&engineer_token, "engineer", "users:read", false),
            (&engineer_token, "engineer", "audit:read", false),
            (&engineer_token, "engineer", "introspect:read", true),
            (&engineer_token, "engineer", "tokens:write", true),
            (&engineer_token, "read_only", "tokens:write", false),
            (&engineer_token, "read_only", "tokens:read", true),
            (&engineer_token, "read_only", "introspect:read", false),
            (&admin_token, "admin", "users:write", true),
            (&admin_token, "admin", "audit:read", true),
            (&admin_token, "admin", "audit:write", false),
            (&admin_token, "admin", "introspect:write", false),
            (&admin_token, "engineer", "audit:read", false),
        ] {
            let (status, _, body) = create(token.clone(), role, json!([scope])).await;
            if allowed {
                assert_eq!(status, StatusCode::CREATED, "a {role} token may hold {scope}: {body}");
                assert_eq!(body["scopes"], json!([scope]));
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST, "a {role} token may not hold {scope}");
                assert_eq!(body["error"], "invalid_scope");
                assert!(body["message"].as_str().unwrap().contains(scope.split(':').next().unwrap()));
            }
        }
        let (_, _, listed) = call(&app, Method::GET, "/api/v1/tokens", Some(&engineer_token), None).await;
        assert_eq!(listed["total"], 1 + 3, "only the allowed creates made a token: {listed}");

        // The page offers nothing above the engineer's ceiling, and refuses it when sent anyway.
        let form = erin.get_html("/tokens/new").await;
        assert!(select_attr(&form, "select#scope-users", "name").is_none());
        assert!(select_attr(&form, "select#scope-audit", "name").is_none());
        let introspect: Vec<String> = select_all(&form, "select#scope-introspect option", Some("value"))
            .into_iter().filter_map(|(_, v)| v).collect();
        assert_eq!(introspect, ["", "introspect:read"]);
        let tokens_levels = select_all(&form, "select#scope-tokens option", None).len();
        assert_eq!(tokens_levels, 3, "tokens offers no access, read, and read and write");
        let response = post_new_token(&erin, &[
            ("name", "sneaky"), ("expires_in", "7"), ("role", "engineer"),
            ("access", "scoped"), ("scopes", "users:write"), ("scopes", "tokens:read"),
        ]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let page = response.text().await.unwrap();
        assert!(field_error(&page, "scopes").unwrap().contains("Administrator"), "{page}");
        assert!(row_names(&tokens_html(&erin, "").await).iter().all(|n| n != "sneaky"));

        // A read-only user's form offers read levels only.
        let reader = add_user_and_sign_in(&app, "Acme", "rita", "Rita Reader", "read_only").await;
        let form = reader.get_html("/tokens/new").await;
        let values: Vec<String> = select_all(&form, "select[name=scopes] option", Some("value"))
            .into_iter().filter_map(|(_, v)| v).filter(|v| !v.is_empty()).collect();
        assert_eq!(values, ["tokens:read"]);
    }

    async fn a_scoped_token_cannot_make_or_regenerate_a_wider_one(app) {
        app.setup_admin().await;
        assert_eq!(add_service(&app, "billing", "").await.status(), StatusCode::SEE_OTHER);
        let full = app.with_token("admin", "admin-full", "admin").await;
        let minter = app.with_scoped_token("admin", "minter", "admin", Some(&["tokens:write"])).await;
        let create = |scopes: Value| {
            let (app, minter) = (&app, minter.clone());
            async move {
                let mut body = json!({"name": format!("m-{}", rand_suffix()), "role": "engineer", "expires_in_days": 7});
                if !scopes.is_null() {
                    body["scopes"] = scopes;
                }
                call(app, Method::POST, "/api/v1/tokens", Some(&minter), Some(body)).await
            }
        };
        let (status, _, body) = create(Value::Null).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "no full token from a scoped one: {body}");
        assert_eq!(body["error"], "invalid_scope");
        let (status, _, _) = create(json!(["billing:read"])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "nor one reaching what it does not");
        let (status, _, made) = create(json!(["tokens:read"])).await;
        assert_eq!(status, StatusCode::CREATED, "within its own: {made}");

        // Regenerating a full token through it keeps it full: refused. So is making one full.
        let (_, _, full_self) = call(&app, Method::GET, "/api/v1/tokens/self", Some(&full), None).await;
        let full_id = full_self["id"].as_str().unwrap();
        let (status, _, _) = call(&app, Method::POST, &format!("/api/v1/tokens/{full_id}/regenerate"), Some(&minter), Some(json!({}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let made_id = made["id"].as_str().unwrap();
        let (status, _, _) = call(&app, Method::POST, &format!("/api/v1/tokens/{made_id}/regenerate"), Some(&minter), Some(json!({"scopes": null}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _, renewed) = call(&app, Method::POST, &format!("/api/v1/tokens/{made_id}/regenerate"), Some(&minter), Some(json!({}))).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(renewed["scopes"], json!(["tokens:read"]));
        // A full token still makes full tokens, as before.
        let body = json!({"name": "from-full", "role": "engineer", "expires_in_days": 7});
        let (status, _, _) = call(&app, Method::POST, "/api/v1/tokens", Some(&full), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }

    async fn a_demotion_narrows_a_scoped_token_at_once(app) {
        app.setup_admin().await;
        app.with_user("Acme", "erin", "Erin Engineer", "engineer").await;
        let token = app
            .with_scoped_token("erin", "deployer", "engineer", Some(&["tokens:write"]))
            .await;
        let body = json!({"name": "child", "role": "read_only", "expires_in_days": 1, "scopes": ["tokens:read"]});
        let (status, _, _) = call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(body.clone())).await;
        assert_eq!(status, StatusCode::CREATED);

        let erin_id = user_id(&app, "erin").await;
        let response = post_on(&app, &format!("/users/{erin_id}/role"), &[("role", "read_only")]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);

        let body = json!({"name": "child-2", "role": "read_only", "expires_in_days": 1, "scopes": ["tokens:read"]});
        let (status, headers, answer) = call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert_eq!(challenge(&headers), r#"Bearer error="insufficient_scope", scope="tokens:write""#);
        assert!(answer["message"].as_str().unwrap().contains("Read-only"));
        // Write implies read, and read is still within the demoted role.
        let (status, _, _) = call(&app, Method::GET, "/api/v1/tokens", Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn regenerate_keeps_the_scopes_through_the_api_and_prefills_them_on_the_page(app) {
        app.setup_admin().await;
        assert_eq!(add_service(&app, "billing", "Invoices").await.status(), StatusCode::SEE_OTHER);
        let admin_token = app.with_token("admin", "admin-full", "admin").await;
        let body = json!({"name": "reader", "role": "engineer", "expires_in_days": 30,
                          "scopes": ["tokens:read", "billing:write"]});
        let (status, _, made) = call(&app, Method::POST, "/api/v1/tokens", Some(&admin_token), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(made["scopes"], json!(["billing:write", "tokens:read"]));
        let id = made["id"].as_str().unwrap();

        let (status, _, renewed) = call(
            &app, Method::POST, &format!("/api/v1/tokens/{id}/regenerate"), Some(&admin_token), Some(json!({})),
        ).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(renewed["scopes"], made["scopes"]);
        let (_, _, own) = call(&app, Method::GET, "/api/v1/tokens/self", Some(renewed["token"].as_str().unwrap()), None).await;
        assert_eq!(own["scopes"], made["scopes"], "the new secret carries the scopes");
        assert_eq!(own["id"], renewed["id"]);

        let new_id = renewed["id"].as_str().unwrap();
        let form = app.get_html(&format!("/tokens/{new_id}/regenerate")).await;
        assert_eq!(select_attr(&form, "#access-scoped", "checked").as_deref(), Some(""));
        assert_eq!(select_attr(&form, "select#scope-billing option[selected]", "value").as_deref(), Some("billing:write"));
        assert_eq!(select_attr(&form, "select#scope-tokens option[selected]", "value").as_deref(), Some("tokens:read"));
        assert!(select_attr(&form, "select#scope-audit", "name").is_none(), "an engineer token is offered no audit row");

        // The page's regenerate sends the prefilled choice back, and may change it.
        let response = app.post_form(&format!("/tokens/{new_id}/regenerate"), &format!("/tokens/{new_id}/regenerate"), &[
            ("overlap", "0"), ("access", "scoped"), ("scopes", "billing:read"), ("scopes", ""),
        ]).await;
        assert_eq!(location(&response), "/tokens/reveal");
        let list = tokens_html(&app, "?status=active").await;
        assert!(row(&list, "reader").contains("billing:read"), "{}", row(&list, "reader"));
        let audit = app.get_html("/audit?action=token_regenerated").await;
        assert!(audit.contains("scopes: billing:read"), "the audit entry names the scopes");
    }

    async fn a_service_held_by_a_live_token_survives_a_delete(app) {
        app.setup_admin().await;
        assert_eq!(add_service(&app, "billing", "Invoices").await.status(), StatusCode::SEE_OTHER);
        let page = app.get_html("/services").await;
        assert!(page.contains("data-service=\"billing\""));
        let token = app.with_scoped_token("admin", "billing-reader", "engineer", Some(&["billing:read"])).await;

        let response = app.post_form("/services", "/services/billing/delete", &[]).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let page = response.text().await.unwrap();
        assert!(page.contains("held by 1 live token"), "{page}");
        assert!(app.get_html("/services").await.contains("data-service=\"billing\""));

        // Once the token is deleted, nothing holds it.
        let (_, _, own) = call(&app, Method::GET, "/api/v1/tokens/self", Some(&token), None).await;
        let id = own["id"].as_str().unwrap();
        let response = post_on(&app, &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let response = app.post_form("/services", "/services/billing/delete", &[]).await;
        assert_eq!(location(&response), "/services");
        assert!(!app.get_html("/services").await.contains("data-service=\"billing\""));
        let audit = app.get_html("/audit").await;
        assert!(audit.contains("Service added") && audit.contains("Service deleted"));

        // A scope naming a service that no longer exists is refused.
        let admin_token = app.with_token("admin", "admin-full", "admin").await;
        let body = json!({"name": "late", "role": "engineer", "expires_in_days": 7, "scopes": ["billing:read"]});
        let (status, _, body) = call(&app, Method::POST, "/api/v1/tokens", Some(&admin_token), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().unwrap().contains("no service named `billing`"));

        // Others do not see the page at all.
        let erin = engineer(&app).await;
        assert_eq!(erin.get("/services").await.status(), StatusCode::NOT_FOUND);
    }

    async fn service_names_are_checked(app) {
        app.setup_admin().await;
        for (name, expected) in [
            ("tokens", "built-in"),
            ("Billing", "not a service name"),
            ("bill\0ing", "not a service name"),
            ("<script>alert(1)</script>", "not a service name"),
            (&"a".repeat(41), "not a service name"),
        ] {
            let response = add_service(&app, name, "").await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name:?}");
            let page = response.text().await.unwrap();
            assert!(field_error(&page, "name").unwrap().contains(expected), "{name:?}");
            assert!(!page.contains("<script>alert"), "markup is escaped");
        }
        assert_eq!(add_service(&app, "billing", "").await.status(), StatusCode::SEE_OTHER);
        let response = add_service(&app, "billing", "again").await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(field_error(&response.text().await.unwrap(), "name").unwrap().contains("already has"));
        let response = app.post_form("/services", "/services/nosuch/delete", &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    async fn bad_scopes_get_a_clear_400_through_the_api(app) {
        app.setup_admin().await;
        let token = app.with_token("admin", "admin-full", "admin").await;
        let thousand: Vec<String> = (0..1000).map(|i| format!("s{i}:read")).collect();
        for (scopes, expected) in [
            (json!(["nosuch:read"]), "no service named"),
            (json!(["tokens:admin"]), "not a level"),
            (json!(["tokens"]), "not a scope"),
            (json!(["tokens:read", "tokens:write"]), "more than once"),
            (json!(thousand), "at most 64"),
            (json!(["bill\u{0}ing:read"]), "not a resource name"),
            (json!(["<b>x</b>:read"]), "not a resource name"),
            (json!([]), "at least one"),
            (json!("tokens:read"), "not valid JSON"),
            (json!([1, 2]), "not valid JSON"),
        ] {
            let body = json!({"name": "bad", "role": "engineer", "expires_in_days": 7, "scopes": scopes});
            let (status, _, answer) = call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{scopes}: {answer}");
            assert!(answer["message"].as_str().unwrap().contains(expected), "{scopes}: {answer}");
        }
        let (_, _, listed) = call(&app, Method::GET, "/api/v1/tokens", Some(&token), None).await;
        assert_eq!(listed["total"], 1, "nothing was created");
        let (status, _, _) = call(&app, Method::GET, "/api/v1/tokens?scope=%3Cb%3E", Some(&token), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn the_list_filter_keeps_tokens_that_reach_a_resource(app) {
        app.setup_admin().await;
        assert_eq!(add_service(&app, "billing", "").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(add_service(&app, "search", "").await.status(), StatusCode::SEE_OTHER);
        app.with_token("admin", "everything", "engineer").await;
        app.with_token("admin", "reader", "read_only").await;
        app.with_scoped_token("admin", "billing-only", "engineer", Some(&["billing:read"])).await;
        app.with_scoped_token("admin", "search-only", "engineer", Some(&["search:write"])).await;
        let admin_token = app.with_scoped_token("admin", "auditor", "admin", Some(&["audit:read", "tokens:read"])).await;

        let names = |query: &'static str| {
            let app = &app;
            async move {
                let mut names = row_names(&tokens_html(app, query).await);
                names.sort();
                names
            }
        };
        assert_eq!(names("?scope=billing").await, ["billing-only", "everything", "reader"]);
        assert_eq!(names("?scope=audit").await, ["auditor"], "a full engineer token does not reach the audit log");
        assert_eq!(names("?scope=introspect").await, ["everything"]);
        let list = tokens_html(&app, "?scope=billing").await;
        assert_eq!(select_attr(&list, "#filter-scope option[selected]", "value").as_deref(), Some("billing"));
        assert!(row(&list, "everything").contains("Full access"));
        assert!(row(&list, "billing-only").contains("billing:read"));

        let (status, _, listed) = call(&app, Method::GET, "/api/v1/tokens?scope=search", Some(&admin_token), None).await;
        assert_eq!(status, StatusCode::OK);
        let mut api_names: Vec<&str> = listed["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        api_names.sort();
        assert_eq!(api_names, ["everything", "reader", "search-only"], "a full read-only token reads every service");
    }

    async fn full_tokens_keep_their_rights_and_any_token_reads_itself(app) {
        app.setup_admin().await;
        let full = app.with_token("admin", "full", "engineer").await;
        let (status, me) = me(&app, &full).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["token"]["scopes"], Value::Null);
        let (status, _, own) = call(&app, Method::GET, "/api/v1/tokens/self", Some(&full), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(own["name"], "full");
        assert_eq!(own["scopes"], Value::Null);
        assert_eq!(own["masked"], masked(&full));
        // A full engineer token reaches tokens but not the audit log, as its role allows.
        let (status, _, _) = call(&app, Method::GET, "/api/v1/audit", Some(&full), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let admin = app.with_token("admin", "admin-full", "admin").await;
        let (status, _, audit) = call(&app, Method::GET, "/api/v1/audit?action=token_created", Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(audit["total"], 2);
        assert!(audit["events"][0]["detail"].as_str().unwrap().contains("full access"));
        assert_eq!(audit["events"][0]["actor"]["display_name"].as_str().map(|s| !s.is_empty()), Some(true));
        let (status, _, _) = call(&app, Method::GET, "/api/v1/audit?action=nope", Some(&admin), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // The token's page, the lookup page and the list say so.
        let list = tokens_html(&app, "").await;
        assert!(row(&list, "full").contains("Full access"));
        let lookup = app.post_form("/tokens/lookup", "/tokens/lookup", &[("token", &full)]).await.text().await.unwrap();
        assert_eq!(select_text(&lookup, "dd.access-summary").as_deref(), Some("Full access"));
    }

    async fn a_token_limited_to_one_service_is_made_on_the_page(app) {
        app.setup_admin().await;
        assert_eq!(add_service(&app, "billing", "Invoices and payments").await.status(), StatusCode::SEE_OTHER);
        let form = app.get_html("/tokens/new").await;
        assert!(form.contains("Invoices and payments"), "a service's row shows its description");
        let response = post_new_token(&app, &[
            ("name", "billing-ci"), ("expires_in", "30"), ("role", "engineer"), ("access", "scoped"),
            ("scopes", ""), ("scopes", "billing:read"), ("scopes", ""), ("scopes", ""),
        ]).await;
        assert_eq!(location(&response), "/tokens/reveal");
        let token = reveal(&app).await;
        let (_, _, own) = call(&app, Method::GET, "/api/v1/tokens/self", Some(&token), None).await;
        assert_eq!(own["scopes"], json!(["billing:read"]));
        let (status, _, _) = call(&app, Method::GET, "/api/v1/tokens", Some(&token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a billing reader cannot list tokens");
        let id = own["id"].as_str().unwrap();
        let detail = app.get_html(&format!("/tokens/{id}")).await;
        assert_eq!(select_text(&detail, "dd.access-summary").as_deref(), Some("billing:read"));

        // Scoped with nothing chosen is refused, and what was typed is kept.
        let response = post_new_token(&app, &[
            ("name", "nothing"), ("expires_in", "30"), ("role", "engineer"), ("access", "scoped"), ("scopes", ""),
        ]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let page = response.text().await.unwrap();
        assert!(field_error(&page, "scopes").unwrap().contains("at least one"));
        assert_eq!(select_attr(&page, "#name", "value").as_deref(), Some("nothing"));
        assert_eq!(select_attr(&page, "#access-scoped", "checked").as_deref(), Some(""));
        // Another field sent twice is still refused.
        let response = post_new_token(&app, &[("name", "a"), ("name", "b"), ("expires_in", "30"), ("role", "engineer")]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}
