//! Helpers for the Personal Tokens pages: creating tokens through the form, reading the list's
//! rows, the one-time reveal, field errors and the pager, and planting tokens in the past.

use chrono::TimeDelta;
use personal_tokens::domain::User;
use personal_tokens::domain::expiry::ExpiryChoice;
use personal_tokens::domain::secret::PlainToken;
use personal_tokens::domain::time;
use personal_tokens::domain::tokens::{NewTokenInput, NewTokenRequest};
use personal_tokens::domain::users::{NewUser, NewUserInput};
use personal_tokens::store::tokens;
use personal_tokens::store::{AnyConnection, DatabaseUrl, Store, StoreResult, users};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use crate::helpers::*;

/// Escapes text the way askama does, to find typed values in a page.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The reverse of `escaped` (and of the named entities), for reading hrefs back.
pub fn unescaped(html: &str) -> String {
    html.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// `ptk_` and 40 characters of `[A-Za-z0-9]`: what secret scanners match.
pub fn is_token_format(token: &str) -> bool {
    token.len() == 44
        && token.starts_with("ptk_")
        && token[4..].chars().all(|c| c.is_ascii_alphanumeric())
}

/// Posts the add form with the CSRF token of `/tokens/new`.
pub async fn post_new_token(browser: &Browser, fields: &[(&str, &str)]) -> Response {
    browser
        .post_form("/tokens/new", "/tokens/new", fields)
        .await
}

/// Posts the add form with a CSRF token already read (keeps loops fast).
pub async fn post_new_token_with(
    browser: &Browser,
    csrf: &str,
    fields: &[(&str, &str)],
) -> Response {
    let mut body: Vec<(&str, &str)> = vec![("csrf_token", csrf)];
    body.extend_from_slice(fields);
    browser
        .client
        .post(browser.url("/tokens/new"))
        .form(&body)
        .send()
        .await
        .expect("POST /tokens/new")
}

/// The clear token shown by a reveal page, if it shows one.
pub fn revealed_token(html: &str) -> Option<String> {
    select_text(html, "code.selectable")
}

/// Opens the one-time reveal and returns the clear token it shows.
pub async fn reveal(browser: &Browser) -> String {
    let page = browser.get_html("/tokens/reveal").await;
    let token = revealed_token(&page).expect("the reveal page shows the new token");
    assert!(is_token_format(&token), "{token:?} looks like a token");
    token
}

/// Creates a token through the form, asserts it was accepted, and returns the revealed token.
pub async fn create_token(browser: &Browser, name: &str, expires_in: &str, role: &str) -> String {
    let response = post_new_token(
        browser,
        &[
            ("name", name),
            ("description", ""),
            ("expires_in", expires_in),
            ("expires_at", ""),
            ("role", role),
        ],
    )
    .await;
    let status = response.status().as_u16();
    let target = location(&response);
    assert_eq!(
        status,
        303,
        "creating {name:?} was refused: {}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(target, "/tokens/reveal");
    reveal(browser).await
}

pub async fn tokens_html(browser: &Browser, query: &str) -> String {
    let response = browser.get(&format!("/tokens{query}")).await;
    assert_eq!(response.status().as_u16(), 200, "GET /tokens{query}");
    response.text().await.expect("body")
}

/// Every `<tr data-token-id=…>…</tr>` of the list, in page order.
pub fn rows(html: &str) -> Vec<&str> {
    html.split("<tr data-token-id=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find("</tr>").expect("row ends")])
        .collect()
}

fn name_cell(name: &str) -> String {
    format!("<span class=\"token-name\">{}</span>", escaped(name))
}

/// The token names of the list, in page order, as shown (escaped).
pub fn row_names(html: &str) -> Vec<String> {
    rows(html)
        .into_iter()
        .map(|row| {
            let marker = "<span class=\"token-name\">";
            let start = row.find(marker).expect("name cell") + marker.len();
            let end = row[start..].find("</span>").expect("name ends") + start;
            row[start..end].to_owned()
        })
        .collect()
}

/// The rows showing a token named `name`.
pub fn rows_named<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let cell = name_cell(name);
    rows(html)
        .into_iter()
        .filter(|row| row.contains(&cell))
        .collect()
}

/// The one row named `name`.
pub fn row<'a>(html: &'a str, name: &str) -> &'a str {
    let found = rows_named(html, name);
    assert_eq!(found.len(), 1, "exactly one row named {name:?}");
    found[0]
}

/// A row's token id (its `data-token-id`).
pub fn row_id(row: &str) -> String {
    row[..row.find('"').expect("id ends")].to_owned()
}

