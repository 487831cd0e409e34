//! A throwaway database for one test: a SQLite file in a temporary folder, or a new Postgres
//! database on `TEST_POSTGRES_URL`, dropped with the value. Shared by tests/it and tests/e2e
//! (each includes this file with `#[path]`).

use std::sync::Once;

use diesel::{Connection, RunQueryDsl};

pub enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh SQLite file: (its DATABASE_URL, the guard).
    pub fn sqlite() -> (String, Self) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("test.db").display().to_string();
        (url, Self::Sqlite(dir))
    }

    /// A fresh Postgres database, or `None` (said once) when `TEST_POSTGRES_URL` is not set.
    /// With `CI=true` a missing Postgres is a failure: the Postgres half may not be skipped.
    pub fn postgres() -> Option<(String, Self)> {
        let admin_url = match std::env::var("TEST_POSTGRES_URL") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!(
                        "TEST_POSTGRES_URL must be set in CI: the Postgres half may not be skipped"
                    );
                }
                static WARN: Once = Once::new();
                WARN.call_once(|| {
                    eprintln!(
                        "SKIPPED: Postgres tests (set TEST_POSTGRES_URL=postgres://… to run them)"
                    );
                });
                return None;
            }
        };
        // Before libpq's first connection, as the app does (see `store::DatabaseUrl::connect`).
        openssl_sys::init();
        let name = format!("pt_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("cannot reach TEST_POSTGRES_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .expect("create test database");
        let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        Some((url.to_string(), Self::Postgres { admin_url, name }))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self
            && let Ok(mut conn) = diesel::PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}
