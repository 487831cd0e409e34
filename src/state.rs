//! What every layer shares while the server runs: the store handle and what it remembers about
//! first-run setup. It may import `store` and `domain`, never `web`, `api` or `app`, so the
//! extractors and handlers of both upper layers can take it without a cycle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};

use crate::auth::scanning::ScanningKeys;
use crate::domain::TokenId;
use crate::domain::time::Clock;
use crate::notify::Notifier;
use crate::store::{Store, StoreError};

/// What every handler shares: the store, the notifier, the secret-scanning keys, and what this
/// instance remembers for a moment (first-run setup, recent events it need not repeat).
pub struct AppState {
    pub store: Store,
    pub notifier: Notifier,
    /// `None`: no keys configured, and the secret-scanning endpoint does not exist.
    pub scanning_keys: Option<ScanningKeys>,
    /// Only ever goes from false to true (users are never all removed), so once set no request
    /// asks the database again.
    setup_done: AtomicBool,
    recent: Recent,
    /// Requests per token and day not yet added to the store.
    pub activity: Activity,
    /// The one clock (the real time unless a test moved it): read it through `now`.
    pub clock: Arc<Clock>,
    /// `PUBLIC_URL`: the issuer introspection names.
    pub public_url: Option<String>,
    /// Single sign-on, when the provider is configured.
    pub sso: Option<Arc<Sso>>,
}

/// Single sign-on as configured: the provider, the account its people join, and whether
/// password sign-in is off for everyone but administrators with a password.
pub struct Sso {
    pub oidc: crate::auth::oidc::Oidc,
    pub account: crate::domain::AccountName,
    pub only: bool,
}

impl AppState {
    pub fn new(store: Store, notifier: Notifier, scanning_keys: Option<ScanningKeys>) -> Self {
        Self {
            store,
            notifier,
            scanning_keys,
            setup_done: AtomicBool::new(false),
            recent: Recent::default(),
            activity: Activity::default(),
            clock: Arc::new(Clock::default()),
            public_url: None,
            sso: None,
        }
    }

    pub fn with_sso(mut self, sso: Option<Sso>) -> Self {
        self.sso = sso.map(Arc::new);
        self
    }

    pub fn with_public_url(mut self, public_url: Option<String>) -> Self {
        self.public_url = public_url;
        self
    }

    /// The time now, as every handler and pass reads it: the real time unless a test moved the
    /// clock.
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }

    /// Sends the notice e-mails due now, in the background: after a leak report its owners
    /// should hear at once, not at the next pass. A failure waits for that pass.
    pub fn send_notices_soon(&self) {
        if !self.notifier.email_enabled() {
            return;
        }
        let (notifier, store, now) = (self.notifier.clone(), self.store.clone(), self.now());
        tokio::spawn(async move {
            let sent = tokio::task::spawn_blocking(move || notifier.send_due(&store, now)).await;
            if let Ok(Err(error)) = sent {
                tracing::warn!(%error, "sending notices failed; the next pass retries");
            }
        });
    }

    /// True the first time `key` is seen within `window` on this instance; every later call in
    /// the window is false. For work that may be skipped when it was just done (recording a
    /// refused address, looking up an address a token just used).
    pub fn first_within(&self, key: &str, window: Duration) -> bool {
        self.recent.first_within(key, window)
    }

    /// Counts a request under `key` and says whether it is within `limit` per `window`.
    pub fn within_rate(&self, key: &str, limit: u32, window: Duration) -> bool {
        self.recent.within_rate(key, limit, window)
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

    /// Adds the counts taken from memory to the store; on failure they go back, for the next
    /// flush. Run every `ACTIVITY_FLUSH_MS` and once more at shutdown.
    pub async fn flush_activity(&self) {
        let batch = self.activity.take();
        if batch.is_empty() {
            return;
        }
        let stored = batch.clone();
        let result = self
            .store
            .run(move |conn| crate::store::activity::add_counts(conn, &stored))
            .await;
        if let Err(error) = result {
            tracing::warn!(%error, "storing request counts failed; kept for the next flush");
            self.activity.restore(batch);
        }
    }

    pub fn mark_setup_done(&self) {
        self.setup_done.store(true, Ordering::Relaxed);
    }
}

/// API requests counted in memory per token and day, taken in batches by the flush task.
/// Sharded by thread: each HTTP worker counts under a lock of its own, so two workers never
/// wait on each other (under load one shared lock cost a futex call per request). No
/// allocation once a token has been counted in the batch.
#[derive(Default)]
pub struct Activity {
    shards: [Mutex<DayCounts>; ACTIVITY_SHARDS],
}

type DayCounts = HashMap<TokenId, Vec<(NaiveDate, i64)>>;

const ACTIVITY_SHARDS: usize = 8;

