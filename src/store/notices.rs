//! Notices: claiming them exactly once, the e-mail delivery state, and the notifications page.
//! The claim is the unique key (token, kind, window, detail, recipient): an insert that loses the
//! race fails on it and changes nothing, so any number of passes may run at once.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::schema::{notices, tokens, users};
use super::{AnyConnection, StoreResult, users as user_store};
use crate::domain::notice::{self, NoticeKind, Window};
use crate::domain::{Role, TokenId, User, UserId};

const STATUS_NONE: &str = "none";
const STATUS_PENDING: &str = "pending";
const STATUS_SENT: &str = "sent";
const STATUS_FAILED: &str = "failed";

/// A token that may be due a notice, as the pass reads it.
struct Candidate {
    id: String,
    account_id: String,
    issuer_id: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    notified_7d_at: Option<NaiveDateTime>,
    notified_1d_at: Option<NaiveDateTime>,
}

/// Who hears about a token: its issuer, and unless `issuer_only` the account's administrators;
/// only active people.
fn recipients(
    conn: &mut AnyConnection,
    account: &str,
    issuer: &str,
    issuer_only: bool,
) -> StoreResult<Vec<(String, Option<String>, bool)>> {
    let admins = if issuer_only {
        ""
    } else {
        Role::Admin.as_str()
    };
    Ok(users::table
        .filter(users::account_id.eq(account))
        .filter(users::active.eq(true))
        .filter(users::id.eq(issuer).or(users::role.eq(admins)))
        .select((users::id, users::email, users::email_notices))
        .load(conn)?)
}

