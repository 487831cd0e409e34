//! What every layer shares while the server runs: the store handle and what it remembers about
//! first-run setup. It may import `store` and `domain`, never `web`, `api` or `app`, so the
//! extractors and handlers of both upper layers can take it without a cycle.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::{Store, StoreError};

/// What every handler shares: the store and whether first-run setup is known to be done.
pub struct AppState {
    pub store: Store,
    /// Only ever goes from false to true (users are never all removed), so once set no request
    /// asks the database again.
    setup_done: AtomicBool,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            setup_done: AtomicBool::new(false),
        }
    }

    /// Whether any user exists, asking the database only until the answer is yes.
    pub async fn setup_is_done(&self) -> Result<bool, StoreError> {
        if self.setup_done.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let done = self.store.run(crate::store::users::any_user_exists).await?;
        if done {
            self.setup_done.store(true, Ordering::Relaxed);
        }
        Ok(done)
    }

    pub fn mark_setup_done(&self) {
        self.setup_done.store(true, Ordering::Relaxed);
    }
}
