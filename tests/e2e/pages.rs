//! A tour of every page in each of its states: console, CSP and axe-core checks as everywhere,
//! plus a screenshot at desktop and phone width (`target/screenshots/PAGE-WIDTH.png`) and no
//! sideways overflow on the phone. Dark mode for the list and the reveal page.

use crate::flows::*;
use crate::harness::{ADMIN, E2e, PASSWORD};

/// Check and screenshot the page we are on.
async fn look(t: &E2e, name: &str) {
    t.check(name).await;
    t.shoot(name).await;
}

/// A list with some of everything: descriptions, each role, used, expiring soon, deleted.
/// Sends the add form empty and waits for the page that says the name is missing.
async fn submit_empty_new_form(t: &E2e) {
    t.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    t.wait_until(
        "the name error",
        "return !!document.querySelector('#name-error');",
    )
    .await;
}

async fn fill_the_list(t: &E2e) {
    let secrets = add_tokens_over_http(
        t,
        &[
            NewToken {
                description: "Pushes releases from the main branch to production",
                ..NewToken::new("CI deploys", "engineer")
            },
            NewToken {
                expires_in: "7",
                ..NewToken::new("Laptop scripts", "read_only")
            },
            NewToken {
                description: "Read-only access for the metrics exporter",
                expires_in: "365",
                ..NewToken::new("Grafana", "read_only")
            },
            NewToken::new("Old migration", "admin"),
            NewToken {
                description: "Terraform state and workspace management",
                expires_in: "90",
                ..NewToken::new("Infrastructure automation with a rather long name", "admin")
            },
        ],
    )
    .await;
    assert_eq!(t.app.api_me(&secrets[0]).await, 200);
    // Delete "Old migration" through its page.
    t.goto("/tokens?q=Old").await;
    t.wait_for_page("/tokens?q=Old", LIST).await;
    t.click("button[aria-label='Delete token Old migration']")
        .await;
    t.wait_for_page("/tokens/*", "Delete token “Old migration”")
        .await;
    t.fill("#confirm", "delete").await;
    t.click("form[action$='/delete'] button[type=submit]").await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list after delete").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_pages() {
    let t = e2e!();
    t.goto("/").await;
    t.wait_for_page("/setup", "Set up Personal Tokens").await;
    look(&t, "setup").await;

    t.click("form[action='/setup'] button[type=submit]").await;
    t.wait_until(
        "the form error",
        "return !!document.querySelector('.form-error');",
    )
    .await;
    t.check_error_page("setup-errors", 400).await;
    t.shoot("setup-errors").await;

    fill_setup(&t).await;
    t.click("form[action='/setup'] button[type=submit]").await;
    t.wait_for_page("/tokens", LIST).await;
    sign_out(&t).await;
    t.shoot("login").await;

    t.fill("#username", ADMIN).await;
    t.fill("#password", "not the password").await;
    t.click("form[action='/login'] button[type=submit]").await;
    t.wait_until(
        "the sign-in error",
        "return !!document.querySelector('.form-error');",
    )
    .await;
    assert_eq!(t.text(".form-error").await, "Invalid username or password.");
    t.check_error_page("login-error", 401).await;
    t.shoot("login-error").await;

    t.goto("/no/such/page").await;
    t.wait_for_page("/no/such/page", "Page not found").await;
    t.check_error_page("not-found", 404).await;
    t.shoot("not-found").await;
    // Once set up, the setup page is gone.
    t.goto("/setup").await;
    t.wait_for_page("/setup", "Page not found").await;
    t.check_error_page("setup after setup", 404).await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_pages() {
    let t = e2e!();
    set_up(&t).await;
    t.shoot("list-empty").await;

    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    look(&t, "new").await;
    submit_empty_new_form(&t).await;
    t.check_error_page("new-errors", 400).await;
    t.shoot("new-errors").await;

    fill_the_list(&t).await;
    t.shoot("list").await;

    t.click("button[aria-label='Delete token Grafana']").await;
    t.wait_for_page("/tokens/*", "Delete token “Grafana”").await;
    look(&t, "delete").await;
    t.fill("#confirm", "Delete!").await;
    t.click("form[action$='/delete'] button[type=submit]").await;
    t.wait_until(
        "the error",
        "return !!document.querySelector('#confirm-error');",
    )
    .await;
    t.check_error_page("delete-error", 400).await;
    t.shoot("delete-error").await;

    t.goto("/tokens").await;
    t.click("a[aria-label='Regenerate token CI deploys']").await;
    t.wait_for_page("/tokens/*", "Regenerate token “CI deploys”")
        .await;
    look(&t, "regenerate").await;

    open_reveal(&t, "Release bot", "engineer").await;
    t.shoot("reveal").await;
    t.grant_clipboard().await;
    t.click("[data-toggle-secret]").await;
    t.click("[data-copy-secret]").await;
    t.wait_until(
        "the copy status",
        "return document.querySelector('[data-copy-status]').innerText.trim() === 'Copied';",
    )
    .await;
    look(&t, "reveal-shown").await;
    t.client.refresh().await.expect("reload");
    t.wait_for_page("/tokens/reveal", GONE).await;
    look(&t, "reveal-gone").await;

    t.goto("/tokens/not-a-token/delete").await;
    t.wait_for_page("/tokens/not-a-token/delete", "Page not found")
        .await;
    t.check_error_page("not-found-signed-in", 404).await;
    t.shoot("not-found-signed-in").await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dark_mode() {
    let t = e2e!();
    set_up(&t).await;
    fill_the_list(&t).await;
    t.set_dark(true).await;
    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;
    let background = t
        .js("return getComputedStyle(document.body).backgroundColor;")
        .await;
    assert_eq!(background, "rgb(13, 17, 23)", "the dark palette is in use");
    look(&t, "list-dark").await;

    open_reveal(&t, "Release bot", "engineer").await;
    t.shoot("reveal-dark").await;
    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    submit_empty_new_form(&t).await;
    t.check_error_page("new-errors-dark", 400).await;
    t.shoot("new-errors-dark").await;

    sign_out(&t).await;
    t.shoot("login-dark").await;
    sign_in(&t, ADMIN, PASSWORD).await;
    t.finish().await;
}