/// Inserts one notice for each recipient of the token; returns how many this call made (a
/// notice another pass made first is the unique key's refusal, and is skipped).
fn claim_for_recipients(
    conn: &mut AnyConnection,
    token: (&str, &str, &str),
    kind: &NoticeKind,
    email_enabled: bool,
    now: NaiveDateTime,
) -> StoreResult<usize> {
    let (token_id, account_id, issuer_id) = token;
    let issuer_only = matches!(kind, NoticeKind::NewAddress { .. });
    let (kind_name, window_days, detail) = kind.stored();
    let mut made = 0;
    for (recipient, email, wants_email) in recipients(conn, account_id, issuer_id, issuer_only)? {
        let email_to = email.filter(|_| email_enabled && wants_email);
        let inserted = diesel::insert_into(notices::table)
            .values((
                notices::id.eq(uuid::Uuid::new_v4().to_string()),
                notices::account_id.eq(account_id),
                notices::token_id.eq(token_id),
                notices::recipient_id.eq(&recipient),
                notices::kind.eq(kind_name),
                notices::window_days.eq(window_days),
                notices::detail.eq(detail),
                notices::created_at.eq(now),
                notices::email_status.eq(if email_to.is_some() {
                    STATUS_PENDING
                } else {
                    STATUS_NONE
                }),
                notices::email_next_attempt_at.eq(email_to.as_ref().map(|_| now)),
                notices::email_to.eq(&email_to),
            ))
            .execute(conn);
        match inserted {
            Ok(_) => made += 1,
            // Another pass made this one first: that is the point of the key.
            Err(error) if super::error::is_unique_violation(&error) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(made)
}

/// A notice about one token other than its expiry (reported leaked: issuer and administrators;
/// a new address: the issuer), made once per token, kind, detail and person.
pub fn claim_token_notice(
    conn: &mut AnyConnection,
    token: &TokenId,
    kind: &NoticeKind,
    email_enabled: bool,
    now: NaiveDateTime,
) -> StoreResult<usize> {
    let found = tokens::table
        .filter(tokens::id.eq(token.as_str()))
        .select((tokens::account_id, tokens::issuer_id))
        .get_result::<(String, String)>(conn)
        .optional()?;
    let Some((account_id, issuer_id)) = found else {
        return Ok(0);
    };
    claim_for_recipients(
        conn,
        (token.as_str(), &account_id, &issuer_id),
        kind,
        email_enabled,
        now,
    )
}

/// Makes every notice due at `now` that no pass has made yet. Returns how many this call made.
/// An e-mail is queued where `email_enabled` (SMTP is configured) and the recipient has an
/// address and wants e-mails.
pub fn claim_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    email_enabled: bool,
) -> StoreResult<usize> {
    let horizon = now + TimeDelta::days(i64::from(Window::SevenDays.days()));
    let candidates: Vec<Candidate> = tokens::table
        .filter(tokens::deleted_at.is_null())
        .filter(tokens::expires_at.gt(now).assume_not_null())
        .filter(tokens::expires_at.le(horizon).assume_not_null())
        .select((
            tokens::id,
            tokens::account_id,
            tokens::issuer_id,
            tokens::created_at,
            tokens::expires_at,
            tokens::notified_7d_at,
            tokens::notified_1d_at,
        ))
        .load::<(
            String,
            String,
            String,
            NaiveDateTime,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        )>(conn)?
        .into_iter()
        .map(|row| Candidate {
            id: row.0,
            account_id: row.1,
            issuer_id: row.2,
            created_at: row.3,
            expires_at: row.4,
            notified_7d_at: row.5,
            notified_1d_at: row.6,
        })
        .collect();
    let mut made = 0;
    for token in candidates {
        let Some(window) = notice::due_window(token.created_at, token.expires_at, false, now)
        else {
            continue;
        };
        let done = match window {
            Window::SevenDays => token.notified_7d_at,
            Window::OneDay => token.notified_1d_at,
        };
        if done.is_some() {
            continue;
        }
        made += claim_for_recipients(
            conn,
            (&token.id, &token.account_id, &token.issuer_id),
            &NoticeKind::Expiry(window),
            email_enabled,
            now,
        )?;
        // Every recipient has their notice now; later passes skip the token for this window.
        let row = tokens::table.filter(tokens::id.eq(&token.id));
        match window {
            Window::SevenDays => diesel::update(row)
                .set(tokens::notified_7d_at.eq(now))
                .execute(conn)?,
            Window::OneDay => diesel::update(row)
                .set(tokens::notified_1d_at.eq(now))
                .execute(conn)?,
        };
    }
    Ok(made)
}

type NoticeCondition = Box<
    dyn BoxableExpression<notices::table, super::MultiBackend, SqlType = diesel::sql_types::Bool>,
>;

/// An e-mail due at `now` (queued, or failed and past its back-off) that no pass holds.
fn email_due(now: NaiveDateTime) -> NoticeCondition {
    Box::new(
        notices::email_status
            .eq_any([STATUS_PENDING, STATUS_FAILED])
            .and(notices::email_next_attempt_at.le(now).assume_not_null())
            .and(
                notices::email_leased_until
                    .is_null()
                    .or(notices::email_leased_until.lt(now).assume_not_null()),
            ),
    )
}

/// Notice `id`, while the lease taken until `until` is still this pass's.
fn leased(id: &str, until: NaiveDateTime) -> NoticeCondition {
    Box::new(
        notices::id
            .eq(id.to_owned())
            .and(notices::email_leased_until.eq(until).assume_not_null()),
    )
}

/// Notices whose e-mail is due (queued, or failed and past its back-off) and not leased.
pub fn due_emails(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<String>> {
    Ok(notices::table
        .filter(email_due(now))
        .order(notices::created_at.asc())
        .select(notices::id)
        .limit(limit)
        .load(conn)?)
}

/// Everything an e-mail says, read after the lease was taken.
pub struct EmailJob {
    pub notice_id: String,
    pub to: String,
    pub attempts: i32,
    pub recipient: User,
    pub issuer: User,
    pub token_name: String,
    pub last_four: String,
    pub token_role: Role,
    pub expires_at: Option<NaiveDateTime>,
    pub kind: NoticeKind,
}

/// Takes the e-mail of notice `id` for this pass until `until`, if nobody else holds it and it
/// is still due. `None`: another pass has it, or it was sent meanwhile.
pub fn lease_email(
    conn: &mut AnyConnection,
    id: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> StoreResult<Option<EmailJob>> {
    let taken = diesel::update(
        notices::table
            .filter(notices::id.eq(id))
            .filter(email_due(now)),
    )
    .set((
        notices::email_leased_until.eq(until),
        notices::email_attempts.eq(notices::email_attempts + 1),
    ))
    .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    let (to, attempts, recipient_id, (kind, window_days, detail), token_id) = notices::table
        .filter(notices::id.eq(id))
        .select((
            notices::email_to,
            notices::email_attempts,
            notices::recipient_id,
            (notices::kind, notices::window_days, notices::detail),
            notices::token_id,
        ))
        .get_result::<(Option<String>, i32, String, (String, i32, String), String)>(conn)?;
    let (token_name, last_four, role, expires_at, issuer_id) = tokens::table
        .filter(tokens::id.eq(&token_id))
        .select((
            tokens::name,
            tokens::last_four,
            tokens::role,
            tokens::expires_at,
            tokens::issuer_id,
        ))
        .get_result::<(String, String, String, Option<NaiveDateTime>, String)>(conn)?;
    let find = |conn: &mut AnyConnection, id: String| {
        user_store::find_user_by_id(conn, &UserId::from_trusted(id))
    };
    let corrupt = |what: &str| super::StoreError::Corrupt(format!("notice {id}: {what}"));
    let recipient = find(conn, recipient_id)?.ok_or_else(|| corrupt("no recipient"))?;
    // Someone deactivated or who turned e-mails off since the notice was made gets no more.
    if !recipient.active || !recipient.email_notices {
        diesel::update(notices::table.filter(notices::id.eq(id)))
            .set((
                notices::email_status.eq(STATUS_NONE),
                notices::email_leased_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        return Ok(None);
    }
    Ok(Some(EmailJob {
        notice_id: id.to_owned(),
        to: to.ok_or_else(|| corrupt("no address"))?,
        attempts,
        recipient,
        issuer: find(conn, issuer_id)?.ok_or_else(|| corrupt("no issuer"))?,
        token_name,
        last_four,
        token_role: Role::parse(&role).unwrap_or(Role::ReadOnly),
        expires_at,
        kind: NoticeKind::from_stored(&kind, window_days, detail)
            .ok_or_else(|| corrupt("unknown kind"))?,
    }))
}

/// Records the e-mail as sent, if this pass still holds its lease (`until`, as taken).
pub fn mark_sent(
    conn: &mut AnyConnection,
    id: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(notices::table.filter(leased(id, until)))
        .set((
            notices::email_status.eq(STATUS_SENT),
            notices::email_sent_at.eq(now),
            notices::email_leased_until.eq(None::<NaiveDateTime>),
            notices::email_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt and when to try again (`notice::retry_delay`), if this pass still
/// holds the lease.
pub fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
    attempts: i32,
    error: &str,
) -> StoreResult<()> {
    // The reason is shown on the notifications page; a server's essay is cut to a line.
    let error = crate::domain::name::printable(error, 300);
    diesel::update(notices::table.filter(leased(id, until)))
        .set((
            notices::email_status.eq(STATUS_FAILED),
            notices::email_error.eq(error),
            notices::email_next_attempt_at.eq(now + notice::retry_delay(attempts)),
            notices::email_leased_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Where a notice's e-mail stands, for the notifications page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailState {
    NotSent,
    Pending,
    Sent(NaiveDateTime),
    Failed {
        error: String,
        next_attempt: Option<NaiveDateTime>,
    },
}

/// One row of the notifications page.
pub struct NoticeEntry {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub read: bool,
    pub kind: NoticeKind,
    pub token_id: TokenId,
    pub token_name: String,
    pub last_four: String,
    pub issuer_id: UserId,
    pub expires_at: Option<NaiveDateTime>,
    pub token_deleted: bool,
    pub email: EmailState,
}

type EntryRow = (
    (
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        (String, i32, String),
        String,
        Option<NaiveDateTime>,
        Option<String>,
        Option<NaiveDateTime>,
    ),
    (
        String,
        String,
        String,
        String,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    ),
);

/// `recipient`'s notices, newest first.
pub fn list_for(
    conn: &mut AnyConnection,
    recipient: &UserId,
    limit: i64,
) -> StoreResult<Vec<NoticeEntry>> {
    let rows: Vec<EntryRow> = notices::table
        .inner_join(tokens::table)
        .filter(notices::recipient_id.eq(recipient.as_str()))
        .order((notices::created_at.desc(), notices::id.asc()))
        .limit(limit)
        .select((
            (
                notices::id,
                notices::created_at,
                notices::read_at,
                (notices::kind, notices::window_days, notices::detail),
                notices::email_status,
                notices::email_sent_at,
                notices::email_error,
                notices::email_next_attempt_at,
            ),
            (
                tokens::id,
                tokens::name,
                tokens::last_four,
                tokens::issuer_id,
                tokens::expires_at,
                tokens::deleted_at,
            ),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(n, t)| NoticeEntry {
            id: n.0,
            created_at: n.1,
            read: n.2.is_some(),
            kind: NoticeKind::from_stored(&n.3.0, n.3.1, n.3.2)
                .unwrap_or(NoticeKind::Expiry(Window::SevenDays)),
            email: match n.4.as_str() {
                STATUS_SENT => EmailState::Sent(n.5.unwrap_or(n.1)),
                STATUS_PENDING => EmailState::Pending,
                STATUS_FAILED => EmailState::Failed {
                    error: n.6.unwrap_or_default(),
                    next_attempt: n.7,
                },
                _ => EmailState::NotSent,
            },
            token_id: TokenId::from_trusted(t.0),
            token_name: t.1,
            last_four: t.2,
            issuer_id: UserId::from_trusted(t.3),
            expires_at: t.4,
            token_deleted: t.5.is_some(),
        })
        .collect())
}

pub fn unread_count(conn: &mut AnyConnection, recipient: &UserId) -> StoreResult<i64> {
    Ok(notices::table
        .filter(notices::recipient_id.eq(recipient.as_str()))
        .filter(notices::read_at.is_null())
        .count()
        .get_result(conn)?)
}

pub fn mark_all_read(
    conn: &mut AnyConnection,
    recipient: &UserId,
    now: NaiveDateTime,
) -> StoreResult<usize> {
    Ok(diesel::update(
        notices::table
            .filter(notices::recipient_id.eq(recipient.as_str()))
            .filter(notices::read_at.is_null()),
    )
    .set(notices::read_at.eq(now))
    .execute(conn)?)
}
