//! Row structs as diesel reads and writes them, and the conversions to domain types shared by
//! several store modules. They stay inside `store/`; callers get domain types.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{accounts, audit_events, users};
use crate::domain::{AccountId, Role, User, UserId};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub account_id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub email: Option<String>,
    pub email_notices: bool,
    pub session_epoch: i32,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub id: String,
    pub account_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub kind: &'a str,
    pub subject: &'a str,
    pub ip: Option<&'a str>,
    pub detail: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::tokens)]
pub struct TokenRow {
    pub id: String,
    pub account_id: String,
    pub issuer_id: String,
    pub name: String,
    pub description: String,
    pub role: String,
    pub digest: Vec<u8>,
    pub last_four: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_used_ip: Option<String>,
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted_by: Option<String>,
    pub notified_7d_at: Option<NaiveDateTime>,
    pub notified_1d_at: Option<NaiveDateTime>,
    pub allowed_ips: String,
    pub deleted_reason: Option<String>,
    pub suspended_at: Option<NaiveDateTime>,
    pub replaced_by: Option<String>,
}

pub(crate) fn to_user(row: UserRow, account: AccountRow) -> User {
    User {
        id: UserId::from_trusted(row.id),
        account_id: AccountId::from_trusted(row.account_id),
        account_name: account.name,
        username: row.username,
        display_name: row.display_name,
        // The column has a CHECK constraint; anything else is a corrupt row, shown as the
        // least-privileged role rather than a crash.
        role: Role::parse(&row.role).unwrap_or(Role::ReadOnly),
        active: row.active,
        email: row.email,
        email_notices: row.email_notices,
        session_epoch: row.session_epoch,
    }
}
