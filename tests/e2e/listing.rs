//! The list: filters through the form, paging with Next and Previous (filters survive it), the
//! usage line, and the expiry choices and warning.

use crate::flows::*;
use crate::harness::Browser;

async fn names(b: &Browser) -> Vec<String> {
    rows(b).await.into_iter().map(|row| row.name).collect()
}

async fn pager(b: &Browser) -> String {
    b.text(".pager > span:first-child").await
}

/// Submits the filter form and waits for the filtered list.
async fn filter(b: &Browser) {
    b.click_to_load("form.filters button[type=submit]").await;
    b.wait_for_page("/tokens?*", LIST).await;
    b.check("filtered list").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_paging() {
    let t = e2e!();
    set_up(&t).await;
    let mut tokens: Vec<(String, &str)> = (1..=3)
        .map(|i| (format!("backup-{i:02}"), "read_only"))
        .collect();
    tokens.extend((1..=22).map(|i| (format!("deploy-{i:02}"), "engineer")));
    let specs: Vec<NewToken> = tokens
        .iter()
        .map(|(name, role)| NewToken::new(name, role))
        .collect();
    add_tokens_over_http(&t, &specs).await;

    t.goto("/tokens").await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list of 25").await;
    assert_eq!(t.text("#usage").await, "25 of 50 tokens");
    assert_eq!(pager(&t).await, "25 tokens · page 1 of 2");
    let first_page = names(&t).await;
    assert_eq!(first_page.len(), 20);
    assert_eq!(first_page[0], "deploy-22", "newest first");
    assert!(!t.exists(".pager a[rel=prev]").await);

    // Next and Previous.
    t.click_to_load(".pager a[rel=next]").await;
    t.wait_for_page("/tokens?page=2", LIST).await;
    t.check("list page 2").await;
    assert_eq!(pager(&t).await, "25 tokens · page 2 of 2");
    let second_page = names(&t).await;
    assert_eq!(second_page.len(), 5);
    assert!(!t.exists(".pager a[rel=next]").await);
    let mut all: Vec<String> = first_page.iter().chain(&second_page).cloned().collect();
    all.sort();
    let mut expected: Vec<String> = tokens.iter().map(|(name, _)| name.clone()).collect();
    expected.sort();
    assert_eq!(all, expected, "the two pages hold every token once");
    t.click_to_load(".pager a[rel=prev]").await;
    t.wait_for_page("/tokens", LIST).await;
    assert_eq!(names(&t).await, first_page);

    // A role filter with two pages: Next keeps the filter.
    t.select("#filter-role", "engineer").await;
    filter(&t).await;
    assert!(t.path().await.contains("role=engineer"));
    assert_eq!(pager(&t).await, "22 tokens · page 1 of 2");
    assert!(rows(&t).await.iter().all(|row| row.role == "Engineer"));
    t.click_to_load(".pager a[rel=next]").await;
    t.wait_for_page("/tokens?role=engineer&page=2", LIST).await;
    t.check("filtered list page 2").await;
    let rest = rows(&t).await;
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|row| row.role == "Engineer"));
    assert_eq!(
        t.prop("#filter-role", "value").await.as_deref(),
        Some("engineer"),
        "the form still shows the filter"
    );
    t.click_to_load(".pager a[rel=prev]").await;
    t.wait_for_page("/tokens?role=engineer", LIST).await;

    // The name search, alone and combined with the role.
    t.select("#filter-role", "").await;
    t.fill("#filter-q", "backup").await;
    filter(&t).await;
    assert_eq!(names(&t).await, ["backup-03", "backup-02", "backup-01"]);
    assert_eq!(pager(&t).await, "3 tokens · page 1 of 1");
    t.select("#filter-role", "read_only").await;
    t.fill("#filter-q", "UP-0").await;
    filter(&t).await;
    assert_eq!(names(&t).await.len(), 3, "the search ignores case");
    t.select("#filter-role", "engineer").await;
    filter(&t).await;
    assert_eq!(t.text(".empty h2").await, "No tokens match these filters");

    // Issued by (administrators only), then "Clear filters".
    let issuers = t
        .js("return [...document.querySelectorAll('#filter-issuer option')].map((o) => o.text);")
        .await;
    assert_eq!(strings(&issuers), ["Anyone", "Ada Admin"]);
    t.click_to_load("form.filters a[href='/tokens']").await;
    t.wait_for_page("/tokens", LIST).await;
    t.check("list after clearing filters").await;
    assert_eq!(pager(&t).await, "25 tokens · page 1 of 2");
    assert_eq!(t.prop("#filter-q", "value").await.as_deref(), Some(""));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_choices_and_the_expiry_warning() {
    let t = e2e!();
    set_up(&t).await;
    assert!(!t.exists(".sidenav .badge").await);

    t.goto("/tokens/new").await;
    t.wait_for_page("/tokens/new", NEW).await;
    let choices = t
        .js("return [...document.querySelectorAll('#expires_in option')].map((o) => o.value);")
        .await;
    assert_eq!(
        strings(&choices),
        ["1", "7", "15", "30", "90", "365", "custom"],
        "no \"never\" under the default policy"
    );
    assert_eq!(t.prop("#expires_in", "value").await.as_deref(), Some("30"));
    let date_field = t.find("[data-custom-date]").await;
    assert!(
        !date_field.is_displayed().await.expect("displayed"),
        "the date field shows only for a custom date"
    );
    t.select("#expires_in", "custom").await;
    assert!(date_field.is_displayed().await.expect("displayed"));
    t.select("#expires_in", "7").await;
    assert!(!date_field.is_displayed().await.expect("displayed"));

    t.fill("#name", "Short-lived").await;
    t.click("form[action='/tokens/new'] button[type=submit]")
        .await;
    t.wait_for_page("/tokens/reveal", REVEAL).await;
    acknowledge(&t).await;
    let expiring = row(&t, "Short-lived").await;
    assert!(
        expiring.expires.ends_with("expires in 7 days")
            || expiring.expires.ends_with("expires in 6 days"),
        "{expiring:?}"
    );
    assert_eq!(expiring.role, "Read-only", "the least role by default");
    // The link's badge: the folded menu's button, hidden at this width, carries one too.
    let badge = t
        .js("return document.querySelector('.sidenav a .badge').innerText.trim();")
        .await;
    assert_eq!(badge, "!", "the navigation warns");
    let spoken = t
        .js("return document.querySelector('.sidenav a').textContent.replace(/\\s+/g, ' ').trim();")
        .await;
    assert_eq!(spoken, "Personal Tokens ! (a token expires soon)");
    t.finish().await;
}
