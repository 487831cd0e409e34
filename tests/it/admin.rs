//! The administrator's side: users (add, role, deactivate, reactivate), policy, the audit log,
//! and everyone's own settings and password.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::token_helpers::*;

/// The id of `username` on the users page (as its row's `data-user-id`).
pub(crate) async fn user_id(admin: &Browser, username: &str) -> String {
    let page = admin.get_html("/users").await;
    page.split("<tr data-user-id=\"")
        .skip(1)
        .find(|row| row.contains(&format!("@{username}<")))
        .map(|row| row[..row.find('"').expect("id ends")].to_owned())
        .unwrap_or_else(|| panic!("{username} is on the users page"))
}

/// Adds a user through /users/new; the response is the form's answer.
async fn add_user(admin: &Browser, fields: &[(&str, &str)]) -> reqwest::Response {
    admin.post_form("/users/new", "/users/new", fields).await
}

/// The generated password shown on a user's page, if it is shown.
fn shown_password(html: &str) -> Option<String> {
    let marker = "id=\"password-value\" type=\"password\" value=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].to_owned())
}

fn status(response: &reqwest::Response) -> u16 {
    response.status().as_u16()
}

async fn audit_html(admin: &Browser, query: &str) -> String {
    admin.get_html(&format!("/audit{query}")).await
}

/// Rows of the audit page's table.
fn audit_rows(html: &str) -> Vec<&str> {
    html.split("<td data-label=\"Time\">").skip(1).collect()
}

