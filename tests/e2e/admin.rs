//! The administration pages: the users (list, add, one user's page with the generated password
//! shown once, their role and standing), the token policy and the audit log, and everyone's
//! settings and password. A tour like `pages.rs` (checks and screenshots of every page), then the
//! same tasks with the keyboard alone and with JavaScript off.

use fantoccini::key::Key;

use crate::flows::*;
use crate::harness::{ADMIN_NAME, Browser, E2e, PASSWORD};

const USERS: &str = "Users";
const ADD_USER: &str = "Add a user";
const POLICY: &str = "Token policy";
const AUDIT: &str = "Audit log";
const SETTINGS: &str = "Settings";
const CHANGE_PASSWORD: &str = "Change your password";
const NOT_FOUND: &str = "Page not found";

/// A user's page is headed by their display name and @username.
fn user_heading(display_name: &str, username: &str) -> String {
    format!("{display_name} @{username}")
}

/// The paths the side navigation links to, in order.
async fn nav_links(b: &Browser) -> Vec<String> {
    let links = b
        .js("return [...document.querySelectorAll('nav.sidenav a')]
               .map((a) => new URL(a.href).pathname);")
        .await;
    strings(&links)
}

/// The cells of the page's table, row by row.
async fn table(b: &Browser) -> Vec<Vec<String>> {
    let rows = b
        .js(
            "return [...document.querySelectorAll('table tbody tr')].map((tr) =>
               [...tr.cells].map((td) => td.innerText.trim()));",
        )
        .await;
    rows.as_array().into_iter().flatten().map(strings).collect()
}

