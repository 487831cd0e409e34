//! An engineer (added with the CLI) cannot pick the administrator role, not even by editing the
//! form, and sees only their own tokens.

use fantoccini::Locator;

use crate::flows::*;
use crate::harness::{ACCOUNT, ADMIN, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engineer_cannot_pick_the_admin_role() {
    let t = e2e!();
    set_up(&t).await;
    add_token(&t, "Admin's own", "admin").await;
    t.app.cli_add_user(
        &[
            "--account",
            ACCOUNT,
            "--username",
            "erin",
            "--role",
            "engineer",
        ],
        "erin's long password",
    );
    sign_out(&t).await;
    sign_in(&t, "erin", "erin's long password").await;
    assert_eq!(t.text(".user-menu .pill-role").await, "Engineer");
    assert!(
        !t.exists("#filter-issuer").await,
        "only administrators filter by issuer"
    );
    assert!(
        rows(&t).await.is_empty(),
        "the administrator's token is not erin's to see"
    );

    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    t.check("new as an engineer").await;
    let options = t
        .js("return [...document.querySelectorAll('#role option')].map((o) => o.value);")
        .await;
    assert_eq!(strings(&options), ["engineer", "read_only"]);
    assert!(
        t.client
            .find(Locator::Css("#role option[value='admin']"))
            .await
            .is_err()
    );

    // Editing the page to offer "admin" does not get past the server.
    t.fill("#name", "Sneaky").await;
    t.js("const o = new Option('Administrator', 'admin');
          document.querySelector('#role').add(o);")
        .await;
    t.select("#role", "admin").await;
    t.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    t.wait_until(
        "the role error",
        "return !!document.querySelector('#role-error');",
    )
    .await;
    t.check_error_page("new with a role above the engineer's", 400)
        .await;
    assert_eq!(t.path().await, "/tokens/new");
    assert_eq!(
        t.attr("#role", "aria-invalid").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        t.prop("#name", "value").await.as_deref(),
        Some("Sneaky"),
        "what was typed is kept"
    );

    // What the engineer may pick works, and the list shows erin's token only.
    t.select("#role", "engineer").await;
    t.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    let token = revealed(&t).await;
    acknowledge(&t).await;
    let erins = rows(&t).await;
    assert_eq!(erins.len(), 1, "{erins:?}");
    assert_eq!(erins[0].name, "Sneaky");
    assert_eq!(erins[0].role, "Engineer");
    assert_eq!(erins[0].issued_by, "erin");
    assert_eq!(t.app.api_me(&token).await, 200);

    // The administrator sees both.
    sign_out(&t).await;
    sign_in(&t, ADMIN, PASSWORD).await;
    let names: Vec<String> = rows(&t).await.into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["Sneaky", "Admin's own"]);
    t.finish().await;
}
