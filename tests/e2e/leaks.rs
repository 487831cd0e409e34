//! Leaked tokens and where they may be used: "Whose token is this?" (an administrator pastes a
//! token and may revoke it at once), the IP allowlist on the add and regenerate forms, and the
//! notifications page. A tour with checks and screenshots as in `admin.rs`, then the lookup with
//! the keyboard alone.

use fantoccini::key::Key;
use personal_tokens::config::Settings;
use personal_tokens::notify::{Notifier, PassReport};
use personal_tokens::store::{DatabaseUrl, Store};

use crate::flows::*;
use crate::harness::{ACCOUNT, Browser, E2e};

const LOOKUP: &str = "Whose token is this?";
const NOT_OURS: &str = "Not a token of this account";
const NOTIFICATIONS: &str = "Notifications";
const NOT_FOUND: &str = "Page not found";

/// The lookup's answer: the heading of the section under the form, once the page has one.
async fn answer(b: &Browser) -> String {
    b.wait_until(
        "the lookup's answer",
        "return document.readyState === 'complete'
           && !!document.querySelector('section[aria-live] h2');",
    )
    .await;
    b.text("section[aria-live] h2").await
}

/// On the lookup page: pastes `token`, sends it and returns the answer's heading.
async fn look_up(b: &Browser, token: &str) -> String {
    b.fill("#token", token).await;
    b.click_to_load("form[action='/tokens/lookup'] button[type=submit]")
        .await;
    b.wait_for_page("/tokens/lookup", LOOKUP).await;
    let heading = answer(b).await;
    // What was pasted is neither kept in the field nor written anywhere on the page.
    assert_eq!(b.prop("#token", "value").await.as_deref(), Some(""));
    assert!(
        !b.source().await.contains(token),
        "the pasted text is not in the page"
    );
    heading
}

async fn open_lookup_from_the_nav(b: &Browser) {
    b.click("nav.sidenav a[href='/tokens/lookup']").await;
    b.wait_for_page("/tokens/lookup", LOOKUP).await;
    assert_eq!(
        b.attr("nav.sidenav a[href='/tokens/lookup']", "aria-current")
            .await
            .as_deref(),
        Some("page")
    );
}

async fn submit_new_token(b: &Browser) {
    b.click("form[action='/tokens/new'] button[type=submit]")
        .await;
}

/// One notice pass over the app's database, as the server's timer or `personal-tokens notify`
/// would run it.
async fn notice_pass(t: &E2e) -> PassReport {
    let database_url = t.app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let url = DatabaseUrl::parse(&database_url).expect("the app's database URL");
        let store = Store::open(&url, 1).expect("the app's database");
        Notifier::from_settings(&Settings::for_database(&database_url))
            .expect("a notifier without e-mail")
            .run_pass(&store, personal_tokens::domain::time::now())
            .expect("the notice pass")
    })
    .await
    .expect("the pass finishes")
}