/// Adds `n` requests of `token` on `day`; the id is cloned only for a token new to `counts`.
fn add_count(counts: &mut DayCounts, token: &TokenId, day: NaiveDate, n: i64) {
    match counts.get_mut(token) {
        Some(days) => match days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, m)) => *m += n,
            None => days.push((day, n)),
        },
        None => {
            counts.insert(token.clone(), vec![(day, n)]);
        }
    }
}

impl Activity {
    fn shard(&self) -> &Mutex<DayCounts> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % ACTIVITY_SHARDS;
        }
        &self.shards[SHARD.with(|shard| *shard)]
    }

    pub fn count(&self, token: &TokenId, day: NaiveDate) {
        let mut counts = self.shard().lock().unwrap_or_else(|e| e.into_inner());
        add_count(&mut counts, token, day, 1);
    }

    /// Everything counted since the last take, as (token, day, requests).
    pub fn take(&self) -> Vec<(TokenId, NaiveDate, i64)> {
        let mut merged = DayCounts::new();
        for shard in &self.shards {
            let taken = std::mem::take(&mut *shard.lock().unwrap_or_else(|e| e.into_inner()));
            for (token, days) in taken {
                for (day, n) in days {
                    add_count(&mut merged, &token, day, n);
                }
            }
        }
        merged
            .into_iter()
            .flat_map(|(token, days)| {
                days.into_iter()
                    .map(move |(day, n)| (token.clone(), day, n))
            })
            .collect()
    }

    /// Puts back counts a failed flush could not store, so the next flush adds them.
    pub fn restore(&self, batch: Vec<(TokenId, NaiveDate, i64)>) {
        let mut counts = self.shard().lock().unwrap_or_else(|e| e.into_inner());
        for (token, day, n) in batch {
            add_count(&mut counts, &token, day, n);
        }
    }
}

/// Bounded in-memory memories, per instance. Losing them (a restart) only means some work is
/// done once more, never that a rule is skipped.
#[derive(Default)]
struct Recent {
    seen: Mutex<HashMap<String, Instant>>,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Past this many keys the oldest are dropped, so a flood of distinct keys cannot grow memory.
const RECENT_MAX_KEYS: usize = 50_000;

impl Recent {
    fn first_within(&self, key: &str, window: Duration) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen
            .get(key)
            .is_some_and(|at| now.duration_since(*at) < window)
        {
            return false;
        }
        if seen.len() >= RECENT_MAX_KEYS {
            seen.retain(|_, at| now.duration_since(*at) < window);
            if seen.len() >= RECENT_MAX_KEYS {
                seen.clear();
            }
        }
        seen.insert(key.to_owned(), now);
        true
    }

    fn within_rate(&self, key: &str, limit: u32, window: Duration) -> bool {
        let now = Instant::now();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= RECENT_MAX_KEYS {
            counts.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_first_once_per_window() {
        let recent = Recent::default();
        assert!(recent.first_within("a", Duration::from_secs(60)));
        assert!(!recent.first_within("a", Duration::from_secs(60)));
        assert!(recent.first_within("b", Duration::from_secs(60)));
        assert!(
            recent.first_within("a", Duration::ZERO),
            "a window that has passed"
        );
    }

    #[test]
    fn activity_is_taken_once_and_restored_when_a_flush_fails() {
        let activity = Activity::default();
        let (a, b) = (TokenId::generate(), TokenId::generate());
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        for _ in 0..3 {
            activity.count(&a, day);
        }
        activity.count(&b, day);
        activity.count(&a, day.succ_opt().unwrap());
        let mut batch = activity.take();
        batch.sort_by_key(|(t, d, _)| (t.to_string(), *d));
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.iter().map(|(_, _, n)| n).sum::<i64>(), 5);
        assert!(activity.take().is_empty(), "taken once");
        activity.restore(batch);
        activity.count(&a, day);
        let total: i64 = activity.take().iter().map(|(_, _, n)| n).sum();
        assert_eq!(total, 6);
    }

    #[test]
    fn counts_from_many_threads_come_out_as_one_row_per_token_and_day() {
        let activity = Arc::new(Activity::default());
        let token = TokenId::generate();
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let threads: Vec<_> = (0..ACTIVITY_SHARDS + 3)
            .map(|_| {
                let (activity, token) = (activity.clone(), token.clone());
                std::thread::spawn(move || (0..100).for_each(|_| activity.count(&token, day)))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(
            activity.take(),
            vec![(token, day, 100 * (ACTIVITY_SHARDS as i64 + 3))]
        );
    }

    #[test]
    fn the_rate_is_counted_per_key() {
        let recent = Recent::default();
        let minute = Duration::from_secs(60);
        assert!((0..3).all(|_| recent.within_rate("ip", 3, minute)));
        assert!(!recent.within_rate("ip", 3, minute));
        assert!(recent.within_rate("other", 3, minute));
    }
}
