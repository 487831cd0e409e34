//! The API's credential check on Postgres, off the blocking pool. diesel's own query runs over
//! tokio-postgres (diesel-async) on one long-lived connection per HTTP worker thread: the checks
//! of one worker turn go as one query (`turn`), the batches a worker has in flight are pipelined
//! on it, and the statement is prepared once per connection. A connection that drops is
//! replaced and the query tried once more; a database that does not answer within the pool
//! timeout is a `StoreError::Connect` (503), never a hang.
//! Nothing but the connection is kept: a token deleted a moment ago fails on its next request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{ExpressionMethods, JoinOnDsl, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use tokio::sync::OnceCell;

use super::super::rows::IssuerRow;
use super::super::schema::{accounts, tokens, users};
use super::super::tls::PgTarget;
use super::super::{POOL_TIMEOUT, StoreError, StoreResult};
use super::batch::{self, Answer, Turn};
use super::{CredentialRow, credential_query, to_credential};
use crate::domain::credential::Credential;
use crate::domain::secret::TokenDigest;

type Slot = Rc<OnceCell<Rc<AsyncPgConnection>>>;

thread_local! {
    /// This worker's connection per checker (a process may run several apps, as tests do).
    static SLOTS: RefCell<HashMap<u64, Slot>> = RefCell::new(HashMap::new());
}

/// The most checks in one query. Under load (64 connections, 2 workers) batches of 8 gave
/// four fifths of the throughput of batches of 64; more did not matter.
const BATCH_MOST: usize = 64;

pub struct AsyncChecker {
    id: u64,
    turn: Turn,
    target: PgTarget,
}

impl AsyncChecker {
    pub fn new(target: PgTarget) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            turn: Turn::new(BATCH_MOST),
            target,
        }
    }

    /// The token with this digest and its issuer, as `tokens::find_credential_by_digest`. The
    /// checks of one worker turn go to Postgres as one query (`turn`): one statement, one
    /// round trip and one reply for all of them, where each had cost the server the same again.
    pub async fn find_credential(self: &Arc<Self>, digest: TokenDigest) -> Answer {
        self.turn
            .check(digest, || {
                let me = self.clone();
                tokio::task::spawn_local(async move { me.run_batch().await });
            })
            .await
    }

    /// One deadline covers it all (waiting for another batch's connect, connecting, the
    /// retry), so a request never waits longer than the pool timeout for an answer. When it
    /// runs out, this worker's connection is not trusted again: the next batch makes anew.
    async fn run_batch(&self) {
        let checks = self.turn.take();
        let mut digests: Vec<Vec<u8>> = checks.iter().map(|(d, _)| d.as_bytes().to_vec()).collect();
        digests.sort_unstable();
        digests.dedup();
        let found = match tokio::time::timeout(POOL_TIMEOUT, self.find_untimed(digests)).await {
            Ok(found) => found,
            Err(_) => {
                SLOTS.with(|slots| slots.borrow_mut().remove(&self.id));
                Err(StoreError::Connect(format!(
                    "Postgres did not answer within {} s",
                    POOL_TIMEOUT.as_secs()
                )))
            }
        };
        match found {
            Ok(found) => {
                for (digest, reply) in checks {
                    let _ = reply.send(Ok(found.get(digest.as_bytes()).cloned()));
                }
            }
            Err(error) => batch::fail_all(checks, &error),
        }
    }

    /// The credentials of these digests, by digest (the unknown ones are absent).
    async fn find_untimed(
        &self,
        digests: Vec<Vec<u8>>,
    ) -> StoreResult<HashMap<Vec<u8>, Credential>> {
        let mut tries = 0;
        loop {
            tries += 1;
            let (slot, conn) = self.connection().await?;
            // `= ANY($1)` with an array: one prepared statement whatever the batch's size.
            let found = credential_query!(tokens::digest.eq_any(&digests))
                .load::<CredentialRow>(&mut &*conn)
                .await;
            match found {
                Ok(rows) => {
                    return Ok(rows
                        .into_iter()
                        .map(|row| (row.0.digest.clone(), to_credential(row)))
                        .collect());
                }
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
        let mut conn = self
            .target
            .connect()
            .await
            .map_err(|reason| StoreError::Connect(format!("Postgres: {reason}")))?;
        // This connection runs one statement, `digest = ANY($1)` over unique indexes. Left to
        // itself Postgres estimates ten rows for the array, finds its generic plan dearer than
        // the custom ones, and plans the statement anew on every run: under load that planning
        // was most of the database's time. The generic plan is right here. (Postgres 12+.)
        conn.batch_execute("SET plan_cache_mode = force_generic_plan")
            .await
            .map_err(|e| StoreError::Connect(format!("Postgres: {e}")))?;
        Ok(Rc::new(conn))
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
