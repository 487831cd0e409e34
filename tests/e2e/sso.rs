//! Signing in through the company's identity provider, in a real browser: "Sign in with SSO" on
//! the sign-in page, the provider's own form (npm's `oidc-provider`), and back on the list as the
//! person the provider vouched for, with the role their group maps to.

use serde_json::json;

use crate::flows::*;
use crate::harness::{ADMIN, Db, E2e, PASSWORD};
use crate::oidc::Provider;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_through_the_identity_provider() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let people = json!({
        "ada": {"email": "ada@example.com", "name": "Ada Lovelace", "groups": ["pt-engineers"]},
    });
    let Some(provider) = Provider::start(&format!("{base}/login/sso/callback"), &people) else {
        return;
    };
    let issuer = provider.issuer.clone();
    let Some(t) = E2e::start_with(Db::Sqlite, true, |settings| {
        settings.bind = format!("127.0.0.1:{port}");
        settings.public_url = Some(base.clone());
        settings.oidc_issuer = Some(issuer.clone());
        settings.oidc_client_id = Some("personal-tokens".into());
        settings.oidc_client_secret = Some("test-secret".into());
        settings.oidc_account = Some("Acme".into());
        settings.oidc_role_map = "pt-admins=admin,pt-engineers=engineer".into();
    })
    .await
    else {
        return;
    };
    set_up(&t).await;
    sign_out(&t).await;
    assert_eq!(t.text("a[href='/login/sso']").await, "Sign in with SSO");
    t.shoot("login-with-sso").await;

    t.click("a[href='/login/sso']").await;
    t.wait_for_page("/interaction/*", "Test OP sign-in").await;
    t.fill("input[name=login]", "ada").await;
    t.click("form#login button[type=submit]").await;
    t.wait_for_page("/tokens", LIST).await;
    // The provider's own pages are not ours to judge (their favicon is a 404, say): only what
    // the browser logged about this app's origin counts.
    let ours: Vec<String> = t
        .console()
        .await
        .into_iter()
        .filter(|entry| entry.level == "SEVERE" && !entry.message.contains(&issuer))
        .map(|entry| entry.message)
        .collect();
    assert!(ours.is_empty(), "console errors: {ours:?}");
    t.check("list after SSO sign-in").await;
    assert!(t.source().await.contains("Ada Lovelace"));
    let token = add_token(&t, "from-sso", "engineer").await;
    assert_eq!(t.app.api_me(&token).await, 200);

    // The administrator sees who came through the provider, on the users page and hers.
    sign_out(&t).await;
    sign_in(&t, ADMIN, PASSWORD).await;
    t.goto("/users").await;
    t.wait_for_page("/users", "Users").await;
    let href = t
        .js("return [...document.querySelectorAll('a.token-name')]
               .find((a) => a.innerText.includes('Ada Lovelace'))?.getAttribute('href');")
        .await;
    let href = href.as_str().expect("Ada on the users page").to_owned();
    t.goto(&href).await;
    t.wait_for_page(&href, "Ada Lovelace @ada@example.com SSO")
        .await;
    let heading = t.text("h1").await;
    assert!(
        heading.contains("Ada Lovelace") && heading.contains("SSO"),
        "{heading}"
    );
    assert!(
        t.text("[data-sso]")
            .await
            .starts_with("Through the identity provider (SSO).")
    );
    t.check("an SSO person's page").await;
    t.shoot("user-sso").await;
    t.finish().await;
}
