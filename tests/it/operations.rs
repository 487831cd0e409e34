//! Readiness, and what people and scripts see while the database is gone: 503, never 500.

use diesel::{Connection, RunQueryDsl};

use crate::helpers::*;
use crate::token_helpers::*;

both_backends! {
    async fn readyz_answers_when_the_database_does(app) {
        let response = app.get("/readyz").await;
        assert_eq!(response.status(), 200, "before setup too");
        assert_eq!(response.text().await.unwrap(), "ready");
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_postgres_database_gone_pages_and_api_answer_503() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    app.setup_admin().await;
    let token = app.with_token("admin", "ops", "read_only").await;
    let admin_url = std::env::var("TEST_POSTGRES_URL").expect("set when Postgres runs");
    let name = url::Url::parse(&app.database_url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    let mut conn = diesel::PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .expect("drop the app's database");

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let reason = ready.text().await.unwrap();
    assert!(
        reason.starts_with("not ready: ") && !reason.contains('\n'),
        "{reason}"
    );
    // Anyone may ask: the answer names no database, host, user or driver message.
    for secretish in [
        name.as_str(),
        "postgres",
        "127.0.0.1",
        "terminating",
        "FATAL",
        "query",
    ] {
        assert!(!reason.contains(secretish), "/readyz says {reason:?}");
    }

    for path in [
        "/tokens",
        "/users",
        "/tokens/new",
        "/nothing/here",
        "/notifications",
    ] {
        let answer = app.get(path).await;
        let status = answer.status().as_u16();
        assert!(status == 503 || status == 404, "GET {path}: {status}");
        assert!(!header(&answer, "x-request-id").is_empty(), "GET {path}");
    }
    let page = app.get("/tokens").await;
    assert_eq!(page.status(), 503);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("The database is not answering")
    );
    let (status, body) = me(&app, &token).await;
    assert_eq!(status.as_u16(), 503, "{body}");
    assert_eq!(body["error"], "unavailable");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness does no database work"
    );

    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .expect("the database comes back");
    let mut status = 0;
    for _ in 0..50 {
        status = app.get("/readyz").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "ready again once the database answers");
}

/// A scrape, checked line by line against the Prometheus text format (every sample belongs to a
/// family with a `# TYPE`, every value is a number), as `series → value`.
fn parse_metrics(text: &str) -> std::collections::HashMap<String, f64> {
    let mut typed = std::collections::HashSet::new();
    let mut samples = std::collections::HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            typed.insert(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment: {line}");
        let (series, value) = line.rsplit_once(' ').expect("series value");
        let name = series.split('{').next().unwrap();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "no # TYPE before {line}");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        samples.insert(series.to_owned(), value);
    }
    samples
}

async fn scrape(browser: &Browser) -> std::collections::HashMap<String, f64> {
    let response = browser.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/plain; version=0.0.4"));
    parse_metrics(&response.text().await.unwrap())
}

fn moved(
    before: &std::collections::HashMap<String, f64>,
    after: &std::collections::HashMap<String, f64>,
    series: &str,
) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

/// The counters are per process, and nextest runs each test in a process of its own; the
/// deltas below also keep a scrape's own requests out of the comparison.
mod metrics {
    use super::*;

    both_backends! {
        async fn metrics_are_off_unless_asked_for(app) {
            app.setup_admin().await;
            assert_eq!(app.get("/metrics").await.status(), 404);
        }
    }

    async fn with_metrics(backend: Backend) -> Option<(TestApp, Backend)> {
        let app = spawn_app_with(backend, |s| s.metrics = true).await?;
        Some((app, backend))
    }