/// The status a row's pill shows ("Active", "Expired", "Deleted").
pub fn row_status(row: &str) -> String {
    // A row read on its own is parsed inside the table it came from.
    let table = format!("<table><tr data-token-id=\"{row}</tr></table>");
    select_text(&table, "span.pill").expect("status pill")
}

/// The usage line, e.g. "1 of 50 tokens".
pub fn usage(html: &str) -> String {
    select_text(html, "span.usage#usage").expect("usage line")
}

/// The message shown at a form field, if any.
pub fn field_error(html: &str, field: &str) -> Option<String> {
    select_text(html, &format!(r#"p.field-error[id="{field}-error"]"#))
}

/// The pager's "Next" link, unescaped.
pub fn next_href(html: &str) -> Option<String> {
    select_attr(html, r#"a[rel="next"]"#, "href")
}

/// The "!" badge on the Personal Tokens link.
pub fn has_expiry_badge(html: &str) -> bool {
    html.contains("<span class=\"badge\"")
}

/// The flash messages of a page.
pub fn flashes(html: &str) -> Vec<String> {
    select_all(html, "p.flash", None)
        .into_iter()
        .map(|(text, _)| text)
        .collect()
}

/// A person made through the store, for a test that is about something else: their password
/// is "`username` has a long password".
pub struct TestUser {
    pub username: String,
    pub password: String,
}

impl TestApp {
    /// Adds `username` with `role` to `account` (made when new) through the store, as the setup
    /// of a test that is not about adding people; `user add` and `/users/new` have tests of
    /// their own.
    pub async fn with_user(
        &self,
        account: &str,
        username: &str,
        display_name: &str,
        role: &str,
    ) -> TestUser {
        let password = format!("{username} has a long password");
        let new = NewUser::parse(&NewUserInput {
            account,
            username,
            display_name,
            display_name_required: false,
            email: "",
            role,
            password: &password,
            password_confirm: None,
            blank_password_is_generated: false,
            kind: "",
        })
        .expect("a valid user");
        let url = DatabaseUrl::parse(&self.database_url).expect("database URL");
        tokio::task::spawn_blocking(move || {
            let hash = personal_tokens::auth::password::hash(new.password_text()).expect("hash");
            let store = Store::open(&url, 1).expect("store opens");
            store
                .run_blocking(|conn| users::add_user(conn, &new, &hash, time::now()))
                .expect("user added");
        })
        .await
        .expect("the store job finishes");
        TestUser {
            username: username.to_owned(),
            password,
        }
    }

    /// A token of `username`'s made through the store (30 days, `role`, full access), as the
    /// setup of a test that is not about the add form. Returns the token in clear.
    pub async fn with_token(&self, username: &str, name: &str, role: &str) -> String {
        self.with_scoped_token(username, name, role, None).await
    }

    /// As `with_token`, limited to `scopes` when given (`None`: full access).
    pub async fn with_scoped_token(
        &self,
        username: &str,
        name: &str,
        role: &str,
        scopes: Option<&[&str]>,
    ) -> String {
        let (name, role) = (name.to_owned(), role.to_owned());
        let (access, scopes) = match scopes {
            None => (String::new(), Vec::new()),
            Some(list) => (
                "scoped".to_owned(),
                list.iter().map(|s| (*s).to_owned()).collect(),
            ),
        };
        as_user(self, username, move |conn, user| {
            let input = NewTokenInput {
                name,
                description: String::new(),
                expiry: ExpiryChoice::parse("30", ""),
                role,
                allowed_ips: String::new(),
                access,
                scopes,
            };
            let now = time::now();
            let request = NewTokenRequest::parse(&input, user.role, now).expect("a valid token");
            let secret = PlainToken::generate();
            let outcome = tokens::create_token(conn, &user, &user, &request, &secret, now, None)?;
            assert!(outcome.is_ok(), "the token is made: {outcome:?}");
            Ok(secret.expose().to_owned())
        })
        .await
    }

    /// `user`, signed in with a browser of their own.
    pub async fn signed_in(&self, user: &TestUser) -> Browser {
        let browser = self.new_browser();
        let response = browser.login(&user.username, &user.password).await;
        assert_eq!(location(&response), "/tokens", "{} signs in", user.username);
        browser
    }
}

/// Adds a user through the store (`TestApp::with_user`) and signs them in with a browser of
/// their own.
pub async fn add_user_and_sign_in(
    app: &TestApp,
    account: &str,
    username: &str,
    display_name: &str,
    role: &str,
) -> Browser {
    let user = app.with_user(account, username, display_name, role).await;
    app.signed_in(&user).await
}

/// An engineer "erin" ("Erin Engineer") of account Acme, signed in.
pub async fn engineer(app: &TestApp) -> Browser {
    add_user_and_sign_in(app, "Acme", "erin", "Erin Engineer", "engineer").await
}

/// Creates a token for `username` directly in the store, as if it had been created
/// `days_ago` days ago with a lifetime of `expires_in` days (one of the presets). Returns the
/// token in clear.
pub async fn plant_token_in_the_past(
    app: &TestApp,
    username: &str,
    name: &str,
    days_ago: i64,
    expires_in: &str,
) -> String {
    let (name, expires_in) = (name.to_owned(), expires_in.to_owned());
    as_user(app, username, move |conn, user| {
        let input = NewTokenInput {
            name,
            description: String::new(),
            expiry: ExpiryChoice::parse(&expires_in, ""),
            role: "read_only".into(),
            allowed_ips: String::new(),
            access: String::new(),
            scopes: Vec::new(),
        };
        let then = time::now() - TimeDelta::days(days_ago);
        let secret = PlainToken::generate();
        let request = NewTokenRequest::parse(&input, user.role, then).expect("a valid token");
        let outcome = tokens::create_token(conn, &user, &user, &request, &secret, then, None)?;
        assert!(outcome.is_ok(), "planted");
        Ok(secret.expose().to_owned())
    })
    .await
}

/// Runs `job` on the app's database, as `username`, off the async runtime.
async fn as_user<T: Send + 'static>(
    app: &TestApp,
    username: &str,
    job: impl FnOnce(&mut AnyConnection, User) -> StoreResult<T> + Send + 'static,
) -> T {
    let url = DatabaseUrl::parse(&app.database_url).expect("database URL");
    let username = username.to_owned();
    tokio::task::spawn_blocking(move || {
        let store = Store::open(&url, 1).expect("store opens");
        store
            .run_blocking(|conn| {
                let user = users::find_user_by_username(conn, &username)?
                    .expect("user exists")
                    .user;
                job(conn, user)
            })
            .expect("the store does what the test asks")
    })
    .await
    .expect("the store job finishes")
}

/// Posts `fields` to `action` with the CSRF token of the list page (the session's token).
pub async fn post_on(browser: &Browser, action: &str, fields: &[(&str, &str)]) -> Response {
    browser.post_form("/tokens", action, fields).await
}

/// The `value` of the `<option>` labelled `label` (e.g. a user id in the "Issued by" filter).
pub fn option_value(html: &str, label: &str) -> Option<String> {
    select_all(html, "option", Some("value"))
        .into_iter()
        .find(|(text, _)| text == label)
        .and_then(|(_, value)| value)
}

/// The last four characters of a clear token, as the masked form shows them.
pub fn masked(token: &str) -> String {
    format!("ptk_…{}", &token[token.len() - 4..])
}

/// A date `days` from today (UTC), as the pages and the date field write it.
pub fn date_in(days: i64) -> String {
    (chrono::Utc::now().date_naive() + TimeDelta::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// One API call: status, headers and the JSON body (`Null` when there is none).
pub async fn call(
    app: &Browser,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

pub async fn me(app: &Browser, token: &str) -> (StatusCode, Value) {
    let (status, _, body) = call(app, Method::GET, "/api/v1/me", Some(token), None).await;
    (status, body)
}

/// `count` read-only tokens for `username`, made through the store (a list long enough to page
/// through, in a second or two), with the account's limit raised to fit them.
pub async fn plant_many_tokens(app: &TestApp, username: &str, count: u32) {
    as_user(app, username, move |conn, user| {
        tokens::set_max_tokens(conn, &user.account_id, 10_000)?;
        for n in 0..count {
            let input = NewTokenInput {
                name: format!("bulk-{n:05}"),
                description: String::new(),
                expiry: ExpiryChoice::parse("30", ""),
                role: "read_only".into(),
                allowed_ips: String::new(),
                access: String::new(),
                scopes: Vec::new(),
            };
            let secret = PlainToken::generate();
            let now = time::now();
            let request = NewTokenRequest::parse(&input, user.role, now).expect("a valid token");
            let outcome = tokens::create_token(conn, &user, &user, &request, &secret, now, None)?;
            assert!(outcome.is_ok(), "planted");
        }
        Ok(())
    })
    .await
}

/// Adds a service on /services as the signed-in administrator; the answer is the form's.
pub async fn add_service(admin: &Browser, name: &str, description: &str) -> Response {
    admin
        .post_form(
            "/services",
            "/services",
            &[("name", name), ("description", description)],
        )
        .await
}

/// Adds the service `name` as the setup of a test that is not about the Services page.
pub async fn with_service(admin: &Browser, name: &str) {
    let response = add_service(admin, name, "").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "service {name} added"
    );
}