/// On a phone-wide screen the page's table is a stack of cards, each cell labelled by its
/// column.
async fn stacks_on_phone(t: &E2e, what: &str) {
    t.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({ "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true }),
    )
    .await;
    let found = t
        .js(
            "const table = document.querySelector('table.stack-on-phone');
             if (!table) return 'no table.stack-on-phone';
             const td = table.querySelector('tbody td');
             const label = getComputedStyle(td, '::before').content;
             return [getComputedStyle(table.tHead).position, getComputedStyle(td).display,
                     label === JSON.stringify(td.dataset.label)];",
        )
        .await;
    t.cdp(
        "Emulation.clearDeviceMetricsOverride",
        serde_json::json!({}),
    )
    .await;
    assert_eq!(
        found,
        serde_json::json!(["absolute", "block", true]),
        "{what}: on a phone the table is stacked cards (hidden head, block cells, labels)"
    );
}

/// Fills the "Add a user" form, leaving the password blank (one is generated).
async fn fill_new_user(b: &Browser, username: &str, display_name: &str, role: &str) {
    b.fill("#username", username).await;
    b.fill("#display_name", display_name).await;
    b.select("#role", role).await;
}

async fn submit_new_user(b: &Browser) {
    b.click("form[action='/users/new'] button[type=submit]")
        .await;
}

/// A generated initial password, from the field of the one-time section.
async fn initial_password(b: &Browser, username: &str) -> String {
    assert_eq!(
        b.text("[data-one-time] h2").await,
        format!("Initial password for @{username}")
    );
    let password = b
        .prop("#password-value", "value")
        .await
        .expect("the field has a value");
    assert!(
        password.chars().count() >= 12 && password.chars().all(|c| c.is_ascii_alphanumeric()),
        "{password:?} looks like a generated password"
    );
    password
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages() {
    let t = e2e!();
    set_up(&t).await;
    assert_eq!(
        nav_links(&t).await,
        [
            "/tokens",
            "/tokens/lookup",
            "/users",
            "/services",
            "/policy",
            "/audit",
            "/settings"
        ]
    );

    // The users, and the form to add one: empty, then sent with a bad e-mail address.
    t.click("nav.sidenav a[href='/users']").await;
    t.wait_for_page("/users", USERS).await;
    assert_eq!(
        t.attr("nav.sidenav a[href='/users']", "aria-current")
            .await
            .as_deref(),
        Some("page")
    );
    t.click("a[href='/users/new']").await;
    t.wait_for_page("/users/new", ADD_USER).await;
    look(&t, "user-new").await;
    assert_eq!(t.prop("#role", "value").await.as_deref(), Some("engineer"));

    fill_new_user(&t, "dana", "Dana Dev", "engineer").await;
    t.fill("#email", "not-an-email").await;
    submit_new_user(&t).await;
    t.wait_until(
        "the e-mail error",
        "return !!document.querySelector('#email-error');",
    )
    .await;
    t.check_error_page("user-new-errors", 400).await;
    t.shoot("user-new-errors").await;
    assert_eq!(t.path().await, "/users/new");
    assert_eq!(
        t.text("#email-error").await,
        "Enter an e-mail address such as name@example.com."
    );
    assert_eq!(
        t.attr("#email", "aria-invalid").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        t.prop("#username", "value").await.as_deref(),
        Some("dana"),
        "what was typed is kept"
    );

    // Corrected, with the password left blank: one is generated and shown on their page once.
    t.fill("#email", "dana@example.com").await;
    submit_new_user(&t).await;
    t.wait_for_page("/users/*", &user_heading("Dana Dev", "dana"))
        .await;
    let dana_page = t.path().await;
    assert_eq!(flashes(&t).await, ["Dana Dev (@dana) was added."]);
    let dana_password = initial_password(&t, "dana").await;
    assert_eq!(
        t.attr("#password-value", "type").await.as_deref(),
        Some("password"),
        "masked"
    );
    assert!(
        !t.exists("[data-no-js-reveal]").await,
        "with scripts, Show and Copy replace the text fallback"
    );
    look(&t, "user-detail-password").await;
    t.click("[data-toggle-secret]").await;
    assert_eq!(
        t.attr("#password-value", "type").await.as_deref(),
        Some("text")
    );
    assert_eq!(detail(&t, "E-mail").await, "dana@example.com");
    assert_eq!(detail(&t, "Role").await, "Engineer");
    assert_eq!(detail(&t, "Status").await, "Active");

    // Only once.
    t.client.refresh().await.expect("reload");
    t.wait_for_page(&dana_page, &user_heading("Dana Dev", "dana"))
        .await;
    assert!(
        !t.exists("#password-value").await,
        "the password is not shown again"
    );
    look(&t, "user-detail").await;

    t.click("a[href='/users']").await;
    t.wait_for_page("/users", USERS).await;
    look(&t, "users").await;
    let users = table(&t).await;
    let dana = users
        .iter()
        .find(|row| row[0].contains("@dana"))
        .unwrap_or_else(|| panic!("no row for dana in {users:?}"));
    assert_eq!(
        dana[1..4],
        ["dana@example.com", "Engineer", "Active"],
        "{dana:?}"
    );
    stacks_on_phone(&t, "users").await;

    t.click("nav.sidenav a[href='/policy']").await;
    t.wait_for_page("/policy", POLICY).await;
    look(&t, "policy").await;

    // The audit log, filtered to the administrator adding people.
    t.click("nav.sidenav a[href='/audit']").await;
    t.wait_for_page("/audit", AUDIT).await;
    t.check("audit").await;
    let admin_id = t
        .js(&format!(
            "return [...document.querySelectorAll('#filter-actor option')]
               .find((o) => o.innerText.trim() === {ADMIN_NAME:?}).value;"
        ))
        .await;
    let admin_id = admin_id.as_str().expect("the administrator is an actor");
    t.select("#filter-actor", admin_id).await;
    t.select("#filter-action", "user_added").await;
    t.click("form[action='/audit'] button[type=submit]").await;
    t.wait_for_page("/audit?*", AUDIT).await;
    look(&t, "audit").await;
    assert_eq!(
        t.prop("#filter-action", "value").await.as_deref(),
        Some("user_added"),
        "the filter stays chosen"
    );
    let events = table(&t).await;
    assert_eq!(
        events.len(),
        2,
        "dana's, and the administrator's own at setup: {events:?}"
    );
    assert_eq!(events[1][3], "admin (Administrator), at setup");
    assert_eq!(
        events[0][1..4],
        [ADMIN_NAME, "User added", "dana (Engineer)"],
        "{events:?}"
    );
    stacks_on_phone(&t, "audit").await;

    // Settings, through the name in the header.
    t.click(".user-menu a.user-name").await;
    t.wait_for_page("/settings", SETTINGS).await;
    look(&t, "settings").await;
    assert_eq!(
        t.prop("#email_notices", "checked").await.as_deref(),
        Some("true"),
        "notices are on until turned off"
    );
    t.fill("#email", "ada@example.com").await;
    t.click("#email_notices").await;
    t.click("form[action='/settings'] button[type=submit]")
        .await;
    wait_for_flash(&t, "Settings saved.").await;
    t.check("settings saved").await;
    assert_eq!(flashes(&t).await, ["Settings saved."]);
    assert_eq!(
        t.prop("#email", "value").await.as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(
        t.prop("#email_notices", "checked").await.as_deref(),
        Some("false")
    );

    t.click("a[href='/settings/password']").await;
    t.wait_for_page("/settings/password", CHANGE_PASSWORD).await;
    look(&t, "settings-password").await;
    t.fill("#current_password", PASSWORD).await;
    t.fill("#new_password", "a brand new passphrase").await;
    t.fill("#new_password_confirm", "a brand new passphrase")
        .await;
    t.click("form[action='/settings/password'] button[type=submit]")
        .await;
    t.wait_for_page("/settings", SETTINGS).await;
    t.check("settings after the password change").await;
    assert_eq!(
        flashes(&t).await,
        ["Password changed. You were signed out everywhere else."]
    );

    // Dana signs in with the generated password: an engineer sees no administration.
    sign_out(&t).await;
    sign_in(&t, "dana", &dana_password).await;
    assert_eq!(nav_links(&t).await, ["/tokens", "/settings"]);
    t.goto("/users").await;
    t.wait_for_page("/users", NOT_FOUND).await;
    t.check_error_page("users as an engineer", 404).await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_a_user_and_change_their_role_with_the_keyboard() {
    let t = e2e!();
    set_up(&t).await;
    t.goto("/users").await;
    t.wait_for_page("/users", USERS).await;

    t.tab_to(r#"a "Add a user""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page("/users/new", ADD_USER).await;
    t.check("user-new by keyboard").await;

    // The username field has focus on arrival.
    assert_eq!(t.focused().await, r#"input#username "Username""#);
    t.type_text("kim").await;
    t.tab_to("input#display_name").await;
    t.type_text("Kim Keys").await;
    t.tab_to("select#role").await;
    assert_eq!(t.prop("#role", "value").await.as_deref(), Some("engineer"));
    t.press(Key::Down).await;
    assert_eq!(t.prop("#role", "value").await.as_deref(), Some("read_only"));
    t.tab_to("input#password").await;
    t.type_text("kim's own long password").await;
    t.tab_to(r#"button "Add user""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page("/users/*", &user_heading("Kim Keys", "kim"))
        .await;
    t.check("user-detail by keyboard").await;
    assert_eq!(flashes(&t).await, ["Kim Keys (@kim) was added."]);
    assert!(
        !t.exists("#password-value").await,
        "a typed password is not shown back"
    );
    assert_eq!(detail(&t, "Role").await, "Read-only");

    // Up from read-only is engineer.
    t.tab_to("select#role").await;
    assert_eq!(t.prop("#role", "value").await.as_deref(), Some("read_only"));
    t.press(Key::Up).await;
    assert_eq!(t.prop("#role", "value").await.as_deref(), Some("engineer"));
    t.tab_to(r#"button "Change role""#).await;
    t.press(Key::Enter).await;
    wait_for_flash(&t, "Kim Keys is now Engineer.").await;
    t.check("role changed by keyboard").await;
    assert_eq!(detail(&t, "Role").await, "Engineer");
    assert_eq!(t.prop("#role", "value").await.as_deref(), Some("engineer"));

    // Deactivate with Space, and the button becomes "Reactivate".
    t.tab_to(r#"button "Deactivate Kim Keys""#).await;
    t.press(Key::Space).await;
    wait_for_flash(&t, "Kim Keys was deactivated").await;
    t.check("deactivated by keyboard").await;
    assert_eq!(detail(&t, "Status").await, "Deactivated");
    assert!(
        t.exists("form[action$='/reactivate'] button[type=submit]")
            .await
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_a_user_and_change_the_policy_without_javascript() {
    let t = e2e!(javascript: false);
    set_up(&t).await;

    t.goto("/users/new").await;
    t.wait_for_page("/users/new", ADD_USER).await;
    t.check("user-new without JavaScript").await;
    fill_new_user(&t, "nojs", "No Script", "read_only").await;
    submit_new_user(&t).await;
    t.wait_for_page("/users/*", &user_heading("No Script", "nojs"))
        .await;
    t.check("user-detail without JavaScript").await;

    // Masked, no Show or Copy button (they need scripts), and the password by hand.
    let password = initial_password(&t, "nojs").await;
    assert_eq!(
        t.text("[data-no-js-reveal] summary").await,
        "Show the password as text"
    );
    assert_eq!(
        secret_without_javascript(&t, "#password-value").await,
        password
    );

    // The policy: 30 days at most, "never" allowed, 5 tokens.
    t.goto("/policy").await;
    t.wait_for_page("/policy", POLICY).await;
    t.check("policy without JavaScript").await;
    assert_eq!(
        t.prop("#max_lifetime_days", "value").await.as_deref(),
        Some("365")
    );
    assert_eq!(
        t.prop("#allow_never", "checked").await.as_deref(),
        Some("false")
    );
    t.fill("#max_lifetime_days", "30").await;
    t.click("#allow_never").await;
    t.fill("#max_tokens", "5").await;
    t.click_to_load("form[action='/policy'] button[type=submit]")
        .await;
    t.wait_for_page("/policy", POLICY).await;
    t.check("policy saved without JavaScript").await;
    let saved = flashes(&t).await;
    assert!(
        saved.len() == 1 && saved[0].starts_with("Policy saved."),
        "{saved:?}"
    );
    assert_eq!(
        t.prop("#max_lifetime_days", "value").await.as_deref(),
        Some("30")
    );
    assert_eq!(
        t.prop("#allow_never", "checked").await.as_deref(),
        Some("true")
    );
    assert_eq!(t.prop("#max_tokens", "value").await.as_deref(), Some("5"));

    // New tokens follow it.
    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    let choices = t
        .js("return [...document.querySelectorAll('#expires_in option')].map((o) => o.value);")
        .await;
    assert_eq!(strings(&choices), ["1", "7", "15", "30", "custom", "never"]);

    // The password read by hand signs them in.
    sign_out(&t).await;
    sign_in(&t, "nojs", &password).await;
    assert_eq!(nav_links(&t).await, ["/tokens", "/settings"]);
    t.finish().await;
}

/// A service account, added with the form, and its first token made from its page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_and_its_first_token() {
    let t = e2e!();
    set_up(&t).await;
    t.goto("/users/new").await;
    t.wait_for_page("/users/new", ADD_USER).await;
    t.click("input[name=kind][value=service]").await;
    fill_new_user(&t, "deploy-bot", "Deploy bot", "engineer").await;
    submit_new_user(&t).await;
    let heading = format!(
        "{} Service account",
        user_heading("Deploy bot", "deploy-bot")
    );
    t.wait_for_page("/users/*", &heading).await;
    assert_eq!(
        flashes(&t).await,
        ["Service account Deploy bot (@deploy-bot) was added. Add its tokens below."]
    );
    assert!(
        !t.exists("#password-value").await,
        "no password, so none is shown"
    );
    look(&t, "user-detail-service").await;

    t.click("a[href^='/tokens/new?for=']").await;
    t.wait_for_page("/tokens/new?for=*", "Add a token for Deploy bot")
        .await;
    look(&t, "token-new-service").await;
    t.fill("#name", "nightly deploy").await;
    t.select("#role", "engineer").await;
    t.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    let token = revealed(&t).await;
    assert_eq!(t.app.api_me(&token).await, 200);
    acknowledge(&t).await;
    let listed = row(&t, "nightly deploy").await;
    assert_eq!(listed.issued_by, "Deploy bot");
    t.finish().await;
}
