//! Persistence: the only module that speaks diesel. One code path serves SQLite and Postgres
//! through a multi-backend connection; backend-specific SQL is a `match` kept inside this module.
//! May import `domain` only; never `auth`, `web`, `api` or `app`.

pub mod accounts;
pub mod activity;
pub mod addresses;
pub mod audit;
mod credential_check;
pub mod error;
pub mod leaks;
pub mod notices;
pub mod rows;
pub mod schema;
pub mod scim;
pub mod server_keys;
pub mod services;
pub mod sessions;
pub mod sso;
pub mod status_sql;
pub mod throttles;
pub mod tls;
pub mod tokens;
pub mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use error::{StoreError, StoreResult};

use crate::domain::credential::Credential;
use crate::domain::secret::TokenDigest;
use crate::metrics::PoolReading;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a request waits for a pooled connection, and a dead database takes to say so.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite writers wait this long for the write lock instead of failing with "database is locked".
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// `DATABASE_URL` decided once: diesel's own multi-connection `establish` guesses, hides the
/// real error, and turns a mistyped Postgres URL into a SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> StoreResult<Self> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(StoreError::BadUrl("DATABASE_URL is empty".into()));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::BadUrl(
                    "DATABASE_URL sqlite:// needs a file path".into(),
                ));
            }
            return Ok(Self::Sqlite(path.to_owned()));
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            return Ok(Self::Sqlite(rest.to_owned()));
        }
        // Anything that looks like `scheme:` and is not ours is a typo, not a file name.
        if let Some((scheme, _)) = raw.split_once(':')
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(StoreError::BadUrl(format!(
                "DATABASE_URL scheme `{scheme}:` is not supported; use a file path, sqlite://PATH or postgres://…"
            )));
        }
        Ok(Self::Sqlite(raw.to_owned()))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// For logs: the Postgres password is replaced.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => path.clone(),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                _ => url.clone(),
            },
        }
    }

    fn connect(&self) -> StoreResult<AnyConnection> {
        match self {
            Self::Sqlite(path) => {
                let fail = |e: &dyn std::fmt::Display| {
                    StoreError::Connect(format!("SQLite file {path}: {e}"))
                };
                let mut conn = SqliteConnection::establish(path).map_err(|e| fail(&e))?;
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
                ))
                .map_err(|e| fail(&e))?;
                // SQLite's own lower() knows only ASCII; the name search needs `Ü` = `ü`, as
                // Postgres's lower() gives.
                tokens::lower_utils::register_impl(&mut conn, |text: String| text.to_lowercase())
                    .map_err(|e| fail(&e))?;
                Ok(AnyConnection::Sqlite(conn))
            }
            Self::Postgres(url) => {
                // libpq would initialise OpenSSL itself and register an at-exit cleanup that
                // races with threads still running at exit (double free, SIGSEGV: seen in test
                // processes). This initialisation registers none; it runs once per process.
                openssl_sys::init();
                PgConnection::establish(&tls::libpq_url(url)?)
                    .map(AnyConnection::Postgres)
                    .map_err(|e| {
                        // libpq's messages span lines; the operator gets one.
                        let reason = e
                            .to_string()
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ");
                        StoreError::Connect(format!("Postgres {}: {reason}", self.redacted()))
                    })
            }
        }
    }
}

pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<AnyConnection, StoreError> {
        self.url.connect()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        conn.ping().map_err(StoreError::Query)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;

#[derive(Clone)]
enum Checker {
    Sqlite(Arc<credential_check::sqlite::BatchedChecker>),
    Postgres(Arc<credential_check::postgres::AsyncChecker>),
}

/// The handle the web layer holds: a pool plus a way to run diesel off the async workers.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Callers waiting for a connection right now, for `/metrics` (r2d2 does not say).
    waiting: Arc<AtomicI64>,
    /// The API's token check, its requests grouped per worker turn (`credential_check`): one query on
    /// Postgres, one read transaction on SQLite.
    checker: Checker,
}

impl Store {
    /// Connects, runs the embedded migrations, and opens the pool. Fails fast with the real cause.
    pub fn open(url: &DatabaseUrl, max_connections: u32) -> StoreResult<Self> {
        let mut conn = url.connect()?;
        run_migrations(&mut conn)?;
        drop(conn);
        let pool = r2d2::Pool::builder()
            .max_size(max_connections)
            .min_idle(Some(1))
            .connection_timeout(POOL_TIMEOUT)
            // A ping before every checkout doubled the queries of the API's hot path; a broken
            // connection is found by the query that fails on it and then dropped (`has_broken`).
            .test_on_check_out(false)
            .build(ConnectionManager { url: url.clone() })
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        let waiting = Arc::<AtomicI64>::default();
        let checker = match url {
            DatabaseUrl::Postgres(url) => Checker::Postgres(Arc::new(
                credential_check::postgres::AsyncChecker::new(tls::PgTarget::parse(url)?),
            )),
            DatabaseUrl::Sqlite(_) => Checker::Sqlite(Arc::new(
                credential_check::sqlite::BatchedChecker::new(pool.clone(), waiting.clone()),
            )),
        };
        Ok(Self {
            pool,
            waiting,
            checker,
        })
    }

