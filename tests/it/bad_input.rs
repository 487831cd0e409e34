//! Every field of every form, and every query parameter of the paged lists, gets the same nasty
//! inputs on both backends: each answer is a page (4xx with a message, or a redirect when the
//! value is fine), never a 5xx.

use crate::helpers::*;
use crate::token_helpers::*;

fn nasty() -> Vec<String> {
    vec![
        "\0".into(),
        "a\0b".into(),
        "tab\tbell\u{7}escape\u{1b}".into(),
        "x".repeat(10_000),
        "🔑🚀 ünïcödé".into(),
        "<script>alert(1)</script>".into(),
        "'; DROP TABLE users; --".into(),
        "-1".into(),
        "99999999999999999999".into(),
        "1e309".into(),
        " ".into(),
        "\u{202e}evil\u{202c}".into(),
    ]
}

/// Sends `fields` with each nasty value in turn in `field`, and checks every answer.
async fn try_field(
    browser: &Browser,
    form_page: &str,
    action: &str,
    fields: &[(&str, &str)],
    field: &str,
) {
    for value in nasty() {
        let body: Vec<(&str, &str)> = fields
            .iter()
            .map(|(name, default)| {
                (
                    *name,
                    if *name == field {
                        value.as_str()
                    } else {
                        *default
                    },
                )
            })
            .collect();
        let response = browser.post_form(form_page, action, &body).await;
        let status = response.status().as_u16();
        let shown: String = value.chars().take(12).collect();
        assert!(
            (300..500).contains(&status),
            "POST {action} {field}={shown:?} answered {status}"
        );
        if status >= 400 {
            let page = response.text().await.unwrap();
            assert!(
                page.contains("<h1>") || page.contains("Forbidden"),
                "POST {action} {field}={shown:?}: a page that says what is wrong"
            );
        }
    }
}

async fn try_all(browser: &Browser, form_page: &str, action: &str, fields: &[(&str, &str)]) {
    for (field, _) in fields {
        try_field(browser, form_page, action, fields, field).await;
    }
}

async fn try_query(browser: &Browser, path: &str, params: &[&str]) {
    for param in params {
        for value in nasty() {
            let url = format!(
                "{}?{}",
                path,
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair(param, &value)
                    .finish()
            );
            let status = browser.get(&url).await.status().as_u16();
            assert!(status < 500, "GET {path} {param}=… answered {status}");
        }
    }
}

both_backends! {
    async fn every_form_refuses_bad_text_with_a_message_and_never_a_5xx(app) {
        // Setup, before any user exists: a mismatched confirmation keeps every attempt a refusal.
        try_all(&app, "/setup", "/setup", &[("account", "Acme"), ("username", "admin"), ("display_name", "Ada"), ("password", "long enough password"), ("password_confirm", "does not match it")]).await;
        app.setup_admin().await;
        let sign_in = app.new_browser();
        try_all(&sign_in, "/login", "/login", &[("username", "admin"), ("password", "not the password")]).await;

        try_all(&app, "/tokens/new", "/tokens/new", &[("name", "bad input"), ("description", ""), ("expires_in", "custom"), ("expires_at", "2031-02-30"), ("role", "read_only")]).await;
        create_token(&app, "victim", "30", "read_only").await;
        let id = row_id(row(&tokens_html(&app, "").await, "victim"));
        try_all(&app, "/tokens", &format!("/tokens/{id}/delete"), &[("confirm", "nope")]).await;

        try_all(&app, "/users/new", "/users/new", &[("username", "someone"), ("display_name", "Someone"), ("email", "someone@example.com"), ("role", "engineer"), ("password", "short")]).await;
        let admin_id = {
            let page = app.get_html("/users").await;
            let row = page.split("<tr data-user-id=\"").nth(1).unwrap().to_owned();
            row[..row.find('"').unwrap()].to_owned()
        };
        try_all(&app, "/users", &format!("/users/{admin_id}/role"), &[("role", "admin")]).await;
        try_all(&app, "/policy", "/policy", &[("max_lifetime_days", "365"), ("allow_never", "on"), ("max_tokens", "50")]).await;
        try_all(&app, "/settings", "/settings", &[("email", "ada@example.com"), ("email_notices", "on")]).await;
        try_all(&app, "/settings/password", "/settings/password", &[("current_password", "not the password"), ("new_password", "a new long password"), ("new_password_confirm", "a new long password")]).await;

        try_query(&app, "/tokens", &["issuer", "role", "status", "q", "page"]).await;
        try_query(&app, "/audit", &["actor", "action", "page"]).await;
        for path in ["/users/%00", "/users/1%20OR%201=1", "/tokens/%F0%9F%94%91/delete", &format!("/users/{}", "9".repeat(5000))] {
            let status = app.get(path).await.status().as_u16();
            assert_eq!(status, 404, "GET {path}");
        }

        // Still usable after all that: the admin is signed in and an administrator.
        let users = app.get_html("/users").await;
        assert!(users.contains("@admin<"), "{users}");
    }
}
