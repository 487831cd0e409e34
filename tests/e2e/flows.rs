//! What a person does on the pages, as steps the tests share: set up, sign in and out, add a
//! token, read the list.

use serde_json::Value;

use crate::harness::{ACCOUNT, ADMIN, ADMIN_NAME, Browser, E2e, PASSWORD};

pub const LIST: &str = "Personal Tokens";
pub const NEW: &str = "Add a personal token";
pub const REVEAL: &str = "Copy your new personal token";
pub const GONE: &str = "This token can no longer be displayed";

/// First run: `/` leads to the setup page; create account "Acme" and administrator "admin",
/// who is then signed in on the (empty) list.
pub async fn set_up(b: &Browser) {
    b.goto("/").await;
    b.wait_for_page("/setup", "Set up Personal Tokens").await;
    b.check("setup").await;
    fill_setup(b).await;
    b.click("form[action='/setup'] button[type=submit]").await;
    b.wait_for_page("/tokens", LIST).await;
    b.check("list after setup").await;
}

pub async fn fill_setup(b: &Browser) {
    b.fill("#account", ACCOUNT).await;
    b.fill("#username", ADMIN).await;
    b.fill("#display_name", ADMIN_NAME).await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password_confirm", PASSWORD).await;
}

pub async fn sign_out(b: &Browser) {
    b.click("form[action='/logout'] button[type=submit]").await;
    b.wait_for_page("/login", "Sign in").await;
    b.check("login").await;
}

pub async fn sign_in(b: &Browser, username: &str, password: &str) {
    b.fill("#username", username).await;
    b.fill("#password", password).await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for_page("/tokens", LIST).await;
    b.check("list after sign-in").await;
}

/// From anywhere signed in: the add form, filled and sent; stops on the reveal page.
pub async fn open_reveal(b: &Browser, name: &str, role: &str) {
    b.goto("/tokens/new").await;
    b.wait_for_page("/tokens/new", NEW).await;
    b.fill("#name", name).await;
    b.select("#role", role).await;
    b.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    b.wait_for_page("/tokens/reveal", REVEAL).await;
    b.check("reveal").await;
}

/// The token in the reveal page's field (masked on screen, but the field's value).
pub async fn revealed(b: &Browser) -> String {
    let token = b
        .prop("#token-value", "value")
        .await
        .expect("the field has a value");
    assert!(is_token_format(&token), "{token:?} looks like a token");
    token
}

/// "OK, I've copied it": back on the list.
/// With JavaScript off, a one-time secret (token or password) in `field` stays masked, its Show
/// and Copy buttons stay hidden, and the closed "Show … as text" fallback gives it: returned.
pub async fn secret_without_javascript(b: &Browser, field: &str) -> String {
    assert_eq!(b.attr(field, "type").await.as_deref(), Some("password"));
    for button in ["[data-toggle-secret]", "[data-copy-secret]"] {
        let shown = b
            .find(button)
            .await
            .is_displayed()
            .await
            .expect("displayed");
        assert!(!shown, "{button} is hidden without JavaScript");
    }
    let code = b.find("[data-no-js-reveal] code").await;
    assert!(
        !code.is_displayed().await.expect("displayed"),
        "closed at first"
    );
    b.click("[data-no-js-reveal] summary").await;
    assert!(code.is_displayed().await.expect("displayed"));
    code.text().await.expect("text")
}

pub async fn acknowledge(b: &Browser) {
    b.click("form[action='/tokens/reveal'] button[type=submit]")
        .await;
    b.wait_for_page("/tokens", LIST).await;
    b.check("list after reveal").await;
}

/// Adds a token through the form and returns its secret, back on the list.
pub async fn add_token(b: &Browser, name: &str, role: &str) -> String {
    open_reveal(b, name, role).await;
    let token = revealed(b).await;
    acknowledge(b).await;
    token
}

pub fn is_token_format(token: &str) -> bool {
    token.len() == 44
        && token.starts_with("ptk_")
        && token[4..].chars().all(|c| c.is_ascii_alphanumeric())
}

/// One row of the list, by column.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub token: String,
    pub role: String,
    /// "Full access", or the scopes ("billing:read, tokens:write").
    pub access: String,
    pub issued_by: String,
    pub last_used: String,
    pub expires: String,
    pub status: String,
}

pub async fn rows(b: &Browser) -> Vec<Row> {
    let cells = b
        .js(
            "return [...document.querySelectorAll('table tbody tr')].map((tr) =>
               [...tr.cells].map((td) => td.innerText.trim()));",
        )
        .await;
    cells
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|row| {
            let cell = |i: usize| row[i].as_str().unwrap_or_default().to_owned();
            // The name cell also holds the description on a line of its own.
            let name = cell(0).lines().next().unwrap_or_default().to_owned();
            Row {
                name,
                token: cell(1),
                role: cell(2),
                access: cell(3),
                issued_by: cell(4),
                last_used: cell(6),
                expires: cell(7),
                status: cell(8),
            }
        })
        .collect()
}

