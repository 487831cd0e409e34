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
    let token = create_token(&app, "ops", "30", "read_only").await;
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

    for path in [
        "/tokens",
        "/users",
        "/tokens/new",
        "/nothing/here",
        "/notifications",
    ] {
        let status = app.get(path).await.status().as_u16();
        assert!(status == 503 || status == 404, "GET {path}: {status}");
        assert_ne!(status, 500);
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
}
