//! With JavaScript off (Chrome's content setting): set up, add a token, reveal it by hand through
//! "Show the token as text", and delete it. Everything but the clipboard works without scripts.

use crate::flows::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_reveal_and_delete_without_javascript() {
    let t = e2e!(javascript: false);
    set_up(&t).await;

    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    t.check("new without JavaScript").await;
    // No script hides the custom date field: it stays usable.
    assert!(
        t.find("#expires_at")
            .await
            .is_displayed()
            .await
            .expect("displayed")
    );
    t.fill("#name", "No script").await;
    t.select("#role", "engineer").await;
    t.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    t.check("reveal without JavaScript").await;

    // Masked, no Show or Copy button (they need scripts), and the token by hand.
    let token = secret_without_javascript(&t, "#token-value").await;
    assert!(is_token_format(&token), "{token:?}");
    assert_eq!(revealed(&t).await, token);
    assert_eq!(t.app.api_me(&token).await, 200);

    acknowledge(&t).await;
    assert_ne!(row(&t, "No script").await.last_used, "Never");

    t.click("button[aria-label='Delete token No script']").await;
    t.wait_for_page("/tokens/*", "Delete token “No script”")
        .await;
    t.check("delete without JavaScript").await;
    t.fill("#confirm", "delete").await;
    t.click("form[action$='/delete'] button[type=submit]").await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list without JavaScript").await;
    assert_eq!(flashes(&t).await, ["Token No script deleted."]);
    assert_eq!(row(&t, "No script").await.status, "Deleted");
    assert_eq!(t.app.api_me(&token).await, 401);
    t.finish().await;
}
