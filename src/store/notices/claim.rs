//! Making notices: the expiry warnings a pass finds due, and the notices about one token (a
//! leak, a new address), each once per token, kind, detail and person; and the notices about
//! a person (deactivated by SCIM), made with the deactivation itself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::schema::{notices, tokens, users};
use super::super::status_sql::word_sql;
use super::super::{AnyConnection, MultiBackend, StoreResult};
use super::{STATUS_NONE, STATUS_PENDING};
use crate::domain::notice::{self, NoticeKind, Window};
use crate::domain::status::StatusWord;
use crate::domain::users::UserKind;
use crate::domain::{AccountId, Role, TokenId, UserId};

/// A token that may be due an expiry notice, as the pass reads it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = tokens)]
struct ExpiringToken {
    id: String,
    account_id: String,
    issuer_id: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    notified_7d_at: Option<NaiveDateTime>,
    notified_1d_at: Option<NaiveDateTime>,
}

/// The people a notice about a token may go to: its issuer and the account's administrators.
/// Who of them hears is `notice::recipients`'s decision.
fn candidates(
    conn: &mut AnyConnection,
    account: &str,
    issuer: &str,
) -> StoreResult<Vec<notice::Candidate>> {
    let rows: Vec<(String, String, bool, Option<String>, bool, String)> = users::table
        .filter(users::account_id.eq(account))
        .filter(
            users::id
                .eq(issuer)
                .or(users::role.eq(Role::Admin.as_str())),
        )
        .select((
            users::id,
            users::role,
            users::active,
            users::email,
            users::email_notices,
            users::kind,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, role, active, email, email_notices, kind)| notice::Candidate {
                id,
                role: Role::parse(&role).unwrap_or(Role::ReadOnly),
                active,
                email,
                email_notices,
                service: UserKind::parse(&kind) != Some(UserKind::Person),
            },
        )
        .collect())
}

/// What a notice row is about: a token's id, or a person's.
#[derive(Clone, Copy)]
enum NoticeAbout<'a> {
    Token(&'a str),
    Person(&'a str),
}

/// One notice row for `recipient`; its e-mail is queued when the recipient gets one.
fn insert_notice(
    conn: &mut AnyConnection,
    account_id: &str,
    about: NoticeAbout<'_>,
    recipient: notice::Recipient,
    kind: &NoticeKind,
    now: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    let (kind_name, window_days, detail) = kind.stored();
    let (token_id, subject_id) = match about {
        NoticeAbout::Token(id) => (Some(id), None),
        NoticeAbout::Person(id) => (None, Some(id)),
    };
    let email_to = recipient.email_to;
    diesel::insert_into(notices::table)
        .values((
            notices::id.eq(uuid::Uuid::new_v4().to_string()),
            notices::account_id.eq(account_id),
            notices::token_id.eq(token_id),
            notices::subject_id.eq(subject_id),
            notices::recipient_id.eq(&recipient.id),
            notices::kind.eq(kind_name),
            notices::window_days.eq(window_days),
            notices::detail.eq(detail.as_ref()),
            notices::created_at.eq(now),
            notices::email_status.eq(if email_to.is_some() {
                STATUS_PENDING
            } else {
                STATUS_NONE
            }),
            notices::email_next_attempt_at.eq(email_to.as_ref().map(|_| now)),
            notices::email_to.eq(&email_to),
        ))
        .execute(conn)
}

/// A notice about a person (deactivated by SCIM) for the account's administrators, made in the
/// transaction that deactivated them. Returns how many were made.
pub fn claim_person_notice(
    conn: &mut AnyConnection,
    account: &AccountId,
    subject: &UserId,
    kind: &NoticeKind,
    email_enabled: bool,
    now: NaiveDateTime,
) -> StoreResult<usize> {
    let people = candidates(conn, account.as_str(), "")?;
    let mut made = 0;
    for recipient in notice::recipients(kind, "", people, email_enabled) {
        let about = NoticeAbout::Person(subject.as_str());
        made += insert_notice(conn, account.as_str(), about, recipient, kind, now)?;
    }
    Ok(made)
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
    let people = candidates(conn, account_id, issuer_id)?;
    let mut made = 0;
    for recipient in notice::recipients(kind, issuer_id, people, email_enabled) {
        let about = NoticeAbout::Token(token_id);
        let inserted = insert_notice(conn, account_id, about, recipient, kind, now);
        match inserted {
            Ok(_) => made += 1,
            // Another pass made this one first: that is the point of the key.
            Err(error) if super::super::error::is_unique_violation(&error) => {}
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
    // The tokens expiring soon, the same rule as the list's label and the header's badge; which
    // warning each is due is `notice::due_window`'s.
    let candidates: Vec<ExpiringToken> = tokens::table
        .into_boxed::<MultiBackend>()
        .filter(word_sql(StatusWord::ExpiringSoon, now))
        .select(ExpiringToken::as_select())
        .load(conn)?;
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
