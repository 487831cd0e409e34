use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::*;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

both_backends! {
    async fn user_add_creates_a_user_who_can_sign_in(app) {
        app.setup_admin().await;

        let output = app.cli_add_user(
            &["--account", "Acme", "--username", "erin", "--display-name", "Erin Engineer", "--role", "engineer", "--password-stdin"],
            "engineer password 1\n",
        );
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("added erin (Engineer) to account Acme"));

        let browser = app.new_browser();
        assert_eq!(location(&browser.login("erin", "engineer password 1").await), "/tokens");
        let page = browser.get_html("/tokens").await;
        assert!(page.contains("Erin Engineer"));
        assert!(page.contains("<div class=\"account-name\">Acme</div>"));
        assert!(page.contains("<span class=\"pill pill-role\">Engineer</span>"));
        // Both additions are in the account's log: setup's and the command line's.
        let audit = app.get_html("/audit").await;
        assert!(audit.contains("admin (Administrator), at setup"), "{audit}");
        assert!(audit.contains("erin (Engineer), from the command line"), "{audit}");
    }

    async fn user_add_creates_a_new_account_and_ends_first_run(app) {
        let output = app.cli_add_user(
            &["--account", "Globex", "--username", "hank", "--role", "admin", "--password-stdin"],
            "a long admin password",
        );
        assert!(output.status.success(), "{}", stderr(&output));

        assert_eq!(app.get("/setup").await.status().as_u16(), 404);
        assert_eq!(location(&app.login("hank", "a long admin password").await), "/tokens");
        let page = app.get_html("/tokens").await;
        assert!(page.contains("<div class=\"account-name\">Globex</div>"));
        assert!(page.contains("<span class=\"pill pill-role\">Administrator</span>"));
    }

    async fn user_add_makes_a_service_account_that_reads_no_password_and_never_signs_in(app) {
        app.setup_admin().await;
        let output = app.cli_add_user(&["--account", "Acme", "--username", "nightly", "--role", "engineer", "--kind", "service"], "");
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("added service account nightly (Engineer) to account Acme"));
        assert!(app.get_html("/users").await.contains("Service account"));
        assert_eq!(app.new_browser().login("nightly", "any password at all").await.status().as_u16(), 401);

        let typed = app.cli_add_user(&["--account", "Acme", "--username", "other", "--role", "engineer", "--kind", "service", "--password-stdin"], "a long enough password");
        assert!(stderr(&typed).contains("a service account has no password"), "{}", stderr(&typed));
        let person = app.cli_add_user(&["--account", "Acme", "--username", "pat", "--role", "engineer"], "");
        assert!(stderr(&person).contains("a person needs --password-stdin"), "{}", stderr(&person));
    }

    async fn user_add_explains_what_is_wrong(app) {
        app.setup_admin().await;
        let add = |role: &str, username: &str, password: &str| {
            app.cli_add_user(&["--account", "Acme", "--username", username, "--role", role, "--password-stdin"], password)
        };

        let bad_role = add("root", "zed", "a long enough password");
        assert!(!bad_role.status.success());
        assert!(stderr(&bad_role).contains("unknown role `root`"), "{}", stderr(&bad_role));

        let taken = add("engineer", "admin", "a long enough password");
        assert!(!taken.status.success());
        assert!(stderr(&taken).contains("already taken"), "{}", stderr(&taken));

        let empty = add("engineer", "zed", "\n");
        assert!(!empty.status.success());
        assert!(stderr(&empty).contains("Password is required"), "{}", stderr(&empty));

        let browser = app.new_browser();
        assert_eq!(browser.login("zed", "a long enough password").await.status().as_u16(), 401, "nobody was added");
    }
}

fn serve_with(database_url: &str) -> (std::process::Output, Duration, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_personal-tokens"))
        .current_dir(dir.path())
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    (output, started.elapsed(), dir)
}

#[test]
fn a_mistyped_database_url_is_refused_without_creating_a_file() {
    let (output, _, dir) = serve_with("postgresq://localhost/db");
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("scheme `postgresq:` is not supported"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no stray SQLite file"
    );
}

#[test]
fn an_unreachable_postgres_fails_fast_with_the_reason() {
    let (output, elapsed, _dir) = serve_with("postgres://postgres@127.0.0.1:1/none");
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("cannot connect to the database"),
        "{message}"
    );
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}
