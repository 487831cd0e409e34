//! The audit log (product.md §6). Sign-in throttling reads it too, so every instance of the app
//! sees the same failures.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::NewAuditEvent;
use super::schema::audit_events;
use super::{AnyConnection, StoreResult};
use crate::domain::time;

pub const LOGIN_FAILED: &str = "login_failed";
pub const LOGIN_SUCCEEDED: &str = "login_succeeded";

/// One event to record. Never put a secret in `subject` or `detail`.
pub struct AuditEvent<'a> {
    pub account_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub kind: &'a str,
    pub subject: &'a str,
    pub ip: Option<&'a str>,
    pub detail: &'a str,
}

pub fn record(conn: &mut AnyConnection, event: AuditEvent<'_>) -> StoreResult<()> {
    diesel::insert_into(audit_events::table)
        .values(NewAuditEvent {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: event.account_id,
            actor_id: event.actor_id,
            kind: event.kind,
            subject: event.subject,
            ip: event.ip,
            detail: event.detail,
            created_at: time::now(),
        })
        .execute(conn)?;
    Ok(())
}

/// Failed sign-ins since `since`, for this username and for this IP.
pub fn recent_login_failures(
    conn: &mut AnyConnection,
    username: &str,
    ip: &str,
    since: NaiveDateTime,
) -> StoreResult<(i64, i64)> {
    let by_username = audit_events::table
        .filter(audit_events::kind.eq(LOGIN_FAILED))
        .filter(audit_events::subject.eq(username))
        .filter(audit_events::created_at.gt(since))
        .count()
        .get_result(conn)?;
    let by_ip = audit_events::table
        .filter(audit_events::kind.eq(LOGIN_FAILED))
        .filter(audit_events::ip.eq(ip))
        .filter(audit_events::created_at.gt(since))
        .count()
        .get_result(conn)?;
    Ok((by_username, by_ip))
}
