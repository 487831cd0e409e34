use crate::helpers::*;

both_backends! {
    async fn a_fresh_install_leads_every_page_to_setup(app) {
        for path in ["/", "/tokens", "/login", "/no-such-page"] {
            let response = app.get(path).await;
            assert_eq!(response.status().as_u16(), 303, "{path}");
            assert_eq!(location(&response), "/setup", "{path}");
        }
        assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
        let setup = app.get_html("/setup").await;
        assert!(setup.contains("name=\"password_confirm\""));
    }

    async fn setup_creates_the_account_and_signs_the_admin_in(app) {
        let response = app.setup_admin().await;
        assert_eq!(location(&response), "/tokens");

        let page = app.get_html("/tokens").await;
        assert!(page.contains("Ada Admin"));
        assert!(page.contains("Administrator"));
        assert!(page.contains("Acme"));
        assert!(page.contains("Welcome, Ada Admin"), "a one-time welcome message");
        assert!(!app.get_html("/tokens").await.contains("Welcome, Ada Admin"), "shown once");
    }

    async fn setup_is_gone_once_a_user_exists(app) {
        app.setup_admin().await;

        assert_eq!(app.get("/setup").await.status().as_u16(), 404);
        let csrf = csrf_token_in(&app.get_html("/tokens").await);
        let again = app
            .client
            .post(app.url("/setup"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("account", "Evil"),
                ("username", "mallory"),
                ("display_name", "Mallory"),
                ("password", ADMIN_PASSWORD),
                ("password_confirm", ADMIN_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 404);
        let stranger = app.new_browser();
        assert_eq!(stranger.get("/setup").await.status().as_u16(), 404);
        // Without a form's token too: the page is gone, not forbidden.
        let blind = stranger.client.post(stranger.url("/setup")).form(&[("account", "Evil")]).send().await.unwrap();
        assert_eq!(blind.status().as_u16(), 404);
        assert_eq!(stranger.login("mallory", ADMIN_PASSWORD).await.status().as_u16(), 401);
    }

    async fn setup_refuses_bad_input_keeps_what_was_typed_and_creates_nothing(app) {
        let long = "x".repeat(10_000);
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[("account", ""), ("username", "admin"), ("display_name", "Ada"), ("password", ADMIN_PASSWORD), ("password_confirm", ADMIN_PASSWORD)], "Account name is required."),
            (&[("account", &long), ("username", "admin"), ("display_name", "Ada"), ("password", ADMIN_PASSWORD), ("password_confirm", ADMIN_PASSWORD)], "Account name must be at most 100 characters."),
            (&[("account", "Acme"), ("username", "ad min"), ("display_name", "Ada"), ("password", ADMIN_PASSWORD), ("password_confirm", ADMIN_PASSWORD)], "Username may use only"),
            (&[("account", "Acme"), ("username", "admin"), ("display_name", "Ada"), ("password", "short"), ("password_confirm", "short")], "Password must be at least 12 characters."),
            (&[("account", "Acme"), ("username", "admin"), ("display_name", "Ada"), ("password", ADMIN_PASSWORD), ("password_confirm", "something else entirely")], "The two passwords do not match."),
            (&[("account", "Acme"), ("username", "admin"), ("display_name", ""), ("password", ADMIN_PASSWORD), ("password_confirm", ADMIN_PASSWORD)], "Display name is required."),
        ];
        for (fields, message) in cases {
            let response = app.post_form("/setup", "/setup", fields).await;
            assert_eq!(response.status().as_u16(), 400, "{message}");
            let page = response.text().await.unwrap();
            assert!(page.contains(message), "expected {message:?}");
            assert!(!page.contains(ADMIN_PASSWORD), "passwords are never echoed");
        }

        let response = app
            .post_form("/setup", "/setup", &[("account", "<script>alert(1)</script>"), ("username", "admin"), ("display_name", ""), ("password", ADMIN_PASSWORD), ("password_confirm", ADMIN_PASSWORD)])
            .await;
        let page = response.text().await.unwrap();
        assert!(page.contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62;\"") || page.contains("&lt;script&gt;"), "typed markup comes back escaped");
        assert!(!page.contains("<script>alert(1)"));

        assert_eq!(app.get("/setup").await.status().as_u16(), 200, "still no user");
    }

    async fn setup_without_a_csrf_token_is_forbidden_and_changes_nothing(app) {
        app.get("/setup").await;
        let response = app
            .client
            .post(app.url("/setup"))
            .form(&[("account", "Acme"), ("username", "admin"), ("display_name", "Ada"), ("password", ADMIN_PASSWORD), ("password_confirm", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403);
        assert!(response.text().await.unwrap().contains("security token"));
        assert_eq!(app.get("/setup").await.status().as_u16(), 200, "no user was created");
    }
}
