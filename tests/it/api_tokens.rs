use chrono::TimeDelta;
use diesel::prelude::*;
use personal_tokens::domain::secret::PlainToken;
use personal_tokens::store::schema::{tokens, users};
use personal_tokens::store::{DatabaseUrl, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::token_helpers::{call, create_token, engineer, me, plant_token_in_the_past};

fn store(app: &TestApp) -> Store {
    Store::open(&DatabaseUrl::parse(&app.database_url).unwrap(), 1).unwrap()
}

fn assert_invalid_token(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    assert_eq!(body["error"], "invalid_token");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

both_backends! {
    async fn a_token_calls_the_api_as_its_owner(app) {
        app.setup_admin().await;
        let token = app.with_token("admin", "ci", "engineer").await;

        let (status, body) = me(&app, &token).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["account"]["name"], "Acme");
        assert_eq!(body["user"]["username"], "admin");
        assert_eq!(body["token"]["name"], "ci");
        assert_eq!(body["token"]["role"], "engineer");
        assert_eq!(body["token"]["effective_role"], "engineer");
        assert!(body["token"]["expires_at"].as_str().unwrap().ends_with('Z'));
    }

    async fn missing_malformed_and_unknown_tokens_get_401_with_a_challenge(app) {
        app.setup_admin().await;
        let token = app.with_token("admin", "ci", "admin").await;
        let mut flipped = token.clone().into_bytes();
        flipped[20] = if flipped[20] == b'a' { b'b' } else { b'a' };
        let flipped = String::from_utf8(flipped).unwrap();
        let unknown = PlainToken::generate();

        let (status, headers, body) = call(&app, Method::GET, "/api/v1/me", None, None).await;
        assert_invalid_token(status, &headers, &body);
        for bad in ["abc", &token[..43], &flipped, unknown.expose()] {
            let (status, headers, body) = call(&app, Method::GET, "/api/v1/me", Some(bad), None).await;
            assert_invalid_token(status, &headers, &body);
        }
        let (_, _, body) = call(&app, Method::GET, "/api/v1/me", Some(&flipped), None).await;
        assert!(body["message"].as_str().unwrap().contains("checksum"));
    }

    async fn garbage_authorization_headers_get_401_never_a_500(app) {
        app.setup_admin().await;
        let token = app.with_token("admin", "ci", "admin").await;
        let long = format!("Bearer {}", "x".repeat(10 * 1024));
        let headers: Vec<reqwest::header::HeaderValue> = vec![
            token.parse().unwrap(),
            format!("Basic {token}").parse().unwrap(),
            "Bearer".parse().unwrap(),
            "Bearer    ".parse().unwrap(),
            long.parse().unwrap(),
            reqwest::header::HeaderValue::from_bytes(b"Bearer ptk_\xff\xfe\xfd").unwrap(),
        ];
        for header in headers {
            let response = app
                .client
                .get(app.url("/api/v1/me"))
                .header("authorization", header)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "invalid_token");
        }
        let (status, _) = me(&app, &format!("  {token}")).await;
        assert_eq!(status, StatusCode::OK, "extra spaces after the scheme are tolerated");
    }

    async fn a_deleted_token_stops_working_at_once(app) {
        app.setup_admin().await;
        let token = app.with_token("admin", "ci", "admin").await;
        assert_eq!(me(&app, &token).await.0, StatusCode::OK);
        let page = app.get_html("/tokens").await;
        let id_start = page.find("data-token-id=\"").unwrap() + "data-token-id=\"".len();
        let id = &page[id_start..id_start + 36];

        let deleted = app.post_form(&format!("/tokens/{id}/delete"), &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(deleted.status().as_u16(), 303);

        let (status, headers, body) = call(&app, Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_invalid_token(status, &headers, &body);
        assert!(body["message"].as_str().unwrap().contains("deleted"));
    }

    async fn calls_made_at_once_each_get_their_own_tokens_answer(app) {
        // Checks that arrive together are answered together (on SQLite in one read
        // transaction); no answer may go to another request, and a deleted token stays refused.
        app.setup_admin().await;
        let engineer = app.with_token("admin", "ci-engineer", "engineer").await;
        let reader = app.with_token("admin", "ci-reader", "read_only").await;
        let gone = app.with_token("admin", "ci-gone", "read_only").await;
        let page = app.get_html("/tokens").await;
        let id_start = page.find("data-token-id=\"").unwrap() + "data-token-id=\"".len();
        let id = &page[id_start..id_start + 36];
        let deleted = app.post_form(&format!("/tokens/{id}/delete"), &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(deleted.status().as_u16(), 303);
        let unknown = PlainToken::generate().expose().to_owned();
        // (token, Ok(its name) or Err(what the refusal says))
        let cases = [
            (engineer, Ok("ci-engineer")),
            (reader, Ok("ci-reader")),
            (gone, Err("deleted")),
            (unknown, Err("not valid")),
        ];

        let calls: Vec<_> = (0..160)
            .map(|n| {
                let (client, url) = (app.client.clone(), app.url("/api/v1/me"));
                let token = cases[n % cases.len()].0.clone();
                tokio::spawn(async move {
                    let response = client.get(url).bearer_auth(token).send().await.unwrap();
                    (n, response.status(), response.json::<Value>().await.unwrap())
                })
            })
            .collect();

        for call in calls {
            let (n, status, body) = call.await.unwrap();
            match cases[n % cases.len()].1 {
                Ok(name) => {
                    assert_eq!(status, StatusCode::OK, "{body}");
                    assert_eq!(body["token"]["name"], name);
                }
                Err(reason) => {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
                    assert!(body["message"].as_str().unwrap().contains(reason), "{body}");
                }
            }
        }
    }

    async fn an_expired_token_is_refused(app) {
        app.setup_admin().await;
        let secret = plant_token_in_the_past(&app, "admin", "old", 40, "30").await;

        let (status, headers, body) = call(&app, Method::GET, "/api/v1/me", Some(&secret), None).await;
        assert_invalid_token(status, &headers, &body);
        assert!(body["message"].as_str().unwrap().contains("expired"));
    }

    async fn deactivating_or_demoting_the_issuer_takes_effect_on_the_next_request(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let token = create_token(&erin, "erin-ci", "30", "engineer").await;
        let create = json!({"name": "made by api", "expires_in_days": 7, "role": "read_only"});
        assert_eq!(call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(create.clone())).await.0, StatusCode::CREATED);

        let store = store(&app);
        store.run_blocking(|conn| {
            diesel::update(users::table.filter(users::username.eq("erin"))).set(users::role.eq("read_only")).execute(conn)?;
            Ok(())
        }).unwrap();
        let (status, body) = me(&app, &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["token"]["effective_role"], "read_only");
        let again = json!({"name": "second", "expires_in_days": 7, "role": "read_only"});
        let (status, headers, body) = call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(again)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            headers["www-authenticate"],
            r#"Bearer error="insufficient_scope", scope="tokens:write""#
        );
        assert_eq!(body["error"], "insufficient_scope");

        store.run_blocking(|conn| {
            diesel::update(users::table.filter(users::username.eq("erin"))).set(users::active.eq(false)).execute(conn)?;
            Ok(())
        }).unwrap();
        let (status, headers, body) = call(&app, Method::GET, "/api/v1/me", Some(&token), None).await;
        assert_invalid_token(status, &headers, &body);
    }

    async fn last_use_is_written_once_per_minute_under_a_burst(app) {
        app.setup_admin().await;
        let token = app.with_token("admin", "busy", "admin").await;
        let last_used = |store: &Store| {
            store.run_blocking(|conn| {
                Ok(tokens::table
                    .filter(tokens::name.eq("busy"))
                    .select((tokens::last_used_at, tokens::last_used_ip))
                    .first::<(Option<chrono::NaiveDateTime>, Option<String>)>(conn)?)
            }).unwrap()
        };
        let store = store(&app);
        assert_eq!(last_used(&store), (None, None));

        let burst = (0..20).map(|_| me(&app, &token));
        for (status, _) in futures_util::future::join_all(burst).await {
            assert_eq!(status, StatusCode::OK);
        }
        let (first, ip) = last_used(&store);
        assert!(first.is_some());
        assert_eq!(ip.as_deref(), Some("127.0.0.1"));
        for _ in 0..5 {
            me(&app, &token).await;
        }
        assert_eq!(last_used(&store).0, first, "not rewritten within the minute");

        let two_minutes_ago = first.unwrap() - TimeDelta::minutes(2);
        store.run_blocking(|conn| {
            diesel::update(tokens::table.filter(tokens::name.eq("busy"))).set(tokens::last_used_at.eq(two_minutes_ago)).execute(conn)?;
            Ok(())
        }).unwrap();
        me(&app, &token).await;
        let (again, _) = last_used(&store);
        assert!(again.unwrap() > first.unwrap(), "written again after a minute");

        let list = app.get_html("/tokens").await;
        assert!(!list.contains("<td data-label=\"Last used\">Never</td>"), "the list shows the token as used");
    }

    async fn each_role_gets_what_it_may_do_on_every_route(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let admin_token = app.with_token("admin", "admin-token", "admin").await;
        let admin_reader = app.with_token("admin", "admin-reader", "read_only").await;
        let erin_token = create_token(&erin, "erin-token", "30", "engineer").await;
        let victim_of = |n: &str| json!({"name": n, "expires_in_days": 7, "role": "read_only"});

        // read_only: reads only.
        assert_eq!(me(&app, &admin_reader).await.0, StatusCode::OK);
        let (status, _, body) = call(&app, Method::GET, "/api/v1/tokens", Some(&admin_reader), None).await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<&str> = body["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["admin-reader", "admin-token"], "a read_only token sees only its issuer's tokens");
        assert_eq!(call(&app, Method::POST, "/api/v1/tokens", Some(&admin_reader), Some(victim_of("r"))).await.0, StatusCode::FORBIDDEN);
        let (_, _, created) = call(&app, Method::POST, "/api/v1/tokens", Some(&admin_token), Some(victim_of("victim"))).await;
        let victim_id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(call(&app, Method::DELETE, &format!("/api/v1/tokens/{victim_id}"), Some(&admin_reader), None).await.0, StatusCode::FORBIDDEN);

        // engineer: manages its own tokens only.
        assert_eq!(me(&app, &erin_token).await.0, StatusCode::OK);
        let (_, _, body) = call(&app, Method::GET, "/api/v1/tokens", Some(&erin_token), None).await;
        let names: Vec<&str> = body["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["erin-token"]);
        let (status, _, own) = call(&app, Method::POST, "/api/v1/tokens", Some(&erin_token), Some(victim_of("erin-2"))).await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(own["token"].as_str().unwrap().starts_with("ptk_"));
        let (status, _, body) = call(&app, Method::POST, "/api/v1/tokens", Some(&erin_token), Some(json!({"name": "too high", "expires_in_days": 7, "role": "admin"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["field"], "role");
        assert_eq!(call(&app, Method::DELETE, &format!("/api/v1/tokens/{victim_id}"), Some(&erin_token), None).await.0, StatusCode::NOT_FOUND, "not hers: 404, not 403");
        assert_eq!(call(&app, Method::GET, &format!("/api/v1/tokens/{victim_id}"), Some(&erin_token), None).await.0, StatusCode::NOT_FOUND, "nor to read");
        let own_id = own["id"].as_str().unwrap();
        let (status, _, got) = call(&app, Method::GET, &format!("/api/v1/tokens/{own_id}"), Some(&erin_token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((got["name"].as_str(), got["status"].as_str()), (Some("erin-2"), Some("active")));
        assert!(got.get("token").is_none(), "the secret is never shown again: {got}");
        let (status, _, body) = call(&app, Method::DELETE, &format!("/api/v1/tokens/{own_id}"), Some(&erin_token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "deleted");
        let (status, _, got) = call(&app, Method::GET, &format!("/api/v1/tokens/{own_id}"), Some(&erin_token), None).await;
        assert_eq!((status, got["status"].as_str()), (StatusCode::OK, Some("deleted")), "kept, for the record");
        assert_eq!(call(&app, Method::DELETE, &format!("/api/v1/tokens/{own_id}"), Some(&erin_token), None).await.0, StatusCode::CONFLICT);

        // admin: the whole account.
        let (_, _, body) = call(&app, Method::GET, "/api/v1/tokens", Some(&admin_token), None).await;
        assert_eq!(body["total"], 5);
        let (_, _, body) = call(&app, Method::GET, "/api/v1/tokens?status=active&role=engineer", Some(&admin_token), None).await;
        let names: Vec<&str> = body["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["erin-token"]);
        let erin_token_id = body["tokens"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(call(&app, Method::DELETE, &format!("/api/v1/tokens/{erin_token_id}"), Some(&admin_token), None).await.0, StatusCode::OK);
        assert_eq!(me(&app, &erin_token).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn another_accounts_token_never_sees_this_account(app) {
        app.setup_admin().await;
        let acme_token = app.with_token("admin", "acme", "admin").await;
        let (_, _, acme) = call(&app, Method::GET, "/api/v1/tokens", Some(&acme_token), None).await;
        let acme_id = acme["tokens"][0]["id"].as_str().unwrap().to_owned();
        let output = app.cli_add_user(&["--account", "Globex", "--username", "hank", "--role", "admin", "--password-stdin"], "globex admin password");
        assert!(output.status.success());
        let hank = app.new_browser();
        hank.login("hank", "globex admin password").await;
        let globex_token = create_token(&hank, "globex", "30", "admin").await;

        let (_, _, body) = call(&app, Method::GET, "/api/v1/tokens", Some(&globex_token), None).await;
        let names: Vec<&str> = body["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["globex"]);
        assert_eq!(body["live_in_account"], 1);
        assert_eq!(call(&app, Method::GET, &format!("/api/v1/tokens/{acme_id}"), Some(&globex_token), None).await.0, StatusCode::NOT_FOUND);
        let (status, _, body) = call(&app, Method::DELETE, &format!("/api/v1/tokens/{acme_id}"), Some(&globex_token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"], "not_found");
        assert_eq!(me(&app, &acme_token).await.0, StatusCode::OK, "untouched");
    }

    async fn bad_requests_get_a_clear_json_error(app) {
        app.setup_admin().await;
        let token = app.with_token("admin", "ci", "admin").await;
        let post = |body: &'static str| {
            app.client
                .post(app.url("/api/v1/tokens"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        for body in ["{\"name\":", "[]", "{\"name\": 5, \"role\": \"admin\"}", "{\"name\": \"x\", \"role\": \"root\", \"expires_in_days\": 1}"] {
            let response = post(body).await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(response.json::<Value>().await.unwrap()["error"], "bad_request");
        }
        let cases = [
            (json!({"name": "", "expires_in_days": 7, "role": "admin"}), "name"),
            (json!({"name": "x".repeat(10_000), "expires_in_days": 7, "role": "admin"}), "name"),
            (json!({"name": "n", "role": "admin"}), "expires_in_days"),
            (json!({"name": "n", "expires_in_days": 7, "never": true, "role": "admin"}), "expires_in_days"),
            (json!({"name": "n", "expires_in_days": 400, "role": "admin"}), "expires_in_days"),
            (json!({"name": "n", "never": true, "role": "admin"}), "expires_in_days"),
            (json!({"name": "n", "expires_at": "2001-01-01", "role": "admin"}), "expires_at"),
            (json!({"name": "n", "expires_at": "tomorrow", "role": "admin"}), "expires_at"),
            (json!({"name": "ci", "expires_in_days": 7, "role": "admin"}), "name"),
        ];
        for (body, field) in cases {
            let (status, _, answer) = call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(body.clone())).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(answer["field"], field, "{body}");
        }
        let (status, _, body) = call(&app, Method::GET, "/api/v1/tokens?status=bogus", Some(&token), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().unwrap().contains("bogus"));
        assert_eq!(call(&app, Method::GET, "/api/v1/tokens?page=0", Some(&token), None).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(call(&app, Method::DELETE, "/api/v1/tokens/not-an-id", Some(&token), None).await.0, StatusCode::NOT_FOUND);
        let (_, _, listed) = call(&app, Method::GET, "/api/v1/tokens", Some(&token), None).await;
        assert_eq!(listed["total"], 1, "nothing was created");
    }

    async fn a_malformed_id_is_404_only_after_the_token_has_been_checked(app) {
        app.setup_admin().await;
        let reader = app.with_token("admin", "reader", "read_only").await;
        let not_ours = "ptk_".to_owned() + &"A".repeat(40);
        for (method, path, body) in [
            (Method::DELETE, "/api/v1/tokens/not-an-id", None),
            (Method::POST, "/api/v1/tokens/not-an-id/suspend", None),
            (Method::POST, "/api/v1/tokens/not-an-id/regenerate", Some(json!({"overlap_hours": 0}))),
        ] {
            let (status, _, _) = call(&app, method.clone(), path, Some(&not_ours), body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: a bad token is 401 first");
            let (status, _, answer) = call(&app, method.clone(), path, Some(&reader), body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: a reader is 403 first");
            assert_eq!(answer["error"], "insufficient_scope");
        }
        let signed_out = app.new_browser();
        for path in ["/tokens/not-an-id", "/tokens/not-an-id/delete", "/users/not-an-id"] {
            let response = signed_out.get(path).await;
            assert_eq!(response.status().as_u16(), 303, "GET {path} signed out");
            assert_eq!(location(&response), "/login", "GET {path} signed out");
        }
    }

    async fn an_unlisted_method_is_405_with_the_allowed_ones(app) {
        let (status, headers, body) = call(&app, Method::PUT, "/api/v1/tokens", None, None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers["allow"], "GET, POST");
        assert_eq!(body["error"], "method_not_allowed");
        assert_eq!(call(&app, Method::GET, "/api/v1/nothing-here", None, None).await.0, StatusCode::NOT_FOUND);
    }

    async fn the_openapi_description_lists_every_route(app) {
        let response = app.get("/api/v1/openapi.json").await;
        assert_eq!(response.status(), StatusCode::OK);
        let doc: Value = response.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths["/api/v1/me"]["get"].is_object());
        assert!(paths["/api/v1/tokens"]["get"].is_object());
        assert!(paths["/api/v1/tokens"]["post"].is_object());
        assert!(paths["/api/v1/tokens/{id}"]["delete"].is_object());
        assert!(paths["/api/v1/tokens/{id}"]["get"].is_object());
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}
