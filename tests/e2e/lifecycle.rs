//! A token's life in the browser: first run, sign-in, add, the one-time reveal (mask, Show,
//! Copy), use through the API, delete, and the reveal page refusing to show it again.

use fantoccini::key::Key;

use crate::flows::*;
use crate::harness::{ADMIN, ADMIN_NAME, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_reveal_copy_use_and_delete() {
    whole_path(e2e!()).await;
}

/// The same path with the app on Postgres: the browser cannot tell, and must not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_reveal_copy_use_and_delete_on_postgres() {
    whole_path(e2e!(postgres)).await;
}

async fn whole_path(t: crate::harness::E2e) {
    set_up(&t).await;
    sign_out(&t).await;
    sign_in(&t, ADMIN, PASSWORD).await;
    assert_eq!(t.text(".empty h2").await, "No personal tokens yet");

    // Add a token from the empty state's button.
    t.click(".empty a[href='/tokens/new']").await;
    t.wait_for_page("/tokens/new", NEW).await;
    t.check("new").await;
    t.fill("#name", "CI deploys").await;
    t.fill("#description", "Deploys from the pipeline").await;
    t.select("#role", "engineer").await;
    t.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    t.check("reveal").await;

    // Masked, with a Show toggle, and the no-JavaScript fallback gone.
    assert_eq!(
        t.attr("#token-value", "type").await.as_deref(),
        Some("password")
    );
    let token = revealed(&t).await;
    assert!(!t.exists("[data-no-js-reveal]").await);
    assert!(
        !t.js("return document.body.innerText")
            .await
            .as_str()
            .unwrap()
            .contains(&token),
        "the token is not on screen as text"
    );
    t.click("[data-toggle-secret]").await;
    assert_eq!(
        t.attr("#token-value", "type").await.as_deref(),
        Some("text")
    );
    assert_eq!(t.text("[data-toggle-secret]").await, "Hide");
    assert_eq!(
        t.attr("[data-toggle-secret]", "aria-pressed")
            .await
            .as_deref(),
        Some("true")
    );
    t.click("[data-toggle-secret]").await;
    assert_eq!(
        t.attr("#token-value", "type").await.as_deref(),
        Some("password")
    );
    assert_eq!(t.text("[data-toggle-secret]").await, "Show");

    // Copy puts exactly the token on the clipboard and says so.
    t.grant_clipboard().await;
    t.click("[data-copy-secret]").await;
    t.wait_until(
        "the copy status",
        "return document.querySelector('[data-copy-status]').innerText.trim() === 'Copied';",
    )
    .await;
    assert_eq!(t.clipboard().await, token);
    t.check("reveal after copy").await;

    acknowledge(&t).await;
    assert_eq!(
        flashes(&t).await,
        ["Your new token is ready to use. It will not be shown again."]
    );
    let listed = row(&t, "CI deploys").await;
    assert_eq!(listed.token, format!("ptk_…{}", &token[40..]));
    assert_eq!(listed.last_used, "Never");
    assert_eq!(listed.role, "Engineer");
    assert_eq!(listed.issued_by, ADMIN_NAME);
    assert_eq!(listed.status, "Active");
    assert!(!t.source().await.contains(&token));

    // Used through the API: the list no longer says "Never".
    assert_eq!(t.app.api_me(&token).await, 200);
    t.client.refresh().await.expect("reload");
    t.wait_for_page("/tokens", LIST).await;
    t.check("list after use").await;
    let used = row(&t, "CI deploys").await;
    assert_ne!(used.last_used, "Never", "{used:?}");

    // Delete: a wrong word keeps the token.
    t.click("button[aria-label='Delete token CI deploys']")
        .await;
    t.wait_for_page("/tokens/*", "Delete token “CI deploys”")
        .await;
    assert!(t.path().await.ends_with("/delete"));
    t.check("delete").await;
    t.fill("#confirm", "remove").await;
    t.press(Key::Enter).await;
    t.wait_until(
        "the confirmation error",
        "return !!document.querySelector('#confirm-error');",
    )
    .await;
    t.check_error_page("delete with a wrong word", 400).await;
    assert_eq!(
        t.text("#confirm-error").await,
        "Type “delete” to confirm. The token was not deleted."
    );
    assert_eq!(
        t.attr("#confirm", "aria-invalid").await.as_deref(),
        Some("true")
    );
    assert_eq!(t.app.api_me(&token).await, 200, "still works");

    // …and `delete` removes it.
    t.fill("#confirm", "delete").await;
    t.click("form[action$='/delete'] button[type=submit]").await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list after delete").await;
    assert_eq!(flashes(&t).await, ["Token CI deploys deleted."]);
    assert_eq!(t.app.api_me(&token).await, 401, "stops working at once");

    // The status filter shows it as deleted, and not among the active ones.
    t.select("#filter-status", "deleted").await;
    t.click_to_load("form.filters button[type=submit]").await;
    t.wait_for_page("/tokens?*", LIST).await;
    assert!(t.path().await.contains("status=deleted"));
    t.check("list of deleted tokens").await;
    let deleted = row(&t, "CI deploys").await;
    assert_eq!(deleted.status, "Deleted");
    assert!(
        !t.exists("button[aria-label='Delete token CI deploys']")
            .await
    );
    t.select("#filter-status", "active").await;
    t.click_to_load("form.filters button[type=submit]").await;
    t.wait_for_page("/tokens?*", LIST).await;
    assert!(t.path().await.contains("status=active"));
    t.check("list of active tokens").await;
    assert_eq!(t.text(".empty h2").await, "No tokens match these filters");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_and_back_never_show_the_token_again() {
    let t = e2e!();
    set_up(&t).await;

    // Reload.
    open_reveal(&t, "Reloaded", "read_only").await;
    let token = revealed(&t).await;
    t.client.refresh().await.expect("reload");
    t.wait_for_page("/tokens/reveal", GONE).await;
    t.check("reveal after reload").await;
    assert!(!t.source().await.contains(&token));

    // Away to a page that does not touch the session (as to another site, to paste the token),
    // then Back: Chromium restores the reveal page from its back/forward cache, token and all,
    // and the page's pageshow handler must reload it. A navigation of type "reload" proves both.
    open_reveal(&t, "Pasted elsewhere", "read_only").await;
    let token = revealed(&t).await;
    t.click("[data-toggle-secret]").await;
    t.goto("/healthz").await;
    t.client.back().await.expect("back");
    t.wait_for_page("/tokens/reveal", GONE).await;
    let how = t
        .js("const nav = performance.getEntriesByType('navigation')[0];
             return JSON.stringify({ type: nav.type, notRestored: nav.notRestoredReasons });")
        .await;
    assert!(
        how.as_str().unwrap().contains("\"type\":\"reload\""),
        "Back should have restored the page from the back/forward cache and the page should \
         have reloaded itself; the navigation was {how}"
    );
    t.check("reveal after bfcache restore").await;
    assert!(!t.source().await.contains(&token));

    // Back after leaving by a link to the list (a GET).
    open_reveal(&t, "Left by a link", "read_only").await;
    let token = revealed(&t).await;
    t.click("[data-toggle-secret]").await;
    t.click(".sidenav a[href='/tokens']").await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list").await;
    t.client.back().await.expect("back");
    t.wait_for_page("/tokens/reveal", GONE).await;
    t.check("reveal after back").await;
    assert!(!t.source().await.contains(&token));
    assert!(!t.exists("#token-value").await);

    // Back after "OK, I've copied it" (a POST).
    open_reveal(&t, "Acknowledged", "read_only").await;
    let token = revealed(&t).await;
    acknowledge(&t).await;
    t.client.back().await.expect("back");
    t.wait_for_page("/tokens/reveal", GONE).await;
    t.check("reveal after OK and back").await;
    assert!(!t.source().await.contains(&token));

    // Forward again lands on the list, which never shows secrets either.
    t.client.forward().await.expect("forward");
    t.wait_for_page("/tokens", LIST).await;
    assert!(!t.source().await.contains(&token));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerate_replaces_the_secret() {
    let t = e2e!();
    set_up(&t).await;
    let old = add_token(&t, "Nightly backup", "engineer").await;
    assert_eq!(t.app.api_me(&old).await, 200);

    t.click("a[aria-label='Regenerate token Nightly backup']")
        .await;
    t.wait_for_page("/tokens/*", "Regenerate token “Nightly backup”")
        .await;
    t.check("regenerate").await;
    t.click("form[action$='/regenerate'] button[type=submit]")
        .await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    t.check("reveal after regenerate").await;
    let new = revealed(&t).await;
    assert_ne!(new, old);
    acknowledge(&t).await;

    assert_eq!(
        t.app.api_me(&old).await,
        401,
        "the old secret stops working"
    );
    assert_eq!(t.app.api_me(&new).await, 200, "the new one works");
    let rows = rows(&t).await;
    let names: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        names,
        [("Nightly backup", "Active"), ("Nightly backup", "Deleted")],
        "the new token first, the old one kept as deleted"
    );
    assert_eq!(rows[0].role, "Engineer", "keeps the role");
    assert_eq!(rows[0].token, format!("ptk_…{}", &new[40..]));
    t.finish().await;
}
