//! The API's credential check on Postgres, off the blocking pool. diesel's own query runs over
//! tokio-postgres (diesel-async) on one long-lived connection per HTTP worker thread: the
//! requests a worker has in flight are pipelined on it, and the statement is prepared once per
//! connection. A connection that drops is replaced and the query tried once more; a database
//! that does not answer within the pool timeout is a `StoreError::Connect` (503), never a hang.
//! Nothing but the connection is kept: a token deleted a moment ago fails on its next request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{ExpressionMethods, JoinOnDsl, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tokio::sync::OnceCell;

use super::rows::{AccountRow, UserRow};
use super::schema::{accounts, tokens, users};
use super::tls::PgTarget;
use super::tokens::{CredentialColumns, credential_query, to_credential};
use super::{POOL_TIMEOUT, StoreError, StoreResult};
use crate::domain::credential::Credential;
use crate::domain::token::TokenDigest;

type Slot = Rc<OnceCell<Rc<AsyncPgConnection>>>;

thread_local! {
    /// This worker's connection per checker (a process may run several apps, as tests do).
    static SLOTS: RefCell<HashMap<u64, Slot>> = RefCell::new(HashMap::new());
}

pub struct AsyncChecker {
    id: u64,
    target: PgTarget,
}

impl AsyncChecker {
    pub fn new(target: PgTarget) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            target,
        }
    }

    /// The token with this digest and its issuer, as `tokens::find_credential_by_digest`.
    /// One deadline covers it all (waiting for another request's connect, connecting, the
    /// retry), so a request never waits longer than the pool timeout for an answer. When it
    /// runs out, this worker's connection is not trusted again: the next request makes anew.
    pub async fn find_credential(&self, digest: &TokenDigest) -> StoreResult<Option<Credential>> {
        match tokio::time::timeout(POOL_TIMEOUT, self.find_credential_untimed(digest)).await {
            Ok(found) => found,
            Err(_) => {
                SLOTS.with(|slots| slots.borrow_mut().remove(&self.id));
                Err(StoreError::Connect(format!(
                    "Postgres did not answer within {} s",
                    POOL_TIMEOUT.as_secs()
                )))
            }
        }
    }

    async fn find_credential_untimed(
        &self,
        digest: &TokenDigest,
    ) -> StoreResult<Option<Credential>> {
        let mut tries = 0;
        loop {
            tries += 1;
            let (slot, conn) = self.connection().await?;
            let found = credential_query!(digest.as_bytes())
                .get_result::<(CredentialColumns, UserRow, AccountRow)>(&mut &*conn)
                .await;
            match found {
                Ok(row) => return Ok(Some(to_credential(row))),
                Err(DieselError::NotFound) => return Ok(None),
                Err(error) if connection_lost(&error) => {
                    self.forget(&slot);
                    if tries >= 2 {
                        return Err(StoreError::Connect(format!("Postgres: {error}")));
                    }
                    tracing::info!(%error, "the token check's connection was lost; reconnecting");
                }
                Err(error) => return Err(StoreError::Query(error)),
            }
        }
    }

    /// This worker's connection, made on first use; requests that arrive while it is being
    /// made wait for that one rather than each opening their own.
    async fn connection(&self) -> StoreResult<(Slot, Rc<AsyncPgConnection>)> {
        let slot = SLOTS.with(|slots| slots.borrow_mut().entry(self.id).or_default().clone());
        let conn = slot.get_or_try_init(|| self.connect()).await?.clone();
        Ok((slot, conn))
    }

    /// Drops `slot` unless another request has already replaced it.
    fn forget(&self, slot: &Slot) {
        SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            if slots
                .get(&self.id)
                .is_some_and(|current| Rc::ptr_eq(current, slot))
            {
                slots.remove(&self.id);
            }
        });
    }

    async fn connect(&self) -> StoreResult<Rc<AsyncPgConnection>> {
        match self.target.connect().await {
            Ok(conn) => Ok(Rc::new(conn)),
            Err(reason) => Err(StoreError::Connect(format!("Postgres: {reason}"))),
        }
    }
}

/// The errors after which the connection is gone: it closed, or the server ended the backend
/// (`pg_terminate_backend`, a restart), which diesel reports only by its message.
fn connection_lost(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            message.starts_with("terminating connection") || message.contains("connection closed")
        }
        _ => false,
    }
}
