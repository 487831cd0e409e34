//! One token's story on its own page, `/tokens/{id}`: the details, its requests per day as an
//! inline SVG chart (and a table under it), the addresses it was used from and its audit trail;
//! suspending and resuming it; regenerating it with an overlap, while the old secret keeps
//! working. A tour with checks and screenshots as in `admin.rs`, then the same page with the
//! keyboard alone and with JavaScript off.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use fantoccini::key::Key;
use personal_tokens::domain::time;

use crate::flows::*;
use crate::harness::Browser;

/// How long request counts may take to reach the page (the app flushes them every 50 ms here).
const ACTIVITY_WAIT: Duration = Duration::from_secs(5);

/// The cells of the tables matching `css`, row by row.
async fn cells(b: &Browser, css: &str) -> Vec<Vec<String>> {
    let rows = b
        .js(&format!(
            "return [...document.querySelectorAll({:?})].map((tr) =>
               [...tr.cells].map((td) => td.innerText.trim()));",
            format!("{css} tbody tr")
        ))
        .await;
    rows.as_array().into_iter().flatten().map(strings).collect()
}

/// The section of the token's page headed `heading` ("Addresses", "Audit trail"), as CSS.
fn section(heading: &str) -> String {
    let id = heading.to_lowercase().replace(' ', "-");
    format!("section[data-e2e={id:?}]")
}

/// Marks each section of the token's page with its heading, so `section` can find its table.
async fn mark_sections(b: &Browser) {
    b.js(
        "for (const s of document.querySelectorAll('main section')) {
            const h = s.querySelector('h2');
            if (h) s.dataset.e2e = h.innerText.trim().toLowerCase().replace(/ /g, '-');
          }",
    )
    .await;
}

/// The id of the token named `name` in the list on screen (the first such row).
async fn token_id(b: &Browser, name: &str) -> String {
    let id = b
        .js(&format!(
            "const tr = [...document.querySelectorAll('tr[data-token-id]')]
               .find((tr) => tr.querySelector('.token-name').innerText.trim() === {name:?});
             return tr ? tr.dataset.tokenId : null;"
        ))
        .await;
    id.as_str()
        .unwrap_or_else(|| panic!("no row named {name:?} in the list"))
        .to_owned()
}

/// From the list: the token's name links to its page.
async fn open_from_list(b: &Browser, id: &str, name: &str) {
    b.click(&format!("tr[data-token-id='{id}'] a.token-link"))
        .await;
    b.wait_for_page(&format!("/tokens/{id}"), name).await;
}

