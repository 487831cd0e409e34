//! The notifications page: a person's notices, newest first, with where each e-mail stands.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::schema::{notices, tokens, users};
use super::super::{AnyConnection, StoreResult};
use super::{STATUS_FAILED, STATUS_PENDING, STATUS_SENT};
use crate::domain::notice::{NoticeKind, Window};
use crate::domain::status::StatusDates;
use crate::domain::{TokenId, UserId};

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

/// What a notice is about.
pub enum About {
    Token {
        token_id: TokenId,
        token_name: String,
        last_four: String,
        issuer_id: UserId,
        expires_at: Option<NaiveDateTime>,
        /// The token's dates, for whether it still counts (`StatusWord::Live`).
        token_dates: StatusDates,
    },
    Person {
        id: UserId,
        display_name: String,
        username: String,
    },
}

/// One row of the notifications page.
pub struct NoticeEntry {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub read: bool,
    pub kind: NoticeKind,
    pub about: About,
    pub email: EmailState,
}

/// A notice's columns as the page reads them.
#[derive(Queryable, Selectable)]
#[diesel(table_name = notices)]
struct NoticeColumns {
    id: String,
    created_at: NaiveDateTime,
    read_at: Option<NaiveDateTime>,
    kind: String,
    window_days: i32,
    detail: String,
    email_status: String,
    email_sent_at: Option<NaiveDateTime>,
    email_error: Option<String>,
    email_next_attempt_at: Option<NaiveDateTime>,
}

/// The token a notice is about, as the page names it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = tokens)]
struct NoticedToken {
    id: String,
    name: String,
    last_four: String,
    issuer_id: String,
    expires_at: Option<NaiveDateTime>,
    deleted_at: Option<NaiveDateTime>,
    suspended_at: Option<NaiveDateTime>,
}

/// The person a notice is about, as the page names them.
#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct NoticedPerson {
    id: String,
    display_name: String,
    username: String,
}

/// `recipient`'s notices, newest first.
pub fn list_for(
    conn: &mut AnyConnection,
    recipient: &UserId,
    limit: i64,
) -> StoreResult<Vec<NoticeEntry>> {
    type Row = (NoticeColumns, Option<NoticedToken>, Option<NoticedPerson>);
    let rows: Vec<Row> = notices::table
        .left_join(tokens::table.on(notices::token_id.eq(tokens::id.nullable())))
        .left_join(users::table.on(notices::subject_id.eq(users::id.nullable())))
        .filter(notices::recipient_id.eq(recipient.as_str()))
        .order((notices::created_at.desc(), notices::id.asc()))
        .limit(limit)
        .select((
            NoticeColumns::as_select(),
            Option::<NoticedToken>::as_select(),
            Option::<NoticedPerson>::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(n, token, person)| {
            // Every notice is about one of them (a CHECK says so).
            let about = match (token, person) {
                (Some(t), _) => About::Token {
                    token_id: TokenId::from_trusted(t.id),
                    token_name: t.name,
                    last_four: t.last_four,
                    issuer_id: UserId::from_trusted(t.issuer_id),
                    expires_at: t.expires_at,
                    token_dates: StatusDates {
                        deleted_at: t.deleted_at,
                        expires_at: t.expires_at,
                        suspended_at: t.suspended_at,
                    },
                },
                (None, Some(person)) => About::Person {
                    id: UserId::from_trusted(person.id),
                    display_name: person.display_name,
                    username: person.username,
                },
                (None, None) => return None,
            };
            Some((n, about))
        })
        .map(|(n, about)| NoticeEntry {
            read: n.read_at.is_some(),
            kind: NoticeKind::from_stored(&n.kind, n.window_days, n.detail)
                .unwrap_or(NoticeKind::Expiry(Window::SevenDays)),
            email: match n.email_status.as_str() {
                STATUS_SENT => EmailState::Sent(n.email_sent_at.unwrap_or(n.created_at)),
                STATUS_PENDING => EmailState::Pending,
                STATUS_FAILED => EmailState::Failed {
                    error: n.email_error.unwrap_or_default(),
                    next_attempt: n.email_next_attempt_at,
                },
                _ => EmailState::NotSent,
            },
            id: n.id,
            created_at: n.created_at,
            about,
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