    /// A connection from the pool, counted as waiting until it is handed over.
    fn checkout(
        pool: &Pool,
        waiting: &AtomicI64,
    ) -> StoreResult<PooledConnection<ConnectionManager>> {
        waiting.fetch_add(1, Ordering::Relaxed);
        let conn = pool.get();
        waiting.fetch_sub(1, Ordering::Relaxed);
        Ok(conn?)
    }

    /// The pool as `/metrics` shows it.
    pub fn pool_reading(&self) -> PoolReading {
        let state = self.pool.state();
        PoolReading {
            backend: if self.is_local() {
                "sqlite"
            } else {
                "postgres"
            },
            in_use: state.connections.saturating_sub(state.idle_connections),
            idle: state.idle_connections,
            waiting: self.waiting.load(Ordering::Relaxed).max(0),
            max: self.pool.max_size(),
        }
    }

    /// Runs `job` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> StoreResult<T> + Send + 'static,
    {
        let (pool, waiting) = (self.pool.clone(), self.waiting.clone());
        tokio::task::spawn_blocking(move || {
            let mut conn = Self::checkout(&pool, &waiting)?;
            job(&mut conn)
        })
        .await?
    }

    /// SQLite answers an indexed read in microseconds from this process; Postgres is a round
    /// trip away.
    fn is_local(&self) -> bool {
        matches!(self.checker, Checker::Sqlite(_))
    }

    /// For one small read (readiness). On SQLite it runs on the calling thread: handing a read
    /// of a few microseconds to the blocking pool and back cost more than the read (perf: task
    /// switches dominated). On Postgres it goes to the blocking pool like everything else, so a
    /// round trip does not stall an HTTP worker.
    pub async fn run_quick<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> StoreResult<T> + Send + 'static,
    {
        if self.is_local() {
            let mut conn = Self::checkout(&self.pool, &self.waiting)?;
            job(&mut conn)
        } else {
            self.run(job).await
        }
    }

    /// The API's credential check: on SQLite indexed reads on the calling worker, the checks
    /// of one turn in one read transaction; on Postgres the checks of one turn in one query on
    /// this worker's own connection. Neither hops to the blocking pool.
    pub async fn find_credential(&self, digest: TokenDigest) -> StoreResult<Option<Credential>> {
        match &self.checker {
            Checker::Postgres(checker) => checker.find_credential(digest).await,
            Checker::Sqlite(checker) => checker.find_credential(digest).await,
        }
    }

    /// Synchronous access for the command line, which has no async runtime to spare.
    pub fn run_blocking<T>(
        &self,
        job: impl FnOnce(&mut AnyConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = Self::checkout(&self.pool, &self.waiting)?;
        job(&mut conn)
    }
}

/// A trivial query, for readiness checks.
pub fn ping(conn: &mut AnyConnection) -> StoreResult<()> {
    diesel::sql_query("SELECT 1").execute(conn)?;
    Ok(())
}

/// The key of the advisory lock migrations run under on Postgres.
const MIGRATION_LOCK: &str = "personal-tokens:migrations";

/// Runs the migrations not yet applied. On Postgres they run under a session advisory lock, so
/// instances that start together take turns: the first applies them, the others find nothing
/// left to do (unlocked, two would both create diesel's own table and one would die on a
/// duplicate key). SQLite is one process's file; its write lock is enough.
pub fn run_migrations(conn: &mut AnyConnection) -> StoreResult<()> {
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    match conn {
        AnyConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(drop)
            .map_err(migration_error),
        AnyConnection::Postgres(c) => {
            diesel::sql_query("SELECT pg_advisory_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(MIGRATION_LOCK)
                .execute(c)?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(drop)
                .map_err(migration_error);
            // Released with the session anyway; unlocked here so a long-lived connection
            // does not keep the others waiting.
            let unlocked = diesel::sql_query("SELECT pg_advisory_unlock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(MIGRATION_LOCK)
                .execute(c);
            applied?;
            unlocked?;
            Ok(())
        }
    }
}

/// Runs `job` in a transaction that holds the write lock named by `lock_key` from its first
/// statement, so check-then-insert rules (the first administrator, the token limit) hold under
/// concurrency. SQLite: `BEGIN IMMEDIATE` takes the database write lock. Postgres: a
/// transaction-scoped advisory lock on the key.
pub(crate) fn locked_transaction<T>(
    conn: &mut AnyConnection,
    lock_key: &str,
    job: impl FnOnce(&mut AnyConnection) -> StoreResult<T>,
) -> StoreResult<T> {
    match conn {
        AnyConnection::Sqlite(inner) => {
            // Begun through diesel's own transaction manager, so a panic in `job` marks the
            // connection broken and nested transactions become savepoints.
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            match job(conn) {
                Ok(value) => {
                    <AnyConnection as TransactionManager<AnyConnection>>::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(error) => {
                    <AnyConnection as TransactionManager<AnyConnection>>::rollback_transaction(
                        conn,
                    )?;
                    Err(error)
                }
            }
        }
        AnyConnection::Postgres(_) => conn.transaction(|conn| {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(lock_key)
                .execute(conn)?;
            job(conn)
        }),
    }
}