/// Reloads the token's page until its activity summary starts with `summary` and the token's
/// address shows (both are written a moment after the requests).
async fn wait_for_activity(b: &Browser, name: &str, summary: &str) {
    let started = Instant::now();
    loop {
        let path = b.path().await;
        b.wait_for_page(&path, name).await;
        let shown = b.text("#activity-summary").await;
        mark_sections(b).await;
        let address = b
            .js(&format!(
                "return [...document.querySelectorAll('{} td code')]
                   .some((c) => c.innerText.trim() === '127.0.0.1');",
                section("Addresses")
            ))
            .await;
        if shown.starts_with(summary) && address == true {
            return;
        }
        if started.elapsed() > ACTIVITY_WAIT {
            panic!("after {ACTIVITY_WAIT:?} the summary is {shown:?} (address shown: {address})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        b.client.refresh().await.expect("reload");
    }
}

/// The titles of the chart's bars.
async fn bar_titles(b: &Browser) -> Vec<String> {
    strings(
        &b.js(
            "return [...document.querySelectorAll('svg.activity-chart rect.activity-bar')]
                 .map((r) => r.querySelector('title').textContent.trim());",
        )
        .await,
    )
}

/// The contrast ratio of the chart's first bar against the card it is drawn on (WCAG 1.4.11
/// asks 3:1 of graphics needed to understand the content).
async fn bar_contrast(b: &Browser) -> f64 {
    b.js(
        "const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
         const lum = ([r, g, b]) => {
           const c = [r, g, b].map((v) => {
             v /= 255;
             return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
           });
           return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
         };
         const bar = document.querySelector('rect.activity-bar');
         const card = bar.closest('.card');
         const [a, b] = [lum(rgb(getComputedStyle(bar).fill)),
                         lum(rgb(getComputedStyle(card).backgroundColor))];
         return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);",
    )
    .await
    .as_f64()
    .expect("a ratio")
}

/// The chart is drawn: an SVG of some size on screen, named by the summary above it.
async fn chart_is_drawn(b: &Browser) {
    let found = b
        .js("const svg = document.querySelector('svg.activity-chart');
             const box = svg.getBoundingClientRect();
             return [svg.getAttribute('role'), svg.getAttribute('aria-labelledby'),
                     box.width > 100 && box.height > 50];")
        .await;
    assert_eq!(
        found,
        serde_json::json!(["img", "activity-summary", true]),
        "the chart is an image named by the summary, drawn on screen"
    );
}

/// Opens "Requests per day" under the chart; its table is hidden until then.
async fn open_requests_per_day(b: &Browser) {
    assert_eq!(b.text("details summary").await, "Requests per day");
    let table = b.find("details table").await;
    assert!(
        !table.is_displayed().await.expect("displayed"),
        "closed at first"
    );
    b.click("details summary").await;
    assert!(table.is_displayed().await.expect("displayed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_page() {
    let t = e2e!();
    set_up(&t).await;
    let secrets = add_tokens_over_http(
        &t,
        &[
            NewToken {
                description: "Pushes releases from the main branch to production",
                ..NewToken::new("CI deploys", "engineer")
            },
            NewToken::new("Grafana", "read_only"),
        ],
    )
    .await;
    let token = &secrets[0];
    for _ in 0..3 {
        assert_eq!(t.app.api_me(token).await, 200);
    }
    let today = time::now().date().to_string();

    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;
    let id = token_id(&t, "CI deploys").await;
    open_from_list(&t, &id, "CI deploys").await;
    wait_for_activity(&t, "CI deploys", "3 requests in the last 90 days").await;
    look(&t, "token-detail").await;
    assert_eq!(
        t.text("#activity-summary").await,
        format!("3 requests in the last 90 days (3 in the last 30), last on {today}.")
    );
    assert_eq!(detail(&t, "Name").await, "CI deploys");
    assert_eq!(
        detail(&t, "Description").await,
        "Pushes releases from the main branch to production"
    );
    assert_eq!(detail(&t, "Role").await, "Engineer");
    assert_eq!(detail(&t, "Status").await, "Active");
    chart_is_drawn(&t).await;
    assert_eq!(bar_titles(&t).await, [format!("{today}: 3 requests")]);
    let contrast = bar_contrast(&t).await;
    assert!(
        contrast >= 3.0,
        "the bars stand out from the card: {contrast:.2}:1"
    );

    mark_sections(&t).await;
    let addresses = cells(&t, &section("Addresses")).await;
    assert_eq!(addresses.len(), 1, "{addresses:?}");
    assert_eq!(addresses[0][0], "127.0.0.1");
    let trail = cells(&t, &section("Audit trail")).await;
    assert!(
        trail.iter().any(|row| row[2] == "Token created"),
        "the trail starts with the token's creation: {trail:?}"
    );

    t.set_dark(true).await;
    look(&t, "token-detail-dark").await;
    let contrast = bar_contrast(&t).await;
    assert!(
        contrast >= 3.0,
        "in dark mode too, the bars stand out from the card: {contrast:.2}:1"
    );
    t.set_dark(false).await;

    open_requests_per_day(&t).await;
    assert_eq!(
        cells(&t, "details table").await,
        [[today.clone(), "3".into()]]
    );

    // Suspended: refused until resumed.
    t.click("form[action$='/suspend'] button[type=submit]")
        .await;
    wait_for_flash(&t, "is suspended").await;
    t.wait_for_page(&format!("/tokens/{id}"), "CI deploys")
        .await;
    assert_eq!(
        flashes(&t).await,
        ["Token CI deploys is suspended: it is refused until you resume it."]
    );
    assert_eq!(
        t.text("form[action$='/resume'] button[type=submit]").await,
        "Resume token"
    );
    assert!(!t.exists("form[action$='/suspend']").await);
    assert_eq!(detail(&t, "Status").await, "Suspended");
    assert_eq!(t.app.api_me(token).await, 401);
    look(&t, "token-detail-suspended").await;

    // The list, filtered to the suspended tokens.
    t.click("p.back-link a").await;
    t.wait_for_page("/tokens", LIST).await;
    t.select("#filter-status", "suspended").await;
    t.click("form.filters button[type=submit]").await;
    t.wait_for_page("/tokens?*", LIST).await;
    assert!(t.path().await.contains("status=suspended"));
    let names: Vec<String> = rows(&t).await.into_iter().map(|row| row.name).collect();
    assert_eq!(names, ["CI deploys"]);
    assert_eq!(row(&t, "CI deploys").await.status, "Suspended");
    assert!(t.exists("span.pill.pill-suspended").await);
    look(&t, "list-suspended").await;

    // Resumed: it works again.
    open_from_list(&t, &id, "CI deploys").await;
    t.click("form[action$='/resume'] button[type=submit]").await;
    wait_for_flash(&t, "works again").await;
    t.wait_for_page(&format!("/tokens/{id}"), "CI deploys")
        .await;
    t.check("token-detail resumed").await;
    assert_eq!(flashes(&t).await, ["Token CI deploys works again."]);
    assert_eq!(detail(&t, "Status").await, "Active");
    assert_eq!(t.app.api_me(token).await, 200);
    mark_sections(&t).await;
    let trail = cells(&t, &section("Audit trail")).await;
    let actions: Vec<&str> = trail.iter().map(|row| row[2].as_str()).collect();
    assert!(
        actions.contains(&"Token suspended") && actions.contains(&"Token resumed"),
        "{actions:?}"
    );

    // A token never used says so.
    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;
    let quiet = token_id(&t, "Grafana").await;
    open_from_list(&t, &quiet, "Grafana").await;
    t.check("token-detail unused").await;
    assert_eq!(
        t.text("#activity-summary").await,
        "No requests in the last 90 days."
    );
    assert!(bar_titles(&t).await.is_empty());
    assert!(!t.exists("details").await, "no empty table");
    mark_sections(&t).await;
    assert_eq!(
        t.text(&format!("{} p.muted", section("Addresses"))).await,
        "Not used yet."
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_page() {
    let t = e2e!();
    set_up(&t).await;
    let secrets = add_tokens_over_http(&t, &[NewToken::new("Deploy bot", "engineer")]).await;
    let old = &secrets[0];
    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;
    let old_id = token_id(&t, "Deploy bot").await;

    t.click("a[aria-label='Regenerate token Deploy bot']").await;
    t.wait_for_page(
        &format!("/tokens/{old_id}/regenerate"),
        "Regenerate token “Deploy bot”",
    )
    .await;
    assert_eq!(t.prop("#overlap", "value").await.as_deref(), Some("0"));
    t.select("#overlap", "24").await;
    look(&t, "token-regenerate-overlap").await;
    let ends = |at: chrono::NaiveDateTime| {
        (at + TimeDelta::hours(24))
            .format("%Y-%m-%d %H:%M UTC")
            .to_string()
    };
    let earliest = ends(time::now());
    t.click("form[action$='/regenerate'] button[type=submit]")
        .await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    t.check("reveal after regenerating").await;
    let new = revealed(&t).await;
    assert_ne!(&new, old);
    acknowledge(&t).await;
    let latest = ends(time::now());
    let ends_at = |text: &str| text.ends_with(&earliest) || text.ends_with(&latest);

    // The list: the old row says until when its secret works.
    let note = t
        .text(&format!("tr[data-token-id='{old_id}'] span.rotating"))
        .await;
    assert!(
        note.starts_with("rotating, old secret ends at ") && ends_at(&note),
        "{note:?} ends at {earliest} or {latest}"
    );
    assert_eq!(
        t.js("return document.querySelectorAll('span.rotating').length;")
            .await,
        1,
        "only the old row is rotating"
    );
    look(&t, "list-rotating").await;

    // The old token's page: replaced, and still working until the overlap ends.
    open_from_list(&t, &old_id, "Deploy bot").await;
    let callout = t.text("p.callout").await;
    assert!(
        callout.starts_with("Regenerated: replaced by ptk_")
            && callout.contains(&new[new.len() - 4..])
            && callout.contains("; this secret keeps working until ")
            && ends_at(callout.trim_end_matches('.')),
        "{callout:?}"
    );
    look(&t, "token-detail-rotating").await;
    assert_eq!(t.app.api_me(old).await, 200, "the old secret still works");
    assert_eq!(t.app.api_me(&new).await, 200);

    // The callout leads to the new token, whose page points back.
    t.click("p.callout a").await;
    t.wait_for_page("/tokens/*", "Deploy bot").await;
    assert_ne!(t.path().await, format!("/tokens/{old_id}"));
    t.check("token-detail of the new secret").await;
    let back = t.text("p.callout").await;
    assert!(
        back.starts_with("Rotating: the previous secret ptk_")
            && back.contains(&old[old.len() - 4..])
            && back.contains(" still works until "),
        "{back:?}"
    );
    mark_sections(&t).await;
    let trail = cells(&t, &section("Audit trail")).await;
    assert!(
        trail
            .iter()
            .any(|row| row[2] == "Token regenerated" && row[3].contains(&old_id)),
        "the new token's trail says whom it replaces: {trail:?}"
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_page_with_the_keyboard_and_without_javascript() {
    let t = e2e!();
    set_up(&t).await;
    let secrets = add_tokens_over_http(&t, &[NewToken::new("Keyboard token", "engineer")]).await;
    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;
    let id = token_id(&t, "Keyboard token").await;

    t.tab_to(r#"a "Keyboard token""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page(&format!("/tokens/{id}"), "Keyboard token")
        .await;
    t.check("token-detail by keyboard").await;
    t.tab_to(r#"button "Suspend token""#).await;
    t.press(Key::Enter).await;
    wait_for_flash(&t, "is suspended").await;
    t.check("token-detail suspended by keyboard").await;
    assert_eq!(detail(&t, "Status").await, "Suspended");
    assert_eq!(t.app.api_me(&secrets[0]).await, 401);
    t.tab_to(r#"button "Resume token""#).await;
    t.press(Key::Space).await;
    wait_for_flash(&t, "works again").await;
    assert_eq!(detail(&t, "Status").await, "Active");
    assert_eq!(t.app.api_me(&secrets[0]).await, 200);
    t.finish().await;

    // Without JavaScript: the chart is drawn all the same, and the table opens.
    let t = e2e!(javascript: false);
    set_up(&t).await;
    let secrets = add_tokens_over_http(&t, &[NewToken::new("No script", "engineer")]).await;
    for _ in 0..2 {
        assert_eq!(t.app.api_me(&secrets[0]).await, 200);
    }
    let today = time::now().date().to_string();
    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;
    let id = token_id(&t, "No script").await;
    open_from_list(&t, &id, "No script").await;
    wait_for_activity(&t, "No script", "2 requests in the last 90 days").await;
    t.check("token-detail without JavaScript").await;
    chart_is_drawn(&t).await;
    assert_eq!(bar_titles(&t).await, [format!("{today}: 2 requests")]);
    open_requests_per_day(&t).await;
    assert_eq!(cells(&t, "details table").await, [[today, "2".into()]]);
    t.finish().await;
}
