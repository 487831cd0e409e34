//! The API's credential check on SQLite: the checks of one worker turn (`turn`) read in one
//! read transaction. Each check is an indexed read of a few microseconds, but each read also
//! begins and ends a read transaction, which takes and drops SQLite's file locks (fcntl calls
//! under a process-wide mutex the workers contend for): a profile under load put a sixth of the
//! server's time there. A batch pays for that once.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use diesel::Connection;

use super::super::{Pool, Store, StoreResult};
use super::batch::{self, Answer, Turn};
use super::find_credential_by_digest;
use crate::domain::secret::TokenDigest;

/// The most checks in one read transaction: 64 reads hold a worker for a fraction of a
/// millisecond. Under load, batches of 8 already did as well as larger ones.
const BATCH_MOST: usize = 64;

pub struct BatchedChecker {
    turn: Turn,
    pool: Pool,
    waiting: Arc<AtomicI64>,
}

impl BatchedChecker {
    pub fn new(pool: Pool, waiting: Arc<AtomicI64>) -> Self {
        Self {
            turn: Turn::new(BATCH_MOST),
            pool,
            waiting,
        }
    }

    pub async fn find_credential(self: &Arc<Self>, digest: TokenDigest) -> Answer {
        self.turn
            .check(digest, || {
                let me = self.clone();
                tokio::task::spawn_local(async move { me.run_batch() });
            })
            .await
    }

    fn run_batch(&self) {
        let checks = self.turn.take();
        let mut conn = match Store::checkout(&self.pool, &self.waiting) {
            Ok(conn) => conn,
            Err(error) => return batch::fail_all(checks, &error),
        };
        if let [(digest, _)] = checks.as_slice() {
            // Alone in its turn: a transaction of its own would only add BEGIN and COMMIT.
            let answer = find_credential_by_digest(&mut conn, digest);
            if let Some((_, reply)) = checks.into_iter().next() {
                let _ = reply.send(answer);
            }
            return;
        }
        // Reads only, so a deferred transaction: no write lock is taken or waited for.
        let answers = conn.transaction::<_, diesel::result::Error, _>(|conn| {
            Ok(checks
                .iter()
                .map(|(digest, _)| find_credential_by_digest(conn, digest))
                .collect::<Vec<StoreResult<_>>>())
        });
        match answers {
            Ok(answers) => {
                for ((_, reply), answer) in checks.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
            Err(error) => batch::fail_all(checks, &error.into()),
        }
    }
}
