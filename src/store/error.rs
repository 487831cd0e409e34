//! What can go wrong below the store's functions. Causes are kept for the log; callers map these
//! to a fixed message for users.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    BadUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("running migrations failed: {0}")]
    Migration(String),
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A stored value no longer passes the rules it passed when written.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A unique index refused the row; the payload names what was taken (`username`, `name`).
    #[error("{0} is already taken")]
    Taken(&'static str),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The database is not answering (down, unreachable, the connection dropped): the request
    /// may succeed later, so callers answer 503, not 500.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        matches!(
            self,
            Self::Connect(_)
                | Self::Pool(_)
                | Self::Query(Error::BrokenTransactionManager)
                | Self::Query(Error::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _,
                ))
        )
    }
}

/// True when `error` is a unique-index violation, so callers can name the taken value.
pub(crate) fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// A unique-index refusal becomes `Taken(what)`; any other error stays a query error.
pub(crate) fn taken_as(error: diesel::result::Error, what: &'static str) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::Taken(what)
    } else {
        error.into()
    }
}
