//! The expiry-notice pass (product.md §6): claim the notices due, then send their e-mails. It
//! runs inside every server on `NOTICE_INTERVAL` and as `personal-tokens notify`; any number at
//! once, on any number of instances, make each notice once, because the claim is a unique key in
//! the database and an e-mail is sent only by the pass holding its lease, after the claim has
//! committed. May import `store`, `domain` and `config`; never `web`, `api` or `app`.

pub mod mail;

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};

use crate::config::Settings;
use crate::domain::notice::{self, NoticeFacts, PersonNoticeFacts};
use crate::domain::time::Clock;
use crate::metrics::METRICS;
use crate::store::notices::EmailAbout;
use crate::store::{Store, StoreError, notices, sessions};
pub use mail::{MailError, Mailer};

/// E-mails one pass takes on; the rest wait for the next pass.
const EMAILS_PER_PASS: i64 = 500;
/// How long a pass holds an e-mail it is sending: past the SMTP timeout, so a pass that died
/// mid-send frees it for a later pass.
const LEASE: TimeDelta = TimeDelta::minutes(2);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    pub made: usize,
    pub sent: usize,
    pub failed: usize,
}

impl std::fmt::Display for PassReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "made {} notices, sent {} e-mails, {} e-mails failed (retried later)",
            self.made, self.sent, self.failed
        )
    }
}

/// Everything a pass needs besides the store.
#[derive(Clone)]
pub struct Notifier {
    mailer: Option<Mailer>,
    /// `PUBLIC_URL` without a trailing slash.
    public_url: String,
}

impl Notifier {
    /// From the settings; a bad `SMTP_URL` or `MAIL_FROM` is an error here, at start.
    pub fn from_settings(settings: &Settings) -> Result<Self, MailError> {
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", settings.bind))
            .trim_end_matches('/')
            .to_owned();
        let host = url::Url::parse(&public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .ok_or_else(|| MailError::from(format!("PUBLIC_URL `{public_url}` has no host")))?;
        let mailer = match &settings.smtp_url {
            Some(smtp_url) => {
                let from = settings
                    .mail_from
                    .clone()
                    .unwrap_or_else(|| format!("Personal Tokens <personal-tokens@{host}>"));
                Some(Mailer::new(smtp_url, &from, &host)?)
            }
            None => None,
        };
        Ok(Self { mailer, public_url })
    }

    /// One pass at `now`, blocking (run it on a blocking thread). Claims commit before any
    /// e-mail goes out; an e-mail that fails is recorded and retried by a later pass.
    pub fn run_pass(&self, store: &Store, now: NaiveDateTime) -> Result<PassReport, StoreError> {
        let email_enabled = self.email_enabled();
        let pass = || -> Result<PassReport, StoreError> {
            let made = store.run_blocking(|conn| notices::claim_due(conn, now, email_enabled))?;
            // The pass is the servers' periodic housekeeping: ended sessions go with it.
            store.run_blocking(|conn| sessions::purge(conn, now))?;
            let (sent, failed) = self.send_due(store, now)?;
            Ok(PassReport { made, sent, failed })
        };
        let report = pass();
        match &report {
            Ok(_) => METRICS.notice_passes.inc(),
            Err(_) => METRICS.notice_passes_failed.inc(),
        }
        report
    }

    /// Whether notices should queue e-mails (SMTP is configured).
    pub fn email_enabled(&self) -> bool {
        self.mailer.is_some()
    }

    /// Sends every e-mail that is due and not held by another pass: (sent, failed). Also run
    /// right after a leak report, so its e-mails need not wait for the next pass.
    pub fn send_due(
        &self,
        store: &Store,
        now: NaiveDateTime,
    ) -> Result<(usize, usize), StoreError> {
        let (mut sent, mut failed) = (0, 0);
        let Some(mailer) = &self.mailer else {
            return Ok((sent, failed));
        };
        let due = store.run_blocking(|conn| notices::due_emails(conn, now, EMAILS_PER_PASS))?;
        let started = std::time::Instant::now();
        for id in due {
            // A long pass (slow SMTP) moves its clock on, so a lease it takes late is a fresh
            // one and cannot have run out before it is written.
            let now = now + TimeDelta::from_std(started.elapsed()).unwrap_or_default();
            let until = now + LEASE;
            let Some(job) =
                store.run_blocking(|conn| notices::lease_email(conn, &id, now, until))?
            else {
                continue;
            };
            let text = match &job.about {
                EmailAbout::Token {
                    issuer,
                    token_name,
                    last_four,
                    token_role,
                    expires_at,
                } => notice::email(&NoticeFacts {
                    recipient_name: &job.recipient.display_name,
                    recipient_is_issuer: job.recipient.id == issuer.id,
                    account_name: &job.recipient.account_name,
                    token_name,
                    last_four,
                    token_role: *token_role,
                    issuer_name: &issuer.display_name,
                    expires_at: *expires_at,
                    kind: &job.kind,
                    public_url: &self.public_url,
                }),
                EmailAbout::Person(person) => notice::person_email(&PersonNoticeFacts {
                    recipient_name: &job.recipient.display_name,
                    account_name: &job.recipient.account_name,
                    person_name: &person.display_name,
                    username: &person.username,
                    person_id: person.id.as_str(),
                    kind: &job.kind,
                    public_url: &self.public_url,
                }),
            };
            let key = format!("notice.{}", job.notice_id);
            match mailer.send(&job.to, &text.subject, text.body, &key) {
                Ok(()) => {
                    METRICS.emails_sent.inc();
                    store.run_blocking(|conn| notices::mark_sent(conn, &id, until, now))?;
                    sent += 1;
                }
                Err(error) => {
                    METRICS.emails_failed.inc();
                    tracing::warn!(notice = %id, %error, "notice e-mail failed; will retry");
                    store.run_blocking(|conn| {
                        let error = error.to_string();
                        notices::mark_failed(conn, &id, until, now, job.attempts, &error)
                    })?;
                    failed += 1;
                }
            }
        }
        Ok((sent, failed))
    }

    /// Runs a pass every `interval` inside the server, after a random first delay so instances
    /// started together do not all fire at once. A failed pass is logged; the next one retries.
    pub fn spawn(self, store: Store, clock: Arc<Clock>, interval: Duration) -> NoticeTask {
        let first = Duration::from_millis(rand::random_range(0..=interval.as_millis() as u64));
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let handle = tokio::spawn(async move {
            let mut delay = first;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stopped.changed() => return,
                }
                delay = interval;
                let (notifier, pass_store, now) = (self.clone(), store.clone(), clock.now());
                // Not raced against the stop signal: a pass that has claimed notices finishes
                // sending them before the server exits.
                let outcome =
                    tokio::task::spawn_blocking(move || notifier.run_pass(&pass_store, now)).await;
                match outcome {
                    Ok(Ok(report)) if report != PassReport::default() => {
                        tracing::info!(%report, "notice pass");
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => tracing::error!(%error, "notice pass failed"),
                    Err(error) => tracing::error!(%error, "notice pass panicked"),
                }
                if *stopped.borrow() {
                    return;
                }
            }
        });
        NoticeTask { stop, handle }
    }
}

/// The server's notice loop, stopped at shutdown.
pub struct NoticeTask {
    stop: tokio::sync::watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl NoticeTask {
    /// Ends the loop: at once when it is waiting, after the pass when one is running.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.handle.await {
            tracing::error!(%error, "notice loop ended badly");
        }
    }
}

impl From<String> for MailError {
    fn from(message: String) -> Self {
        Self(message)
    }
}