both_backends! {
    async fn non_admins_get_404_on_every_admin_route_and_method(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let admin_id = user_id(&app, "admin").await;
        let reader = add_user_and_sign_in(&app, "Acme", "rita", "Rita Reader", "read_only").await;
        let other = add_user_and_sign_in(&app, "Globex", "gus", "Gus Admin", "admin").await;

        let pages = ["/users".to_owned(), "/users/new".to_owned(), format!("/users/{admin_id}"), "/policy".to_owned(), "/audit".to_owned()];
        let posts = [
            ("/users/new", vec![("username", "mallory"), ("role", "admin"), ("password", "a long enough password")]),
            (&*format!("/users/{admin_id}/role"), vec![("role", "read_only")]),
            (&*format!("/users/{admin_id}/deactivate"), vec![]),
            (&*format!("/users/{admin_id}/reactivate"), vec![]),
            ("/policy", vec![("max_lifetime_days", "1"), ("max_tokens", "1")]),
        ];
        for (who, other_account) in [(&erin, false), (&reader, false), (&other, true)] {
            for page in &pages {
                let response = who.get(page).await;
                // Gus administers Globex: Acme's admin is a user id he cannot know exists.
                let expected = if other_account && !page.contains(&admin_id) { 200 } else { 404 };
                assert_eq!(status(&response), expected, "GET {page}");
            }
            for (action, fields) in &posts {
                if other_account && !action.contains(&admin_id) {
                    continue;
                }
                assert_eq!(status(&post_on(who, action, fields).await), 404, "POST {action}");
                // Without a CSRF token, a non-admin still gets 404 first: nothing says the route
                // exists. Another account's admin gets the CSRF refusal any made-up id gets.
                let bare = who.client.post(who.url(action)).form(fields).send().await.unwrap();
                let made_up = action.replace(&admin_id, "00000000-0000-4000-8000-000000000000");
                let made_up = who.client.post(who.url(&made_up)).form(fields).send().await.unwrap();
                let expected = if other_account { status(&made_up) } else { 404 };
                assert_eq!(status(&bare), expected, "POST {action} without CSRF");
            }
            for method in [Method::PUT, Method::DELETE, Method::PATCH] {
                let response = who.client.request(method.clone(), who.url("/users")).send().await.unwrap();
                if !other_account {
                    assert_eq!(status(&response), 404, "{method} /users");
                }
            }
        }
        let nav = erin.get_html("/tokens").await;
        assert!(!nav.contains("href=\"/users\"") && !nav.contains("href=\"/audit\""), "no admin links for engineers");
        assert!(nav.contains("href=\"/settings\""));
        assert!(app.get_html("/tokens").await.contains("href=\"/users\""), "admins see them");

        // Nothing changed: the admin is still an active administrator, no mallory, policy as before.
        let users = app.get_html("/users").await;
        assert!(!users.contains("mallory"));
        let me = app.get_html(&format!("/users/{admin_id}")).await;
        assert!(me.contains("<dd>Administrator</dd>") && me.contains("pill-active"));
        assert!(app.get_html("/policy").await.contains("value=\"365\""));

        let signed_out = app.new_browser();
        assert_eq!(location(&signed_out.get("/users").await), "/login");
    }

    async fn an_admin_adds_a_user_whose_generated_password_is_shown_once(app) {
        app.setup_admin().await;
        let response = add_user(&app, &[("username", "Bob"), ("display_name", "Bob Builder"), ("email", "bob@example.com"), ("role", "engineer"), ("password", "")]).await;
        assert_eq!(status(&response), 303);
        let bob_page = location(&response);
        assert!(bob_page.starts_with("/users/"), "{bob_page}");

        let first = app.get(&bob_page).await;
        assert_eq!(header(&first, "cache-control"), "no-store");
        let first = first.text().await.unwrap();
        let password = shown_password(&first).expect("the generated password is shown");
        assert!(password.chars().count() >= 20 && password.chars().all(|c| c.is_ascii_alphanumeric()), "{password}");
        assert!(flashes(&first).iter().any(|f| f.contains("Bob Builder (@bob) was added")));
        let again = app.get_html(&bob_page).await;
        assert_eq!(shown_password(&again), None, "shown once only");
        assert!(!again.contains(&password));

        let users = app.get_html("/users").await;
        let row = users.split("<tr data-user-id=").find(|r| r.contains("@bob<")).unwrap();
        assert!(row.contains("bob@example.com") && row.contains("Engineer") && row.contains("Active"), "{row}");

        let bob = app.new_browser();
        assert_eq!(location(&bob.login("bob", &password).await), "/tokens", "bob signs in with it");
        assert!(!bob.get_html("/tokens").await.contains("href=\"/users\""));

        let audit = audit_html(&app, "?action=user_added").await;
        assert_eq!(audit_rows(&audit).len(), 2, "the administrator's own, at setup, and bob's");
        assert!(audit.contains("bob (Engineer)"));
        assert!(!audit.contains(&password), "no password in the audit log");
    }

    async fn the_add_user_form_keeps_what_was_typed_and_says_what_is_wrong(app) {
        app.setup_admin().await;
        let response = add_user(&app, &[("username", "carol"), ("display_name", "Carol"), ("email", "not-an-email"), ("role", "engineer"), ("password", "short")]).await;
        assert_eq!(status(&response), 400);
        let page = response.text().await.unwrap();
        assert!(field_error(&page, "email").is_some_and(|e| e.contains("e-mail address")), "{page}");
        assert!(field_error(&page, "password").is_some_and(|e| e.contains("12 characters")));
        assert!(page.contains("value=\"carol\"") && page.contains("value=\"not-an-email\""), "typed values kept");
        assert!(!page.contains("value=\"short\""), "a typed password is never sent back");

        let response = add_user(&app, &[("username", "carol"), ("role", "superuser")]).await;
        assert_eq!(status(&response), 400);
        assert!(field_error(&response.text().await.unwrap(), "role").is_some());

        let response = add_user(&app, &[("username", "ADMIN"), ("role", "engineer")]).await;
        assert_eq!(status(&response), 409, "usernames are case-insensitive and unique");
        assert!(field_error(&response.text().await.unwrap(), "username").is_some_and(|e| e.contains("taken")));

        let response = add_user(&app, &[("username", "carol"), ("role", "read_only"), ("password", "carol's own long password")]).await;
        assert_eq!(status(&response), 303);
        assert_eq!(shown_password(&app.get_html(&location(&response)).await), None, "a typed password is not shown");
        let carol = app.new_browser();
        assert_eq!(location(&carol.login("carol", "carol's own long password").await), "/tokens");
        assert_eq!(audit_rows(&audit_html(&app, "?action=user_added").await).len(), 2, "setup's and the valid add, no more");
    }

    async fn the_last_active_administrator_can_be_neither_demoted_nor_deactivated(app) {
        app.setup_admin().await;
        let admin_id = user_id(&app, "admin").await;
        for (action, fields) in [("role", vec![("role", "engineer")]), ("deactivate", vec![])] {
            let response = post_on(&app, &format!("/users/{admin_id}/{action}"), &fields).await;
            assert_eq!(status(&response), 409, "{action}");
            let page = response.text().await.unwrap();
            assert!(page.contains("last active administrator"), "{page}");
            assert!(page.contains("Nothing was changed"));
        }
        let page = app.get_html(&format!("/users/{admin_id}")).await;
        assert!(page.contains("<dd>Administrator</dd>") && page.contains("pill-active"));
        assert!(audit_html(&app, "?action=role_changed").await.contains("No events"));

        // With a second administrator, the first may step down.
        add_user(&app, &[("username", "grace"), ("role", "admin"), ("password", "grace's long password")]).await;
        let response = post_on(&app, &format!("/users/{admin_id}/role"), &[("role", "engineer")]).await;
        assert_eq!(location(&response), "/tokens", "no longer an admin: back to the tokens");
        assert_eq!(status(&app.get("/users").await), 404, "and the admin pages are gone at once");

        let grace = app.new_browser();
        grace.login("grace", "grace's long password").await;
        let grace_id = user_id(&grace, "grace").await;
        assert_eq!(status(&post_on(&grace, &format!("/users/{grace_id}/deactivate"), &[]).await), 409);
        assert_eq!(status(&post_on(&grace, &format!("/users/{grace_id}/role"), &[("role", "root")]).await), 400);
    }

    async fn deactivation_signs_out_and_stops_tokens_at_once_and_reactivation_restores_them(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let token = create_token(&erin, "erin-ci", "30", "engineer").await;
        assert_eq!(me(&app, &token).await.0, StatusCode::OK);
        let erin_id = user_id(&app, "erin").await;

        let response = post_on(&app, &format!("/users/{erin_id}/deactivate"), &[]).await;
        assert_eq!(location(&response), format!("/users/{erin_id}"));
        let (status_code, body) = me(&app, &token).await;
        assert_eq!(status_code, StatusCode::UNAUTHORIZED, "the very next API call");
        assert_eq!(body["message"], "The token's owner is no longer active.");
        assert_eq!(location(&erin.get("/tokens").await), "/login", "the very next page load");
        let password = "erin has a long password";
        assert_eq!(status(&erin.login("erin", password).await), 401, "cannot sign in");
        let users = app.get_html("/users").await;
        assert!(users.split("<tr data-user-id=").find(|r| r.contains("@erin<")).unwrap().contains("Deactivated"));

        post_on(&app, &format!("/users/{erin_id}/reactivate"), &[]).await;
        assert_eq!(me(&app, &token).await.0, StatusCode::OK, "the token works again");
        assert_eq!(location(&erin.login("erin", password).await), "/tokens");
        let audit = audit_html(&app, "").await;
        assert!(audit.contains("User deactivated") && audit.contains("User reactivated"));
    }

    async fn a_demotion_lowers_what_tokens_may_do_at_once(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let token = create_token(&erin, "erin-ci", "30", "engineer").await;
        let new = |name: &str| json!({"name": name, "expires_in_days": 7, "role": "read_only"});
        assert_eq!(call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(new("one"))).await.0, StatusCode::CREATED);

        let erin_id = user_id(&app, "erin").await;
        let response = post_on(&app, &format!("/users/{erin_id}/role"), &[("role", "read_only")]).await;
        assert_eq!(status(&response), 303);
        assert!(flashes(&app.get_html(&location(&response)).await).iter().any(|f| f.contains("is now Read-only")));

        assert_eq!(call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(new("two"))).await.0, StatusCode::FORBIDDEN, "the next API call");
        let (code, body) = me(&app, &token).await;
        assert_eq!(code, StatusCode::OK, "reading is still allowed");
        assert_eq!(body["token"]["effective_role"], "read_only", "{body}");
        let page = erin.get_html("/tokens/new").await;
        assert!(!page.contains("value=\"engineer\""), "the next page load offers only Read-only");
        let audit = audit_html(&app, "?action=role_changed").await;
        assert!(audit.contains("erin: Engineer → Read-only"), "{audit}");
    }

    async fn changing_your_password_ends_your_other_sessions_only(app) {
        app.setup_admin().await;
        let laptop = app.new_browser();
        laptop.login("admin", ADMIN_PASSWORD).await;
        let new_password = "a brand new long password";

        let wrong = app.post_form("/settings/password", "/settings/password", &[("current_password", "not it at all"), ("new_password", new_password), ("new_password_confirm", new_password)]).await;
        assert_eq!(status(&wrong), 400);
        assert!(field_error(&wrong.text().await.unwrap(), "current_password").is_some());
        let mismatch = app.post_form("/settings/password", "/settings/password", &[("current_password", ADMIN_PASSWORD), ("new_password", new_password), ("new_password_confirm", "something else entirely")]).await;
        assert_eq!(status(&mismatch), 400);
        assert!(field_error(&mismatch.text().await.unwrap(), "new_password_confirm").is_some());
        assert_eq!(status(&laptop.get("/tokens").await), 200, "failed attempts end nothing");

        let done = app.post_form("/settings/password", "/settings/password", &[("current_password", ADMIN_PASSWORD), ("new_password", new_password), ("new_password_confirm", new_password)]).await;
        assert_eq!(location(&done), "/settings");
        assert_eq!(status(&app.get("/tokens").await), 200, "this session stays");
        assert_eq!(location(&laptop.get("/tokens").await), "/login", "the other session ended");
        let fresh = app.new_browser();
        assert_eq!(status(&fresh.login("admin", ADMIN_PASSWORD).await), 401, "the old password is gone");
        assert_eq!(location(&fresh.login("admin", new_password).await), "/tokens");
        let audit = audit_html(&app, "?action=password_changed").await;
        assert_eq!(audit_rows(&audit).len(), 1);
        assert!(!audit.contains(new_password) && !audit.contains(ADMIN_PASSWORD));
    }

    async fn settings_keep_an_email_and_the_notices_switch(app) {
        app.setup_admin().await;
        let erin = engineer(&app).await;
        let page = erin.get_html("/settings").await;
        assert!(page.contains("name=\"email_notices\" type=\"checkbox\" checked"), "notices on by default");

        let bad = erin.post_form("/settings", "/settings", &[("email", "erin at example"), ("email_notices", "on")]).await;
        assert_eq!(status(&bad), 400);
        let bad = bad.text().await.unwrap();
        assert!(field_error(&bad, "email").is_some() && bad.contains("value=\"erin at example\""));

        let saved = erin.post_form("/settings", "/settings", &[("email", " erin@example.com ")]).await;
        assert_eq!(location(&saved), "/settings");
        let page = erin.get_html("/settings").await;
        assert!(flashes(&page).contains(&"Settings saved.".to_owned()));
        assert!(page.contains("value=\"erin@example.com\""));
        assert!(page.contains("name=\"email_notices\" type=\"checkbox\">"), "unticked box saved as off");
        let users = app.get_html("/users").await;
        assert!(users.contains("erin@example.com"), "the admin sees it");

        erin.post_form("/settings", "/settings", &[("email", ""), ("email_notices", "on")]).await;
        let page = erin.get_html("/settings").await;
        assert!(page.contains("name=\"email\" type=\"email\" value=\"\""), "an address can be removed");
    }

    async fn policy_changes_apply_to_the_next_create_on_the_page_and_the_api(app) {
        app.setup_admin().await;
        let token = create_token(&app, "admin-ci", "90", "admin").await;
        create_token(&app, "second", "30", "read_only").await;

        let response = app.post_form("/policy", "/policy", &[("max_lifetime_days", "7"), ("allow_never", "on"), ("max_tokens", "3")]).await;
        assert_eq!(location(&response), "/policy");
        let page = app.get_html("/policy").await;
        assert!(flashes(&page).iter().any(|f| f.contains("existing tokens keep their expiry")));
        assert!(page.contains("value=\"7\"") && page.contains("value=\"3\"") && page.contains("id=\"allow_never\" name=\"allow_never\" type=\"checkbox\" checked"));

        let form = app.get_html("/tokens/new").await;
        assert!(form.contains("value=\"never\""), "never is offered now");
        assert!(!form.contains("value=\"30\""), "30 days is past the longest lifetime");
        let new = |name: &str, days: u32| json!({"name": name, "expires_in_days": days, "role": "read_only"});
        let (code, _, body) = call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(new("long", 30))).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (code, _, _) = call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(json!({"name": "forever", "never": true, "role": "read_only"}))).await;
        assert_eq!(code, StatusCode::CREATED, "never through the API too");
        assert_eq!(me(&app, &token).await.0, StatusCode::OK, "the 90-day token is untouched");
        assert!(row(&tokens_html(&app, "").await, "admin-ci").contains(&date_in(90)));

        // A limit below today's live count is allowed; it only blocks new tokens.
        let response = app.post_form("/policy", "/policy", &[("max_lifetime_days", "7"), ("max_tokens", "1")]).await;
        assert_eq!(status(&response), 303);
        assert_eq!(usage(&tokens_html(&app, "").await), "3 of 1 tokens");
        assert_eq!(call(&app, Method::POST, "/api/v1/tokens", Some(&token), Some(new("more", 7))).await.0, StatusCode::CONFLICT);
        assert_eq!(me(&app, &token).await.0, StatusCode::OK);
        let audit = audit_html(&app, "?action=policy_changed").await;
        assert_eq!(audit_rows(&audit).len(), 2);
        assert!(audit.contains("longest lifetime 7 days; never expires allowed; limit 3 tokens"));
    }

    async fn the_audit_log_records_every_kind_filters_and_pages(app) {
        app.setup_admin().await;
        app.post_form("/policy", "/policy", &[("max_lifetime_days", "365"), ("max_tokens", "100")]).await;
        let erin = engineer(&app).await;
        let erin_id = user_id(&app, "erin").await;
        let mut secrets = Vec::new();
        for n in 0..52 {
            secrets.push(create_token(&app, &format!("bulk {n}"), "30", "read_only").await);
        }
        let id = row_id(row(&tokens_html(&app, "?q=bulk+0").await, "bulk 0"));
        post_on(&app, &format!("/tokens/{id}/regenerate"), &[]).await;
        let regenerated = reveal(&app).await;
        let id = row_id(rows_named(&tokens_html(&app, "?q=bulk+1&status=active").await, "bulk 1")[0]);
        post_on(&app, &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        add_user(&app, &[("username", "dave"), ("role", "read_only"), ("password", "dave's long password")]).await;
        let dave_id = user_id(&app, "dave").await;
        post_on(&app, &format!("/users/{dave_id}/role"), &[("role", "engineer")]).await;
        post_on(&app, &format!("/users/{dave_id}/deactivate"), &[]).await;
        post_on(&app, &format!("/users/{dave_id}/reactivate"), &[]).await;
        erin.post_form("/settings/password", "/settings/password", &[("current_password", "erin has a long password"), ("new_password", "erin's next password"), ("new_password_confirm", "erin's next password")]).await;
        app.new_browser().login("erin", "wrong password!").await;
        app.new_browser().login("nobody-here", "wrong password!").await;

        for kind in ["login_succeeded", "login_failed", "token_created", "token_regenerated", "token_deleted", "user_added", "role_changed", "user_deactivated", "user_reactivated", "password_changed", "policy_changed"] {
            let page = audit_html(&app, &format!("?action={kind}")).await;
            assert!(!audit_rows(&page).is_empty(), "an event of kind {kind}");
        }
        let failed = audit_html(&app, "?action=login_failed").await;
        assert_eq!(audit_rows(&failed).len(), 1, "a failure for an unknown username belongs to no account");
        assert!(failed.contains("<code>127.0.0.1</code>"), "with the address");

        // Filters combine and survive paging: 52 creates by the admin, 50 a page.
        let admin_id = user_id(&app, "admin").await;
        let first = audit_html(&app, &format!("?actor={admin_id}&action=token_created")).await;
        assert_eq!(audit_rows(&first).len(), 50);
        assert!(first.contains("52 events · page 1 of 2"), "newest first, paged");
        let next = next_href(&first).expect("a next page");
        assert!(next.contains(&format!("actor={admin_id}")) && next.contains("action=token_created") && next.contains("page=2"), "{next}");
        let second = app.get_html(&unescaped(&next)).await;
        assert_eq!(audit_rows(&second).len(), 2);
        assert!(second.contains("bulk 0"), "the oldest last");
        let by_erin = audit_html(&app, &format!("?actor={erin_id}")).await;
        let actions: Vec<&str> = audit_rows(&by_erin).iter().map(|row| row.split("<td data-label=\"Action\">").nth(1).unwrap().split('<').next().unwrap()).collect();
        assert_eq!(actions, ["Password changed", "Signed in"], "erin's own events, newest first");

        let everything = audit_html(&app, "?page=1").await + &audit_html(&app, "?page=2").await;
        for secret in secrets.iter().chain([&regenerated]) {
            assert!(!everything.contains(secret.as_str()) && !everything.contains(&secret[4..]), "no token in the log");
        }
        for password in [ADMIN_PASSWORD, "erin's next password", "dave's long password", "wrong password!"] {
            assert!(!everything.contains(&escaped(password)), "no password in the log");
        }
        let odd = audit_html(&app, "?action=rm+-rf&actor=nobody&page=-4").await;
        assert!(odd.contains("Unknown action filter ignored.") && odd.contains("does not exist"), "odd filters are ignored with a notice");
    }

    async fn user_add_on_the_command_line_takes_an_email(app) {
        app.setup_admin().await;
        let output = app.cli_add_user(&["--account", "Acme", "--username", "fay", "--email", "fay@example.com", "--role", "engineer", "--password-stdin"], "fay's long password");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(app.get_html("/users").await.contains("fay@example.com"));
        let output = app.cli_add_user(&["--account", "Acme", "--username", "gil", "--email", "gil@", "--role", "engineer", "--password-stdin"], "gil's long password");
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("e-mail address"));
    }
}
