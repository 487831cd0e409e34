//! Scopes: an administrator registers a service on the Services page, then gives a token read
//! access to it alone through "Only what I choose" on the add form; the list and the token's page
//! say what it reaches, and the list filters by resource. The same with the keyboard alone and
//! with JavaScript off (the scope table shows through CSS alone). And the side navigation, folded
//! behind "Menu" at phone width so that the page itself starts on the first screen.

use fantoccini::key::Key;
use serde_json::{Value, json};

use crate::flows::*;
use crate::harness::Browser;

const SERVICES: &str = "Services";
const USERS: &str = "Users";

/// The side navigation's links, in order, for an administrator.
const SECTIONS: [&str; 7] = [
    "Personal Tokens",
    "Whose token is this?",
    "Users",
    "Services",
    "Token policy",
    "Audit log",
    "Settings",
];

/// On the Services page: adds a service through its form and waits for the page it comes back
/// to, which says so and lists it.
async fn add_service(b: &Browser, name: &str, description: &str) {
    b.fill("#name", name).await;
    b.fill("#description", description).await;
    b.click("form[action='/services'] button[type=submit]")
        .await;
    wait_for_flash(b, &format!("Service {name} added.")).await;
    assert_eq!(b.path().await, "/services");
    assert_eq!(
        flashes(b).await,
        [format!(
            "Service {name} added. Tokens can now be given {name}:read or {name}:write."
        )]
    );
    let cells = b
        .js(&format!(
            "const tr = document.querySelector('tr[data-service={name:?}]');
             return tr ? [...tr.cells].map((td) => td.innerText.trim()) : null;"
        ))
        .await;
    let cells = strings(&cells);
    assert!(
        cells.len() == 5 && cells[0] == name && cells[1] == description,
        "the service's row: {cells:?}"
    );
    assert_eq!(cells[3], "No live token holds it", "{cells:?}");
    assert!(
        b.exists(&format!("button[aria-label='Delete service {name}']"))
            .await,
        "the row has its delete button"
    );
}

/// Whether the "Only what I choose" table is on screen.
async fn scope_table_shown(b: &Browser) -> bool {
    b.find("#scope-table")
        .await
        .is_displayed()
        .await
        .expect("displayed")
}

/// A select's options as `value=label`.
async fn options(b: &Browser, select: &str) -> Vec<String> {
    let found = b
        .js(&format!(
            "return [...document.querySelectorAll({:?})]
               .map((o) => o.value + '=' + o.innerText.trim());",
            format!("{select} option")
        ))
        .await;
    strings(&found)
}

/// The scope table's levels turned off for the role picked, in order.
async fn disabled_scopes(b: &Browser) -> Vec<String> {
    let found = b
        .js("return [...document.querySelectorAll('#scope-table option:disabled')].map((o) => o.value);")
        .await;
    strings(&found)
}

/// The resources of the scope table, in order (from each row's select).
async fn scope_resources(b: &Browser) -> Vec<String> {
    let found = b
        .js(
            "return [...document.querySelectorAll('#scope-table select[name=scopes]')]
               .map((s) => s.id.replace(/^scope-/, ''));",
        )
        .await;
    strings(&found)
}

/// Emulates a 390 px phone, as `Browser::shoot` does for its phone pictures.
async fn phone(b: &Browser) {
    b.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true }),
    )
    .await;
}

/// Back to the browser's own 1280 × 800 window.
async fn desktop(b: &Browser) {
    b.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
        .await;
}