pub async fn row(b: &Browser, name: &str) -> Row {
    let rows = rows(b).await;
    let names: Vec<&str> = rows.iter().map(|row| row.name.as_str()).collect();
    rows.iter()
        .find(|row| row.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no row named {name:?}; the list has {names:?}"))
}

/// The flash messages on the page.
pub async fn flashes(b: &Browser) -> Vec<String> {
    let found = b
        .js("return [...document.querySelectorAll('.flash')].map((p) => p.innerText.trim());")
        .await;
    strings(&found)
}

pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// A token to add beside the browser.
pub struct NewToken<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub expires_in: &'a str,
    pub role: &'a str,
}

impl<'a> NewToken<'a> {
    pub fn new(name: &'a str, role: &'a str) -> Self {
        Self {
            name,
            description: "",
            expires_in: "30",
            role,
        }
    }
}

/// Adds tokens by posting the add form beside the browser, with the browser's session cookie,
/// and returns their secrets (read from the reveal page with the cookie each answer sets). Quick,
/// and the browser's own session is unchanged: cookie sessions carry their state.
pub async fn add_tokens_over_http(t: &E2e, tokens: &[NewToken<'_>]) -> Vec<String> {
    let cookie = t.session_cookie().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let form = http
        .get(t.app.url("/tokens/new"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("GET /tokens/new")
        .text()
        .await
        .expect("body");
    let csrf = between(&form, "name=\"csrf_token\" value=\"", "\"").expect("a CSRF field");
    let mut secrets = Vec::new();
    for token in tokens {
        let response = http
            .post(t.app.url("/tokens/new"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("name", token.name),
                ("description", token.description),
                ("expires_in", token.expires_in),
                ("role", token.role),
            ])
            .send()
            .await
            .expect("POST /tokens/new");
        assert_eq!(response.status().as_u16(), 303, "{} created", token.name);
        let with_reveal = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("the answer sets the session cookie")
            .to_owned();
        let reveal = http
            .get(t.app.url("/tokens/reveal"))
            .header("cookie", with_reveal)
            .send()
            .await
            .expect("GET /tokens/reveal")
            .text()
            .await
            .expect("body");
        let secret =
            between(&reveal, "<code class=\"selectable\">", "</code>").expect("the new token");
        assert!(is_token_format(&secret), "{secret:?}");
        secrets.push(secret);
    }
    secrets
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(text[from..to].to_owned())
}

/// Check and screenshot the page we are on, and check that its fields look alike.
pub async fn look(t: &E2e, name: &str) {
    t.check(name).await;
    t.shoot(name).await;
    fields_look_alike(t, name).await;
}

/// Every field on the page has the app's field style (that of a text field): one-line fields and
/// selects all of it, text areas all but the height. Fields marked invalid are left out: their
/// border is red on purpose.
pub async fn fields_look_alike(t: &E2e, name: &str) {
    let odd = t
        .js("const main = document.querySelector('main');
             const reference = document.createElement('input');
             reference.type = 'text';
             main.append(reference);
             const look = (el, height) => {
               const s = getComputedStyle(el);
               return [height ? s.height : '', s.fontSize, s.fontFamily, s.borderTopColor,
                       s.borderTopWidth, s.borderTopLeftRadius, s.backgroundColor].join(' | ');
             };
             const wanted = (height) => look(reference, height);
             const odd = [...main.querySelectorAll('input, select, textarea')]
               .filter((el) => el !== reference)
               .filter((el) => !['hidden', 'checkbox', 'radio'].includes(el.type))
               .filter((el) => el.getAttribute('aria-invalid') !== 'true')
               // A one-time secret is set in monospace on purpose, to tell 0 from O.
               .filter((el) => !el.hasAttribute('data-secret'))
               .map((el) => [el, el.tagName !== 'TEXTAREA'])
               .filter(([el, height]) => look(el, height) !== wanted(height))
               .map(([el, height]) => el.tagName.toLowerCase() + '#' + el.id + '[type=' + el.type
                 + ']: ' + look(el, height) + ' instead of ' + wanted(height));
             reference.remove();
             return odd;")
        .await;
    let odd = strings(&odd);
    assert!(
        odd.is_empty(),
        "{name}: fields without the app's field style:\n{}",
        odd.join("\n")
    );
}

/// What the page's details list says for `term` ("Role", "Status", "Allowed from").
pub async fn detail(b: &Browser, term: &str) -> String {
    let value = b
        .js(&format!(
            "const dt = [...document.querySelectorAll('dl.details dt')]
               .find((dt) => dt.innerText.trim() === {term:?});
             return dt ? dt.nextElementSibling.innerText.trim() : null;"
        ))
        .await;
    value
        .as_str()
        .unwrap_or_else(|| panic!("no {term:?} in the details"))
        .to_owned()
}

/// Waits until the page is loaded with a flash message containing `text` (for forms that come
/// back to the address they were sent from).
pub async fn wait_for_flash(b: &Browser, text: &str) {
    b.wait_until(
        &format!("the flash {text:?}"),
        &format!(
            "return document.readyState === 'complete'
               && [...document.querySelectorAll('.flash')]
                 .some((p) => p.innerText.includes({text:?}));"
        ),
    )
    .await;
}