    both_backends! { start = with_metrics;
    async fn counters_move_with_requests((app, backend)) {
        app.setup_admin().await;
        let token = app.with_token("admin", "metered", "read_only").await;
        let doomed = app.with_token("admin", "doomed", "admin").await;
        let before = scrape(&app).await;

        assert_eq!(me(&app, &token).await.0, 200);
        assert_eq!(me(&app, &token).await.0, 200);
        assert_eq!(me(&app, "ptk_not_a_real_token").await.0, 401);
        let (status, _, _) = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/tokens",
            Some(&token),
            Some(serde_json::json!({"name": "x", "expires_in_days": 7, "role": "read_only"})),
        )
        .await;
        assert_eq!(status, 403, "read-only may not create");
        let id = row_id(row(&tokens_html(&app, "").await, "doomed"));
        let path = format!("/api/v1/tokens/{id}");
        let (status, _, _) = call(&app, reqwest::Method::DELETE, &path, Some(&doomed), None).await;
        assert_eq!(status.as_u16(), 200);
        assert_eq!(me(&app, &doomed).await.0, 401);
        create_token(&app, "another", "7", "read_only").await;
        let after = scrape(&app).await;

        let me_ok = r#"http_requests_total{method="GET",route="/api/v1/me",status="2xx"}"#;
        assert_eq!(moved(&before, &after, me_ok), 2.0);
        let me_4xx = r#"http_requests_total{method="GET",route="/api/v1/me",status="4xx"}"#;
        assert_eq!(moved(&before, &after, me_4xx), 2.0);
        let by_pattern =
            r#"http_requests_total{method="DELETE",route="/api/v1/tokens/{id}",status="2xx"}"#;
        assert_eq!(
            moved(&before, &after, by_pattern),
            1.0,
            "the pattern, not the path"
        );
        assert!(
            after.keys().all(|k| !k.contains(&id)),
            "no raw path as a label"
        );
        let histogram =
            r#"http_request_duration_seconds_count{method="GET",route="/api/v1/me",status="2xx"}"#;
        assert_eq!(moved(&before, &after, histogram), 2.0);
        let slowest = r#"http_request_duration_seconds_bucket{method="GET",route="/api/v1/me",status="2xx",le="+Inf"}"#;
        assert_eq!(moved(&before, &after, slowest), 2.0);

        let outcome = |o: &str| {
            moved(
                &before,
                &after,
                &format!(r#"bearer_checks_total{{outcome="{o}"}}"#),
            )
        };
        assert_eq!(
            outcome("ok"),
            4.0,
            "two /me, the refused create, the delete"
        );
        assert_eq!(outcome("invalid"), 1.0);
        assert_eq!(outcome("deleted"), 1.0);
        assert_eq!(outcome("forbidden"), 1.0);
        assert_eq!(moved(&before, &after, "tokens_created_total"), 1.0);
        assert_eq!(moved(&before, &after, "tokens_deleted_total"), 1.0);

        let backend = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let max = format!(r#"db_pool_max_connections{{backend="{backend}"}}"#);
        assert_eq!(after.get(&max), Some(&4.0), "the test pool's size");
        let in_use = format!(r#"db_pool_connections{{backend="{backend}",state="in_use"}}"#);
        assert!(after.contains_key(&in_use));
        assert!(after.contains_key(&format!(r#"db_pool_waiting{{backend="{backend}"}}"#)));
    }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn metrics_can_have_an_address_of_their_own() {
        let (database_url, _database) = TestDatabase::sqlite();
        let mut settings = test_settings(&database_url);
        settings.metrics = true;
        settings.metrics_bind = Some("127.0.0.1:0".into());
        let app = personal_tokens::app::Application::build(settings)
            .await
            .expect("app starts");
        let main = Browser {
            address: format!("http://{}", app.address()),
            client: client(),
        };
        let own = Browser {
            address: format!("http://{}", app.metrics_address().expect("its own address")),
            client: client(),
        };
        tokio::spawn(app.run_until_stopped());

        assert_eq!(main.get("/healthz").await.status(), 200);
        main.setup_admin().await;
        assert_eq!(
            main.get("/metrics").await.status(),
            404,
            "not on the public port"
        );
        let samples = scrape(&own).await;
        let healthz = r#"http_requests_total{method="GET",route="/healthz",status="2xx"}"#;
        assert!(samples[healthz] >= 1.0);
        assert_eq!(own.get("/tokens").await.status(), 404, "nothing else there");
    }
}

both_backends! {
    async fn every_answer_carries_a_request_id(app) {
        let made = header(&app.get("/healthz").await, "x-request-id");
        assert!(!made.is_empty());
        assert_ne!(made, header(&app.get("/login").await, "x-request-id"));
        let given = app
            .client
            .get(app.url("/api/v1/me"))
            .header("X-Request-Id", "lb-7f3a:42")
            .send()
            .await
            .unwrap();
        assert_eq!(given.status(), 401);
        assert_eq!(header(&given, "x-request-id"), "lb-7f3a:42", "kept, so a trace joins up");
        let odd = app
            .client
            .get(app.url("/healthz"))
            .header("X-Request-Id", "<script>alert(1)</script>")
            .send()
            .await
            .unwrap();
        let replaced = header(&odd, "x-request-id");
        assert!(!replaced.is_empty() && !replaced.contains('<'), "{replaced}");

        // Refusals by the admin pages' gate too: signed out (to /login), and not an admin (404).
        app.setup_admin().await;
        let visitor = Browser {
            address: app.address.clone(),
            client: client(),
        };
        let signed_out = visitor
            .post_form("/login", "/users/new", &[("username", "x")])
            .await;
        assert_eq!(signed_out.status(), 303);
        assert!(!header(&signed_out, "x-request-id").is_empty(), "signed out");
        let engineer = engineer(&app).await;
        let refused = engineer.get("/users").await;
        assert_eq!(refused.status(), 404);
        assert!(!header(&refused, "x-request-id").is_empty(), "not an admin");
    }
}

/// The token check's own connections to this app's database (`application_name` tells them
/// from the pool's), as seen from the server.
fn check_backends(app: &TestApp) -> Vec<i32> {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let admin_url = std::env::var("TEST_POSTGRES_URL").expect("set when Postgres runs");
    let mut conn = diesel::PgConnection::establish(&admin_url).unwrap();
    let name = url::Url::parse(&app.database_url).unwrap().path()[1..].to_owned();
    diesel::sql_query(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
    )
    .bind::<diesel::sql_types::Text, _>(name)
    .bind::<diesel::sql_types::Text, _>(personal_tokens::store::tls::CHECK_APPLICATION_NAME)
    .load::<Pid>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|p| p.pid)
    .collect()
}

fn terminate(pids: &[i32]) {
    let admin_url = std::env::var("TEST_POSTGRES_URL").expect("set when Postgres runs");
    let mut conn = diesel::PgConnection::establish(&admin_url).unwrap();
    for pid in pids {
        diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
            .execute(&mut conn)
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_the_token_check_survives_its_connection_being_killed() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    app.setup_admin().await;
    let token = app.with_token("admin", "resilient", "read_only").await;
    for _ in 0..4 {
        assert_eq!(me(&app, &token).await.0, 200);
    }
    let before = check_backends(&app);
    assert!(
        !before.is_empty(),
        "the check runs on connections of its own, not the pool's"
    );

    terminate(&before);

    for _ in 0..4 {
        let (status, body) = me(&app, &token).await;
        assert_eq!(status, 200, "answered on a new connection: {body}");
    }
    let after = check_backends(&app);
    assert!(!after.is_empty() && after.iter().all(|pid| !before.contains(pid)));
}

/// Several instances started at the same moment over an empty Postgres database all come up:
/// one applies the migrations, the others wait for it and find nothing left to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_started_together_over_an_empty_postgres_all_come_up() {
    let Some((url, _database)) = TestDatabase::postgres() else {
        return;
    };
    let url = personal_tokens::store::DatabaseUrl::parse(&url).unwrap();
    let start = std::sync::Arc::new(std::sync::Barrier::new(4));
    let instances: Vec<_> = (0..4)
        .map(|_| {
            let (url, start) = (url.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                personal_tokens::store::Store::open(&url, 1).map(drop)
            })
        })
        .collect();
    for instance in instances {
        let opened = instance.join().expect("no panic");
        assert!(opened.is_ok(), "an instance failed to start: {opened:?}");
    }
}
