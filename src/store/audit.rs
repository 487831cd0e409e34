//! The audit log (product.md §6). Sign-in throttling reads it too, so every instance of the app
//! sees the same failures.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::NewAuditEvent;
use super::schema::{audit_events, users};
use super::{AnyConnection, StoreResult};
use crate::domain::audit::AuditKind;
use crate::domain::{AccountId, UserId};

/// One event to record. Never put a secret in `subject` or `detail`.
pub struct AuditEvent<'a> {
    pub account_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub kind: AuditKind,
    pub subject: &'a str,
    pub ip: Option<&'a str>,
    pub detail: &'a str,
    /// The time of the operation that records it, so its rows and its entry agree.
    pub at: NaiveDateTime,
}

pub fn record(conn: &mut AnyConnection, event: AuditEvent<'_>) -> StoreResult<()> {
    diesel::insert_into(audit_events::table)
        .values(NewAuditEvent {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: event.account_id,
            actor_id: event.actor_id,
            kind: event.kind.as_str(),
            subject: event.subject,
            ip: event.ip,
            detail: event.detail,
            created_at: event.at,
        })
        .execute(conn)?;
    Ok(())
}

/// An event about `user` that nobody signed in here did: the identity provider did it, through
/// SCIM or at an SSO sign-in. `detail` says which.
pub(crate) fn record_by_provider(
    conn: &mut AnyConnection,
    user: &crate::domain::User,
    kind: AuditKind,
    detail: &str,
    ip: Option<&str>,
    at: NaiveDateTime,
) -> StoreResult<()> {
    record(
        conn,
        AuditEvent {
            account_id: Some(user.account_id.as_str()),
            actor_id: None,
            kind,
            subject: user.id.as_str(),
            ip,
            detail,
            at,
        },
    )
}

/// Failed password sign-ins since `since`, for this username and for this IP.
pub fn recent_login_failures(
    conn: &mut AnyConnection,
    username: &str,
    ip: &str,
    since: NaiveDateTime,
) -> StoreResult<(i64, i64)> {
    let failed = AuditKind::LoginFailed.as_str();
    let sso = format!("{}%", crate::domain::sign_in::THROUGH_SSO);
    let by_username = audit_events::table
        .filter(audit_events::kind.eq(failed))
        .filter(audit_events::subject.eq(username))
        .filter(audit_events::created_at.gt(since))
        .filter(audit_events::detail.not_like(&sso))
        .count()
        .get_result(conn)?;
    let by_ip = audit_events::table
        .filter(audit_events::kind.eq(failed))
        .filter(audit_events::ip.eq(ip))
        .filter(audit_events::created_at.gt(since))
        .filter(audit_events::detail.not_like(&sso))
        .count()
        .get_result(conn)?;
    Ok((by_username, by_ip))
}

/// The audit page's filters, already parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<UserId>,
    pub kind: Option<AuditKind>,
    /// Events about one thing (a token's id), for that token's page.
    pub subject: Option<String>,
}

/// One row of the audit page.
pub struct AuditEntry {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    /// The acting user's display name; `None` for events with no signed-in actor (a failed
    /// sign-in, a command-line action).
    pub actor: Option<String>,
    /// The stored kind; an unknown one (written by a newer version) shows as stored.
    pub kind: String,
    pub subject: String,
    pub detail: String,
    pub ip: Option<String>,
}

pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub matching: i64,
}

type EventRow = (
    String,
    NaiveDateTime,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
);

/// One page of an account's events, newest first.
pub fn list_events(
    conn: &mut AnyConnection,
    account: &AccountId,
    filter: &AuditFilter,
    page: i64,
    per_page: i64,
) -> StoreResult<AuditPage> {
    let filtered = || {
        let mut query = audit_events::table
            .left_join(users::table.on(audit_events::actor_id.eq(users::id.nullable())))
            .filter(audit_events::account_id.eq(account.as_str()))
            .into_boxed::<super::MultiBackend>();
        if let Some(actor) = &filter.actor {
            query = query.filter(audit_events::actor_id.eq(actor.as_str().to_owned()));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(audit_events::kind.eq(kind.as_str()));
        }
        if let Some(subject) = &filter.subject {
            query = query.filter(audit_events::subject.eq(subject.clone()));
        }
        query
    };
    let matching = filtered().count().get_result(conn)?;
    let rows: Vec<EventRow> = filtered()
        .select((
            audit_events::id,
            audit_events::created_at,
            audit_events::actor_id,
            users::display_name.nullable(),
            audit_events::kind,
            audit_events::subject,
            audit_events::detail,
            audit_events::ip,
        ))
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(per_page)
        .offset((page.max(1) - 1).saturating_mul(per_page))
        .load(conn)?;
    let entries = rows
        .into_iter()
        .map(
            |(id, at, actor_id, actor, kind, subject, detail, ip)| AuditEntry {
                id,
                at,
                actor_id,
                actor,
                kind,
                subject,
                detail,
                ip,
            },
        )
        .collect();
    Ok(AuditPage { entries, matching })
}
