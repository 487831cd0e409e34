use crate::helpers::*;

fn set_cookie_headers(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

both_backends! {
    async fn the_right_password_signs_in_and_sign_out_ends_it(app) {
        app.setup_admin().await;
        let out = app.logout().await;
        assert_eq!(out.status().as_u16(), 303);
        assert_eq!(location(&out), "/login");
        assert_eq!(location(&app.get("/tokens").await), "/login", "signed out");

        let response = app.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(location(&response), "/tokens");
        assert!(app.get_html("/tokens").await.contains("Ada Admin"));
    }

    async fn usernames_are_not_case_sensitive(app) {
        app.setup_admin().await;
        let browser = app.new_browser();
        assert_eq!(location(&browser.login("  ADMIN ", ADMIN_PASSWORD).await), "/tokens");
    }

    async fn a_wrong_password_or_unknown_user_gets_the_same_generic_answer(app) {
        app.setup_admin().await;
        let browser = app.new_browser();

        let wrong = browser.login("admin", "not the password at all").await;
        assert_eq!(wrong.status().as_u16(), 401);
        let wrong_page = wrong.text().await.unwrap();
        assert!(wrong_page.contains("Invalid username or password."));
        assert!(wrong_page.contains("value=\"admin\""), "the username is kept");

        let unknown = browser.login("nobody", "not the password at all").await;
        assert_eq!(unknown.status().as_u16(), 401);
        assert!(unknown.text().await.unwrap().contains("Invalid username or password."));

        assert_eq!(location(&browser.get("/tokens").await), "/login");
    }

    async fn empty_fields_are_asked_for(app) {
        app.setup_admin().await;
        let browser = app.new_browser();
        let response = browser.login("", "").await;
        assert_eq!(response.status().as_u16(), 400);
        assert!(response.text().await.unwrap().contains("Enter your username and password."));
    }

    async fn repeated_failures_are_throttled_even_for_the_right_password(app) {
        app.setup_admin().await;
        let browser = app.new_browser();
        for _ in 0..5 {
            assert_eq!(browser.login("admin", "wrong password here").await.status().as_u16(), 401);
        }

        let response = browser.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(response.status().as_u16(), 429);
        assert!(response.text().await.unwrap().contains("Too many failed sign-in attempts"));
        assert_eq!(location(&browser.get("/tokens").await), "/login");
    }

    async fn sign_in_renews_the_session_and_sets_safe_cookie_flags(app) {
        app.setup_admin().await;
        let browser = app.new_browser();
        let login_page = browser.get("/login").await;
        let before = set_cookie_headers(&login_page);
        let anonymous_cookie = before
            .iter()
            .find(|c| c.starts_with("pt_session="))
            .expect("the sign-in page starts a session for its CSRF token")
            .split(';')
            .next()
            .unwrap()
            .to_owned();

        let response = browser.login("admin", ADMIN_PASSWORD).await;
        let cookies = set_cookie_headers(&response);
        let session = cookies.iter().find(|c| c.starts_with("pt_session=")).expect("new session cookie");
        assert!(session.contains("HttpOnly"));
        assert!(session.contains("SameSite=Lax"));
        assert!(!session.contains("Secure"), "not Secure unless configured");
        assert!(!session.starts_with(&anonymous_cookie), "renewed at sign-in");

        let replay = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(app.url("/tokens"))
            .header("cookie", &anonymous_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(location(&replay), "/login", "the pre-sign-in cookie is not signed in");
    }

    async fn sign_out_needs_the_csrf_token(app) {
        app.setup_admin().await;
        let response = app.client.post(app.url("/logout")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 403);
        assert_eq!(app.get("/tokens").await.status().as_u16(), 200, "still signed in");

        let forged = app
            .client
            .post(app.url("/logout"))
            .form(&[("csrf_token", "0".repeat(64))])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status().as_u16(), 403);
        assert_eq!(app.get("/tokens").await.status().as_u16(), 200, "still signed in");
    }

    async fn sign_in_without_a_csrf_token_is_forbidden(app) {
        app.setup_admin().await;
        let browser = app.new_browser();
        browser.get("/login").await;
        let response = browser
            .client
            .post(browser.url("/login"))
            .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403);
        assert_eq!(location(&browser.get("/tokens").await), "/login");
    }
}

#[tokio::test]
async fn cookies_are_secure_when_configured() {
    let app = spawn_app_with(Backend::Sqlite, |settings| settings.secure_cookies = true)
        .await
        .unwrap();
    let response = app.get("/setup").await;
    let cookies = set_cookie_headers(&response);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("pt_session="))
        .expect("session cookie");
    assert!(session.contains("Secure"));
    assert!(session.contains("HttpOnly"));
}

/// The session cookie a response set, as a `Cookie` header value.
fn session_cookie(response: &reqwest::Response) -> String {
    set_cookie_headers(response)
        .iter()
        .find(|c| c.starts_with("pt_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("the sign-in sets the session cookie")
}

/// A GET with a copied cookie and nothing else.
pub async fn get_with_cookie(address: &str, path: &str, cookie: &str) -> reqwest::Response {
    client()
        .get(format!("{address}{path}"))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
}

both_backends! {
    async fn signing_out_ends_the_session_even_for_a_copied_cookie(app) {
        app.setup_admin().await;
        let browser = app.new_browser();
        let signed_in = browser.login("admin", ADMIN_PASSWORD).await;
        let copied = session_cookie(&signed_in);
        let before = get_with_cookie(&app.address, "/tokens", &copied).await;
        assert_eq!(before.status().as_u16(), 200, "the copy works while the session lives");

        assert_eq!(location(&browser.logout().await), "/login");
        let after = get_with_cookie(&app.address, "/tokens", &copied).await;
        assert_eq!(location(&after), "/login", "the copied cookie is signed out too");
        // Another session of the same person is not touched.
        assert!(app.get_html("/tokens").await.contains("Ada Admin"));
    }

    async fn a_session_ends_thirty_days_after_sign_in_and_the_pass_clears_it(app) {
        app.setup_admin().await;
        let browser = app.new_browser();
        let copied = session_cookie(&browser.login("admin", ADMIN_PASSWORD).await);
        app.clock.advance(chrono::TimeDelta::days(29));
        assert_eq!(get_with_cookie(&app.address, "/tokens", &copied).await.status().as_u16(), 200);
        app.clock.advance(chrono::TimeDelta::days(2));
        let stale = get_with_cookie(&app.address, "/tokens", &copied).await;
        assert_eq!(location(&stale), "/login", "an absolute lifetime, however active");

        let count = || {
            let url = personal_tokens::store::DatabaseUrl::parse(&app.database_url).unwrap();
            let store = personal_tokens::store::Store::open(&url, 1).unwrap();
            store
                .run_blocking(|conn| {
                    use diesel::prelude::*;
                    use personal_tokens::store::schema::sessions;
                    Ok(sessions::table.count().get_result::<i64>(conn)?)
                })
                .unwrap()
        };
        assert!(count() >= 1, "the old rows are still there");
        let notifier = personal_tokens::notify::Notifier::from_settings(&test_settings(&app.database_url)).unwrap();
        let url = personal_tokens::store::DatabaseUrl::parse(&app.database_url).unwrap();
        let store = personal_tokens::store::Store::open(&url, 1).unwrap();
        let now = personal_tokens::domain::time::now() + chrono::TimeDelta::days(31);
        tokio::task::spawn_blocking(move || notifier.run_pass(&store, now)).await.unwrap().unwrap();
        assert_eq!(count(), 0, "the pass removes sessions past their lifetime");
    }
}