/// The unread count in the header, if it shows one.
async fn unread_count(b: &Browser) -> Option<String> {
    if b.exists("a.notices-link span.count").await {
        Some(b.text("a.notices-link span.count").await)
    } else {
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_and_allowlist_pages() {
    let t = e2e!();
    set_up(&t).await;

    // The add form with an allowlist: a range that cannot be, then a good one.
    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    look(&t, "token-new-allowlist").await;
    assert_eq!(t.prop("#allowed_ips", "value").await.as_deref(), Some(""));
    t.fill("#name", "Office VPN").await;
    t.select("#role", "engineer").await;
    t.fill("#allowed_ips", "10.0.0.0/8\n10.0.0.0/33").await;
    submit_new_token(&t).await;
    t.wait_until(
        "the allowlist error",
        "return !!document.querySelector('#allowed_ips-error');",
    )
    .await;
    t.check_error_page("token-new-allowlist-errors", 400).await;
    t.shoot("token-new-allowlist-errors").await;
    fields_look_alike(&t, "token-new-allowlist-errors").await;
    assert_eq!(t.path().await, "/tokens/new");
    assert_eq!(
        t.text("#allowed_ips-error").await,
        "“10.0.0.0/33” is not an IP address or CIDR range (such as 203.0.113.7 or 2001:db8::/32)."
    );
    assert_eq!(
        t.attr("#allowed_ips", "aria-invalid").await.as_deref(),
        Some("true")
    );
    let described_by = t.attr("#allowed_ips", "aria-describedby").await;
    assert!(
        described_by
            .as_deref()
            .is_some_and(|ids| ids.split(' ').any(|id| id == "allowed_ips-error")),
        "the error describes the field: {described_by:?}"
    );
    assert_eq!(
        t.prop("#allowed_ips", "value").await.as_deref(),
        Some("10.0.0.0/8\n10.0.0.0/33"),
        "what was typed is kept"
    );
    assert_eq!(
        t.prop("#name", "value").await.as_deref(),
        Some("Office VPN")
    );

    t.fill("#allowed_ips", "203.0.113.7\n10.0.0.0/8").await;
    submit_new_token(&t).await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    t.check("reveal with an allowlist").await;
    let token = revealed(&t).await;
    acknowledge(&t).await;
    look(&t, "list-allowlist").await;
    assert_eq!(row(&t, "Office VPN").await.role, "Engineer");
    assert_eq!(
        t.text("span.ip-restricted").await,
        "IP-restricted: 203.0.113.7/32, 10.0.0.0/8"
    );
    // The tests call from 127.0.0.1, which is not on the list.
    assert_eq!(t.app.api_me(&token).await, 403);

    // Regenerating offers the same list, one range per line.
    t.click("a[aria-label='Regenerate token Office VPN']").await;
    t.wait_for_page("/tokens/*", "Regenerate token “Office VPN”")
        .await;
    look(&t, "token-regenerate-allowlist").await;
    assert_eq!(
        t.prop("#allowed_ips", "value").await.as_deref(),
        Some("203.0.113.7/32\n10.0.0.0/8")
    );
    assert_eq!(
        detail(&t, "Allowed from").await,
        "203.0.113.7/32, 10.0.0.0/8"
    );

    // Whose token is this? Ours: the details, and a button to revoke it.
    open_lookup_from_the_nav(&t).await;
    look(&t, "lookup").await;
    assert_eq!(t.attr("#token", "type").await.as_deref(), Some("password"));
    assert!(!t.exists("section[aria-live]").await, "no answer yet");
    assert_eq!(look_up(&t, &token).await, "This is “Office VPN”");
    look(&t, "lookup-found").await;
    assert_eq!(detail(&t, "Name").await, "Office VPN");
    assert_eq!(detail(&t, "Role").await, "Engineer");
    assert_eq!(detail(&t, "Status").await, "Active");
    assert_eq!(
        detail(&t, "Allowed from").await,
        "203.0.113.7/32, 10.0.0.0/8"
    );
    let masked = detail(&t, "Token").await;
    assert!(
        masked.starts_with("ptk_") && masked.ends_with(&token[token.len() - 4..]),
        "{masked:?} shows the token's last four characters only"
    );
    assert_eq!(
        t.text("form[action$='/delete'] button[type=submit]").await,
        "Revoke “Office VPN” now"
    );
    t.set_dark(true).await;
    look(&t, "lookup-found-dark").await;
    t.set_dark(false).await;

    // Junk, and a well-formed token of no one's: the same answer.
    assert_eq!(look_up(&t, "hunter2").await, NOT_OURS);
    look(&t, "lookup-not-ours").await;
    assert!(!t.exists("dl.details").await);
    assert!(!t.exists("form[action$='/delete']").await);
    let stranger = format!("ptk_{}", "A1b2C3d4E5".repeat(4));
    assert!(is_token_format(&stranger));
    assert_eq!(look_up(&t, &stranger).await, NOT_OURS);

    // Revoke it from the answer: back on the list, deleted.
    assert_eq!(look_up(&t, &token).await, "This is “Office VPN”");
    t.click("form[action$='/delete'] button[type=submit]").await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list after revoking from the lookup").await;
    assert_eq!(flashes(&t).await, ["Token Office VPN deleted."]);
    assert_eq!(row(&t, "Office VPN").await.status, "Deleted");
    assert_eq!(t.app.api_me(&token).await, 401);

    // Looked up again: found, deleted, nothing left to revoke.
    open_lookup_from_the_nav(&t).await;
    assert_eq!(look_up(&t, &token).await, "This is “Office VPN”");
    t.check("lookup of a deleted token").await;
    assert!(detail(&t, "Status").await.starts_with("Deleted"));
    assert!(!t.exists("form[action$='/delete']").await);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_page() {
    let t = e2e!();
    set_up(&t).await;
    let secrets = add_tokens_over_http(
        &t,
        &[NewToken {
            expires_in: "7",
            ..NewToken::new("Laptop scripts", "read_only")
        }],
    )
    .await;
    let last_four = &secrets[0][secrets[0].len() - 4..];
    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;
    assert_eq!(unread_count(&t).await, None, "no notice before the pass");

    let report = notice_pass(&t).await;
    assert_eq!(
        report.made, 1,
        "the 7-day notice, to its issuer: {report:?}"
    );
    t.client.refresh().await.expect("reload");
    t.wait_for_page("/tokens", LIST).await;
    t.check("list with an unread notice").await;
    assert_eq!(unread_count(&t).await.as_deref(), Some("1"));
    assert_eq!(
        t.attr("a.notices-link span.count", "aria-label")
            .await
            .as_deref(),
        Some("1 unread")
    );

    t.click("a.notices-link").await;
    t.wait_for_page("/notifications", NOTIFICATIONS).await;
    look(&t, "notifications").await;
    assert_eq!(
        t.attr("a.notices-link", "aria-current").await.as_deref(),
        Some("page")
    );
    let notices = strings(
        &t.js("return [...document.querySelectorAll('li.notice')].map((li) => li.innerText);")
            .await,
    );
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(t.exists("li.notice.notice-unread").await);
    assert_eq!(t.text("li.notice-unread .pill").await, "New");
    assert_eq!(
        t.text("li.notice .notice-head a").await,
        "Token “Laptop scripts” expires in 7 days"
    );
    assert!(
        notices[0].contains(&format!("ptk_…{last_four}")),
        "the notice names the token by its last four characters: {notices:?}"
    );
    t.set_dark(true).await;
    look(&t, "notifications-dark").await;
    t.set_dark(false).await;

    t.click("form[action='/notifications/read'] button[type=submit]")
        .await;
    t.wait_until(
        "the notices marked read",
        "return document.readyState === 'complete'
           && !document.querySelector('li.notice-unread')
           && [...document.querySelectorAll('.flash')].length > 0;",
    )
    .await;
    t.wait_for_page("/notifications", NOTIFICATIONS).await;
    look(&t, "notifications-read").await;
    assert_eq!(flashes(&t).await, ["1 notification marked as read."]);
    assert_eq!(unread_count(&t).await, None);
    assert_eq!(
        t.js("return document.querySelectorAll('li.notice').length;")
            .await,
        1
    );
    assert!(!t.exists("form[action='/notifications/read']").await);

    // The notice leads to the token in the list.
    t.click("li.notice .notice-head a").await;
    t.wait_for_page("/tokens?*", LIST).await;
    t.check("list from a notice").await;
    let names: Vec<String> = rows(&t).await.into_iter().map(|row| row.name).collect();
    assert_eq!(names, ["Laptop scripts"]);

    // An engineer with no tokens has no notices, and no lookup.
    t.app.cli_add_user(
        &[
            "--account",
            ACCOUNT,
            "--username",
            "nora",
            "--role",
            "engineer",
        ],
        "nora's long password",
    );
    sign_out(&t).await;
    sign_in(&t, "nora", "nora's long password").await;
    assert_eq!(unread_count(&t).await, None);
    assert!(!t.exists("nav.sidenav a[href='/tokens/lookup']").await);
    t.click("a.notices-link").await;
    t.wait_for_page("/notifications", NOTIFICATIONS).await;
    look(&t, "notifications-empty").await;
    assert_eq!(t.text("main .empty h2").await, "No notifications");
    assert!(!t.exists("li.notice").await);
    assert!(!t.exists("form[action='/notifications/read']").await);
    t.goto("/tokens/lookup").await;
    t.wait_for_page("/tokens/lookup", NOT_FOUND).await;
    t.check_error_page("lookup as an engineer", 404).await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_with_the_keyboard() {
    let t = e2e!();
    set_up(&t).await;
    let secrets = add_tokens_over_http(&t, &[NewToken::new("Pasted in chat", "engineer")]).await;
    let token = &secrets[0];
    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;

    t.tab_to(r#"a "Whose token is this?""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page("/tokens/lookup", LOOKUP).await;
    t.check("lookup by keyboard").await;

    // The token field has focus on arrival; Enter sends the form.
    assert_eq!(t.focused().await, r#"input#token "Token""#);
    t.type_text(token).await;
    t.press(Key::Enter).await;
    assert_eq!(answer(&t).await, "This is “Pasted in chat”");
    t.check("lookup-found by keyboard").await;

    t.tab_to(r#"button "Revoke “Pasted in chat” now""#).await;
    t.press(Key::Enter).await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list after revoking by keyboard").await;
    assert_eq!(flashes(&t).await, ["Token Pasted in chat deleted."]);
    assert_eq!(row(&t, "Pasted in chat").await.status, "Deleted");
    assert_eq!(t.app.api_me(token).await, 401);
    t.finish().await;
}
