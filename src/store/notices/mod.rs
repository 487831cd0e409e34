//! Notices, in three jobs: `claim` makes them exactly once (the unique key (token, kind,
//! window, detail, recipient) is the claim: an insert that loses the race fails on it and
//! changes nothing, so any number of passes may run at once), `outbox` leases and records their
//! e-mails, `inbox` is the notifications page. Who hears of what is `domain::notice`'s.

mod claim;
mod inbox;
mod outbox;

pub use claim::{claim_due, claim_person_notice, claim_token_notice};
pub use inbox::{About, EmailState, NoticeEntry, list_for, mark_all_read, unread_count};
pub use outbox::{EmailAbout, EmailJob, due_emails, lease_email, mark_failed, mark_sent};

/// Where a notice's e-mail stands, as stored.
const STATUS_NONE: &str = "none";
const STATUS_PENDING: &str = "pending";
const STATUS_SENT: &str = "sent";
const STATUS_FAILED: &str = "failed";
