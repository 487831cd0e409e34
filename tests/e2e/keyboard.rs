//! Create → reveal → copy → delete with the keyboard alone: Tab, Shift, Enter, Space and arrow
//! keys as W3C key actions, no clicks. Every stop on the way must show a focus ring.

use fantoccini::key::Key;

use crate::flows::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_reveal_and_delete_with_the_keyboard() {
    let t = e2e!();
    set_up(&t).await;
    t.grant_clipboard().await;

    // The first Tab stop is the skip link, and it shows itself when focused.
    t.press(Key::Tab).await;
    assert_eq!(t.focused().await, r#"a "Skip to content""#);
    let left = t
        .js("return document.activeElement.getBoundingClientRect().left;")
        .await;
    assert!(
        left.as_f64().unwrap() >= 0.0,
        "the skip link is on screen when focused"
    );

    t.tab_to(r#"a "Add a personal token""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page("/tokens/new", NEW).await;
    t.check("new by keyboard").await;

    // The name field has focus on arrival; type, then pick a role with the arrow keys.
    assert_eq!(t.focused().await, r#"input#name "Name""#);
    t.type_text("Keyboard token").await;
    t.tab_to("select#role").await;
    assert_eq!(t.prop("#role", "value").await.as_deref(), Some("read_only"));
    t.press(Key::Up).await;
    assert_eq!(t.prop("#role", "value").await.as_deref(), Some("engineer"));
    t.tab_to(r#"button "Generate token""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    t.check("reveal by keyboard").await;
    let token = revealed(&t).await;

    // Show with Space, Copy with Enter.
    t.tab_to(r#"button "Show""#).await;
    t.press(Key::Space).await;
    assert_eq!(
        t.attr("#token-value", "type").await.as_deref(),
        Some("text")
    );
    t.tab_to(r#"button "Copy""#).await;
    t.press(Key::Enter).await;
    t.wait_until(
        "the copy status",
        "return document.querySelector('[data-copy-status]').innerText.trim() === 'Copied';",
    )
    .await;
    assert_eq!(t.clipboard().await, token);
    t.tab_to(r#"button "OK, I've copied it""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list by keyboard").await;
    assert_eq!(row(&t, "Keyboard token").await.role, "Engineer");

    // The bin icon is a button named after the token; the confirmation field has focus.
    t.tab_to(r#"button "Delete token Keyboard token""#).await;
    t.press(Key::Space).await;
    t.wait_for_page("/tokens/*", "Delete token “Keyboard token”")
        .await;
    t.check("delete by keyboard").await;
    assert_eq!(
        t.focused().await,
        r#"input#confirm "To confirm, type “delete” below""#
    );
    t.type_text("delete").await;
    t.press(Key::Enter).await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list after delete by keyboard").await;
    assert_eq!(flashes(&t).await, ["Token Keyboard token deleted."]);
    assert_eq!(row(&t, "Keyboard token").await.status, "Deleted");
    assert_eq!(t.app.api_me(&token).await, 401);
    t.finish().await;
}
