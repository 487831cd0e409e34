//! The API's credential checks, gathered per worker turn. Under load an HTTP worker has many
//! requests ready at once; the checks they ask for in one turn of its event loop are queued
//! here and answered together by one task, spawned by the first of them, which runs after the
//! rest have queued theirs. SQLite then reads them in one read transaction (`sqlite`),
//! Postgres in one query (`postgres`).
//!
//! Nothing is cached: a batch is read after every request in it arrived, so each sees every
//! commit made before it arrived, and a token deleted a moment ago fails as before.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;

use super::super::{StoreError, StoreResult};
use crate::domain::credential::Credential;
use crate::domain::secret::TokenDigest;

pub(super) type Answer = StoreResult<Option<Credential>>;

/// A queued check: the digest and where its answer goes.
pub(super) type Check = (TokenDigest, oneshot::Sender<Answer>);

#[derive(Default)]
struct Pending {
    checks: VecDeque<Check>,
    /// Tasks spawned on this thread that have not yet taken their batch. Each takes up to
    /// `Turn::most` checks, and there are always enough of them for every queued check.
    spawned: usize,
}

thread_local! {
    /// This worker's checks waiting for their batch, per checker (a process may run several
    /// apps, as tests do, and a batch must not mix their databases).
    static PENDING: RefCell<HashMap<u64, Pending>> = RefCell::new(HashMap::new());
}

/// One checker's queue on each worker thread.
pub(super) struct Turn {
    id: u64,
    most: usize,
}

impl Turn {
    /// Batches of at most `most` checks.
    pub fn new(most: usize) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            most: most.max(1),
        }
    }

    /// Queues a check on this worker. The first check of a batch calls `spawn`: it must
    /// spawn, on this worker, a task that `take`s a batch and answers it. Runs on an HTTP
    /// worker (a local task set), as every API request does.
    pub async fn check(&self, digest: TokenDigest, spawn: impl FnOnce()) -> Answer {
        let (reply, answer) = oneshot::channel();
        let first = PENDING.with(|pending| {
            let mut pending = pending.borrow_mut();
            let mine = pending.entry(self.id).or_default();
            mine.checks.push_back((digest, reply));
            let first = mine.checks.len() > mine.spawned * self.most;
            mine.spawned += usize::from(first);
            first
        });
        if first {
            spawn();
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Connect(
                "the token check stopped before it answered".into(),
            ))
        })
    }

    /// The oldest checks queued on this worker, at most `most`. Checks queued from now on go
    /// in a later batch, which may run while this one waits for the database.
    pub fn take(&self) -> Vec<Check> {
        PENDING.with(|pending| {
            let mut pending = pending.borrow_mut();
            let mine = pending.entry(self.id).or_default();
            mine.spawned = mine.spawned.saturating_sub(1);
            let count = mine.checks.len().min(self.most);
            mine.checks.drain(..count).collect()
        })
    }
}

/// Answers every check with the same failure. A `StoreError` is not `Clone`: the cause is
/// kept as text, and whether the database is unavailable (503) or the query failed (500).
pub(super) fn fail_all(checks: Vec<Check>, error: &StoreError) {
    let reason = error.to_string();
    for (_, reply) in checks {
        let shared = if let StoreError::Connect(cause) = error {
            StoreError::Connect(cause.clone())
        } else if error.is_unavailable() {
            StoreError::Connect(reason.clone())
        } else {
            StoreError::Query(diesel::result::Error::QueryBuilderError(
                reason.clone().into(),
            ))
        };
        let _ = reply.send(Err(shared));
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    #[tokio::test]
    async fn checks_of_one_turn_are_answered_in_batches_of_at_most_most() {
        let local = tokio::task::LocalSet::new();
        let batches = Rc::new(RefCell::new(Vec::new()));
        let turn = Rc::new(Turn::new(4));
        local
            .run_until(async {
                let calls: Vec<_> = (0..10)
                    .map(|n| {
                        let (turn, batches) = (turn.clone(), batches.clone());
                        tokio::task::spawn_local(async move {
                            let digest = TokenDigest::of(&format!("token {n}"));
                            let spawn = {
                                let turn = turn.clone();
                                move || {
                                    tokio::task::spawn_local(async move {
                                        let checks = turn.take();
                                        batches.borrow_mut().push(checks.len());
                                        fail_all(checks, &StoreError::Connect("down".into()));
                                    });
                                }
                            };
                            turn.check(digest, spawn).await
                        })
                    })
                    .collect();
                for call in calls {
                    let answer = call.await.unwrap();
                    assert!(matches!(answer, Err(StoreError::Connect(cause)) if cause == "down"));
                }
            })
            .await;
        assert_eq!(*batches.borrow(), [4, 4, 2]);
    }
}
