//! Notice e-mails: which are due, the lease a pass takes on one before sending it, and what
//! came of the attempt. A lease is held until a time, so a pass that died mid-send frees it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::schema::{notices, tokens};
use super::super::{AnyConnection, MultiBackend, StoreError, StoreResult, users as user_store};
use super::{STATUS_FAILED, STATUS_NONE, STATUS_PENDING, STATUS_SENT};
use crate::domain::notice::{self, NoticeKind};
use crate::domain::status::status_at;
use crate::domain::{Role, User, UserId};

type NoticeCondition =
    Box<dyn BoxableExpression<notices::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

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

/// What an e-mail is about.
pub enum EmailAbout {
    Token {
        issuer: User,
        token_name: String,
        last_four: String,
        token_role: Role,
        expires_at: Option<NaiveDateTime>,
    },
    Person(User),
}

/// Everything an e-mail says, read after the lease was taken.
pub struct EmailJob {
    pub notice_id: String,
    pub to: String,
    pub attempts: i32,
    pub recipient: User,
    pub about: EmailAbout,
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
    let (to, attempts, recipient_id, (kind, window_days, detail), (token_id, subject_id)) =
        notices::table
            .filter(notices::id.eq(id))
            .select((
                notices::email_to,
                notices::email_attempts,
                notices::recipient_id,
                (notices::kind, notices::window_days, notices::detail),
                (notices::token_id, notices::subject_id),
            ))
            .get_result::<(
                Option<String>,
                i32,
                String,
                (String, i32, String),
                (Option<String>, Option<String>),
            )>(conn)?;
    let find = |conn: &mut AnyConnection, id: String| {
        user_store::find_user_by_id(conn, &UserId::from_trusted(id))
    };
    let corrupt = |what: &str| StoreError::Corrupt(format!("notice {id}: {what}"));
    let kind = NoticeKind::from_stored(&kind, window_days, detail)
        .ok_or_else(|| corrupt("unknown kind"))?;
    let about = match (token_id, subject_id) {
        (Some(token_id), _) => {
            type Row = (
                (String, String, String, Option<NaiveDateTime>, String),
                (Option<NaiveDateTime>, Option<NaiveDateTime>, Option<String>),
            );
            let ((token_name, last_four, role, expires_at, issuer_id), standing) = tokens::table
                .filter(tokens::id.eq(&token_id))
                .select((
                    (
                        tokens::name,
                        tokens::last_four,
                        tokens::role,
                        tokens::expires_at,
                        tokens::issuer_id,
                    ),
                    (
                        tokens::deleted_at,
                        tokens::suspended_at,
                        tokens::replaced_by,
                    ),
                ))
                .get_result::<Row>(conn)?;
            let (deleted_at, suspended_at, replaced_by) = standing;
            let status = status_at(deleted_at, expires_at, suspended_at, now);
            if !notice::still_worth_sending(&kind, status, replaced_by.is_some()) {
                return drop_email(conn, id);
            }
            EmailAbout::Token {
                issuer: find(conn, issuer_id)?.ok_or_else(|| corrupt("no issuer"))?,
                token_name,
                last_four,
                token_role: Role::parse(&role).unwrap_or(Role::ReadOnly),
                expires_at,
            }
        }
        (None, Some(subject_id)) => {
            EmailAbout::Person(find(conn, subject_id)?.ok_or_else(|| corrupt("no person"))?)
        }
        (None, None) => return Err(corrupt("about nothing")),
    };
    let recipient = find(conn, recipient_id)?.ok_or_else(|| corrupt("no recipient"))?;
    if !notice::still_wants_email(&recipient) {
        return drop_email(conn, id);
    }
    Ok(Some(EmailJob {
        notice_id: id.to_owned(),
        to: to.ok_or_else(|| corrupt("no address"))?,
        attempts,
        recipient,
        about,
        kind,
    }))
}

/// The notice stays on the notifications page; its e-mail is no longer to be sent.
fn drop_email(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<EmailJob>> {
    diesel::update(notices::table.filter(notices::id.eq(id)))
        .set((
            notices::email_status.eq(STATUS_NONE),
            notices::email_leased_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(None)
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
