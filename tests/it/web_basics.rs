use crate::helpers::*;

fn assert_security_headers(response: &reqwest::Response) {
    let csp = header(response, "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "referrer-policy"), "same-origin");
}

both_backends! {
    async fn every_response_carries_the_security_headers(app) {
        assert_security_headers(&app.get("/setup").await);
        app.setup_admin().await;
        for path in ["/tokens", "/login", "/healthz", "/static/css/app.css", "/no-such-page"] {
            assert_security_headers(&app.get(path).await);
        }
        let forbidden = app.client.post(app.url("/logout")).send().await.unwrap();
        assert_eq!(forbidden.status().as_u16(), 403);
        assert_security_headers(&forbidden);
    }

    async fn pages_are_not_cached_and_assets_are(app) {
        app.setup_admin().await;
        assert_eq!(header(&app.get("/tokens").await, "cache-control"), "no-store");

        let page = app.get_html("/tokens").await;
        let href_start = page.find("/static/css/app.css?v=").expect("versioned stylesheet link");
        let href = &page[href_start..page[href_start..].find('"').unwrap() + href_start];
        let css = app.get(href).await;
        assert_eq!(css.status().as_u16(), 200);
        assert!(header(&css, "content-type").starts_with("text/css"));
        assert!(header(&css, "cache-control").contains("immutable"));
        assert!(css.text().await.unwrap().contains("prefers-color-scheme: dark"));

        let icon = app.get("/favicon.ico").await;
        assert_eq!(icon.status().as_u16(), 200);
        assert_eq!(header(&icon, "content-type"), "image/svg+xml");
        assert_eq!(app.get("/static/../Cargo.toml").await.status().as_u16(), 404);
    }

    async fn unknown_pages_are_a_clear_404(app) {
        app.setup_admin().await;
        let response = app.get("/no-such-page").await;
        assert_eq!(response.status().as_u16(), 404);
        assert!(response.text().await.unwrap().contains("Page not found"));
    }

    async fn healthz_answers_without_a_session(app) {
        let response = app.get("/healthz").await;
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers().get("set-cookie").is_none());
        assert_eq!(response.text().await.unwrap(), "ok");
    }

    async fn a_restart_runs_migrations_again_harmlessly_and_keeps_sessions(app) {
        app.setup_admin().await;

        let restarted = start_server(test_settings(&app.database_url)).await;
        let page = app
            .client
            .get(format!("{restarted}/tokens"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200, "the session key was kept, so still signed in");
        assert!(page.text().await.unwrap().contains("Ada Admin"));
        let setup = app.client.get(format!("{restarted}/setup")).send().await.unwrap();
        assert_eq!(setup.status().as_u16(), 404, "the data is still there");
    }
}
