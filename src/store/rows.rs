//! Row structs as diesel reads and writes them, and the conversions to domain types shared by
//! several store modules. They stay inside `store/`; callers get domain types.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{accounts, audit_events, users};
use crate::domain::users::UserKind;
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
    pub kind: String,
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
    pub scopes: Option<String>,
}

pub(crate) fn to_user(row: UserRow, account: AccountRow) -> User {
    IssuerRow {
        id: row.id,
        account_id: row.account_id,
        username: row.username,
        display_name: row.display_name,
        role: row.role,
        active: row.active,
        email: row.email,
        email_notices: row.email_notices,
        session_epoch: row.session_epoch,
        kind: row.kind,
    }
    .into_user(account.name)
}

/// The user columns a `User` is made of, and no more: the API's credential check reads these
/// on every request, so not the password hash nor a timestamp it would have to parse.
#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct IssuerRow {
    pub id: String,
    pub account_id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub active: bool,
    pub email: Option<String>,
    pub email_notices: bool,
    pub session_epoch: i32,
    pub kind: String,
}

impl IssuerRow {
    pub(crate) fn into_user(self, account_name: String) -> User {
        User {
            id: UserId::from_trusted(self.id),
            account_id: AccountId::from_trusted(self.account_id),
            account_name,
            username: self.username,
            display_name: self.display_name,
            // The column has a CHECK constraint; anything else is a corrupt row, shown as the
            // least-privileged role rather than a crash.
            role: Role::parse(&self.role).unwrap_or(Role::ReadOnly),
            active: self.active,
            email: self.email,
            email_notices: self.email_notices,
            session_epoch: self.session_epoch,
            // Fails closed: a kind this build does not know never signs in.
            kind: match UserKind::parse(&self.kind) {
                Some(UserKind::Person) => UserKind::Person,
                _ => UserKind::Service,
            },
        }
    }
}