/// What of the side navigation is on screen, by its text: the "Menu" button and each link.
/// Read from the rendering (`checkVisibility` and the box).
async fn nav_on_screen(b: &Browser) -> Vec<String> {
    let found = b
        .js("const nav = document.querySelector('nav.sidenav');
             const shown = (el) => {
               const r = el.getBoundingClientRect();
               return el.checkVisibility({ visibilityProperty: true, opacityProperty: true })
                 && r.width > 0 && r.height > 0;
             };
             return [...nav.querySelectorAll('button, a')]
               .filter(shown)
               .map((el) => el.textContent.replace(/\\s+/g, ' ').trim());")
        .await;
    strings(&found)
}

/// At phone width, the page's own heading starts in the top half of the first screen and ends
/// on it: the folded navigation does not push it down.
async fn heading_on_first_screen(b: &Browser, what: &str) {
    let place = b
        .js("window.scrollTo(0, 0);
             const r = document.querySelector('main h1').getBoundingClientRect();
             return [r.top, r.bottom, window.innerHeight];")
        .await;
    let [top, bottom, screen] = [0usize, 1, 2].map(|i| place[i].as_f64().expect("a number"));
    assert!(
        top >= 0.0 && top < screen / 2.0 && bottom <= screen,
        "{what}: the h1 is at {top}–{bottom} px on a {screen} px high phone screen"
    );
}

/// Names of the rows of the list on screen.
async fn names(b: &Browser) -> Vec<String> {
    rows(b).await.into_iter().map(|row| row.name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_reads_one_service() {
    let t = e2e!();
    set_up(&t).await;

    // The Services page, from the navigation: empty, then with "billing".
    t.click("nav.sidenav a[href='/services']").await;
    t.wait_for_page("/services", SERVICES).await;
    assert_eq!(
        t.attr("nav.sidenav a[href='/services']", "aria-current")
            .await
            .as_deref(),
        Some("page")
    );
    t.check("services-empty").await;
    add_service(&t, "billing", "Invoices and payments").await;
    look(&t, "services").await;

    // The add form: full access unless chosen, and the table only once "Only what I choose" is.
    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    assert_eq!(
        t.prop("#access-full", "checked").await.as_deref(),
        Some("true")
    );
    assert!(
        !scope_table_shown(&t).await,
        "the scope table is hidden while full access is picked"
    );
    t.click("#access-scoped").await;
    assert!(
        scope_table_shown(&t).await,
        "the scope table shows for “Only what I choose”"
    );
    assert_eq!(
        scope_resources(&t).await,
        ["tokens", "users", "audit", "introspect", "billing"]
    );
    assert_eq!(
        options(&t, "#scope-billing").await,
        [
            "=No access",
            "billing:read=Read",
            "billing:write=Read and write"
        ]
    );
    assert_eq!(
        options(&t, "#scope-audit").await,
        ["=No access", "audit:read=Read"],
        "the audit log is read only"
    );
    // The table offers what an administrator may give; the token's own role, picked above it,
    // turns off what that role cannot hold.
    assert_eq!(t.prop("#role", "value").await.as_deref(), Some("read_only"));
    assert_eq!(
        disabled_scopes(&t).await,
        [
            "tokens:write",
            "users:read",
            "users:write",
            "audit:read",
            "introspect:read",
            "billing:write"
        ]
    );
    t.select("#role", "engineer").await;
    assert_eq!(
        disabled_scopes(&t).await,
        ["users:read", "users:write", "audit:read"]
    );
    t.select("#scope-tokens", "tokens:write").await;
    t.select("#role", "read_only").await;
    assert_eq!(
        t.prop("#scope-tokens", "value").await.as_deref(),
        Some(""),
        "a choice the role cannot hold goes back to “No access”"
    );
    assert_eq!(
        t.text("#scope-ceiling-note").await,
        "tokens:write: more than a Read-only token may hold, set back to No access.",
        "and the page says so"
    );
    t.select("#role", "admin").await;
    assert!(disabled_scopes(&t).await.is_empty());
    t.select("#role", "read_only").await;
    look(&t, "new-scoped").await;

    t.fill("#name", "Billing reader").await;
    t.select("#scope-billing", "billing:read").await;
    t.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    t.check("reveal scoped").await;
    revealed(&t).await;
    acknowledge(&t).await;
    let listed = row(&t, "Billing reader").await;
    assert_eq!(
        (listed.role.as_str(), listed.access.as_str()),
        ("Read-only", "billing:read"),
        "{listed:?}"
    );

    // Its page says the same.
    t.click("a.token-link").await;
    t.wait_for_page("/tokens/*", "Billing reader").await;
    t.check("token-detail scoped").await;
    assert_eq!(t.text("dd.access-summary").await, "billing:read");

    // Beside a full-access token, "Reaches: tokens" leaves out the one that only reads billing.
    add_tokens_over_http(&t, &[NewToken::new("Everything", "read_only")]).await;
    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;
    assert_eq!(row(&t, "Everything").await.access, "Full access");
    assert_eq!(
        options(&t, "#filter-scope").await,
        [
            "=Any resource",
            "tokens=tokens",
            "users=users",
            "audit=audit",
            "introspect=introspect",
            "billing=billing"
        ]
    );
    t.select("#filter-scope", "tokens").await;
    t.click("form.filters button[type=submit]").await;
    t.wait_for_page("/tokens?*", LIST).await;
    t.check("list filtered by resource").await;
    assert_eq!(names(&t).await, ["Everything"]);
    assert_eq!(
        t.prop("#filter-scope", "value").await.as_deref(),
        Some("tokens"),
        "the filter stays chosen"
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choose_a_scope_with_the_keyboard() {
    let t = e2e!();
    set_up(&t).await;
    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    t.check("new by keyboard").await;
    assert_eq!(t.focused().await, r#"input#name "Name""#);
    t.type_text("Keyboard scoped").await;

    // The two choices are one Tab stop, the checked one; an arrow key moves to the other and
    // picks it, and the table appears.
    t.tab_to("input#access-full").await;
    t.press(Key::Down).await;
    let here = t.focused().await;
    assert!(
        here.starts_with(r#"input#access-scoped "Only what I choose"#),
        "{here}"
    );
    assert_eq!(
        t.prop("#access-scoped", "checked").await.as_deref(),
        Some("true")
    );
    assert!(scope_table_shown(&t).await);

    // Each resource's select is a Tab stop; Down from "No access" is "Read".
    t.tab_to("select#scope-tokens").await;
    assert_eq!(t.prop("#scope-tokens", "value").await.as_deref(), Some(""));
    t.press(Key::Down).await;
    assert_eq!(
        t.prop("#scope-tokens", "value").await.as_deref(),
        Some("tokens:read")
    );
    t.tab_to(r#"button "Generate token""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    t.check("reveal scoped by keyboard").await;
    t.tab_to(r#"button "OK, I've copied it""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list after scoped by keyboard").await;
    assert_eq!(row(&t, "Keyboard scoped").await.access, "tokens:read");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_and_the_menu_without_javascript() {
    let t = e2e!(javascript: false);
    set_up(&t).await;

    // On a phone, "Menu" opens the sections without scripts: the list is a popover.
    phone(&t).await;
    assert_eq!(nav_on_screen(&t).await, ["Menu"]);
    t.click("nav.sidenav button.nav-menu-button").await;
    let mut open = vec!["Menu"];
    open.extend(SECTIONS);
    assert_eq!(nav_on_screen(&t).await, open);
    desktop(&t).await;

    t.goto("/services").await;
    t.wait_for_page("/services", SERVICES).await;
    t.check("services without JavaScript").await;
    add_service(&t, "billing", "Invoices and payments").await;
    t.check("services after adding without JavaScript").await;

    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    t.check("new without JavaScript").await;
    assert!(!scope_table_shown(&t).await);
    t.click("#access-scoped").await;
    assert!(
        scope_table_shown(&t).await,
        "CSS alone shows the table for “Only what I choose”"
    );
    t.fill("#name", "No script scoped").await;
    t.select("#scope-billing", "billing:read").await;
    t.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    t.check("reveal scoped without JavaScript").await;
    acknowledge(&t).await;
    let listed = row(&t, "No script scoped").await;
    assert_eq!(listed.access, "billing:read", "{listed:?}");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sections_fold_behind_menu_on_a_phone() {
    let t = e2e!();
    set_up(&t).await;

    // Folded: only "Menu", and the list's own heading on the first screen.
    phone(&t).await;
    assert_eq!(nav_on_screen(&t).await, ["Menu"]);
    assert_eq!(
        t.js("return document.querySelector('#sections').matches(':popover-open');")
            .await,
        Value::Bool(false)
    );
    heading_on_first_screen(&t, "the list").await;
    t.check("list on a phone").await;
    t.shoot("nav-folded").await;

    // Enter on "Menu" opens it; its links work.
    phone(&t).await;
    t.tab_to(r#"button "Menu""#).await;
    t.press(Key::Enter).await;
    let mut open = vec!["Menu"];
    open.extend(SECTIONS);
    assert_eq!(nav_on_screen(&t).await, open);
    t.check("menu open on a phone").await;
    t.shoot("nav-open").await;

    phone(&t).await;
    t.click("nav.sidenav a[href='/users']").await;
    t.wait_for_page("/users", USERS).await;
    t.check("users on a phone").await;
    assert_eq!(
        nav_on_screen(&t).await,
        ["Menu"],
        "folded again on the next page"
    );
    heading_on_first_screen(&t, "the users").await;

    // Wide, the links are always there and there is no "Menu".
    desktop(&t).await;
    assert_eq!(nav_on_screen(&t).await, SECTIONS);
    t.finish().await;
}
