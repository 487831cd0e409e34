//! Users: lookup for sign-in and sessions; creation at setup, on the command line and on the users
//! page; role, standing, settings and password changes, each with its audit event.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::{self, AuditEvent};
use super::rows::{AccountRow, UserRow, to_user};
use super::schema::{accounts, tokens, users};
use super::status_sql::word_sql;
use super::{AnyConnection, StoreResult, accounts as account_store, locked_transaction};
use crate::domain::audit::AuditKind;
use crate::domain::status::StatusWord;
use crate::domain::users::{
    NewUser, StandingChange, UserKind, added_audit_detail, keeps_an_administrator,
};
use crate::domain::{AccountId, DomainError, Email, Role, User, UserId};

/// The stored hash of someone with no password (added by SCIM, or a service account): no
/// argon2 hash, so no password ever matches it.
pub(crate) const NO_PASSWORD_HASH: &str = "!";

/// A user as sign-in needs it: the stored argon2 hash beside the user.
pub struct UserWithHash {
    pub user: User,
    pub password_hash: String,
}

pub fn any_user_exists(conn: &mut AnyConnection) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)?)
}

pub fn find_user_by_id(conn: &mut AnyConnection, id: &UserId) -> StoreResult<Option<User>> {
    let found = users::table
        .inner_join(accounts::table)
        .filter(users::id.eq(id.as_str()))
        .select((UserRow::as_select(), AccountRow::as_select()))
        // Unique key: `get_result` spares SQLite the re-prepare a bound `LIMIT` causes.
        .get_result::<(UserRow, AccountRow)>(conn)
        .optional()?;
    Ok(found.map(|(user, account)| to_user(user, account)))
}

/// A user of `account` only: another account's user id is simply not found.
pub fn find_user_in_account(
    conn: &mut AnyConnection,
    account: &AccountId,
    id: &UserId,
) -> StoreResult<Option<User>> {
    Ok(find_user_by_id(conn, id)?.filter(|user| user.account_id == *account))
}

pub fn find_user_by_username(
    conn: &mut AnyConnection,
    username: &str,
) -> StoreResult<Option<UserWithHash>> {
    let found = users::table
        .inner_join(accounts::table)
        .filter(users::username.eq(username))
        .select((UserRow::as_select(), AccountRow::as_select()))
        .get_result::<(UserRow, AccountRow)>(conn)
        .optional()?;
    Ok(found.map(|(user, account)| {
        let password_hash = user.password_hash.clone();
        UserWithHash {
            user: to_user(user, account),
            password_hash,
        }
    }))
}

fn insert_user(
    conn: &mut AnyConnection,
    new: &NewUser,
    password_hash: &str,
    now: NaiveDateTime,
) -> StoreResult<User> {
    let account = account_store::find_or_create_account(conn, &new.account, now)?;
    let row = UserRow {
        id: UserId::generate().to_string(),
        account_id: account.id.clone(),
        username: new.username.as_str().to_owned(),
        display_name: new.display_name.as_str().to_owned(),
        // A service account has no password; no hash is kept for it.
        password_hash: match new.kind {
            UserKind::Service => NO_PASSWORD_HASH.to_owned(),
            UserKind::Person => password_hash.to_owned(),
        },
        role: new.role.as_str().to_owned(),
        active: true,
        created_at: now,
        email: new.email.as_ref().map(|e| e.as_str().to_owned()),
        email_notices: true,
        session_epoch: 0,
        kind: new.kind.as_str().to_owned(),
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| super::error::taken_as(e, "username"))?;
    Ok(to_user(row, account))
}

/// Creates the account and its first administrator, only while no user exists at all.
/// `None` means setup was already done (possibly by a request a moment earlier).
pub fn create_first_admin(
    conn: &mut AnyConnection,
    new: &NewUser,
    password_hash: &str,
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<User>> {
    locked_transaction(conn, "first-run-setup", |conn| {
        if any_user_exists(conn)? {
            return Ok(None);
        }
        let user = insert_user(conn, new, password_hash, now)?;
        record_added(conn, &user, Some(&user), Some("at setup"), Some(ip), now)?;
        Ok(Some(user))
    })
}

/// "User added" in the audit log of the user's account, by `actor` (none: the command line),
/// saying `how` where it was not on the users page.
fn record_added(
    conn: &mut AnyConnection,
    user: &User,
    actor: Option<&User>,
    how: Option<&str>,
    ip: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let detail = match how {
        Some(how) => format!("{}, {how}", added_audit_detail(user)),
        None => added_audit_detail(user),
    };
    audit::record(
        conn,
        AuditEvent {
            account_id: Some(user.account_id.as_str()),
            actor_id: actor.map(|a| a.id.as_str()),
            kind: AuditKind::UserAdded,
            subject: user.id.as_str(),
            ip,
            detail: &detail,
            at: now,
        },
    )
}

/// Adds a user, creating the account when the name is new (the command line's `user add`).
pub fn add_user(
    conn: &mut AnyConnection,
    new: &NewUser,
    password_hash: &str,
    now: NaiveDateTime,
) -> StoreResult<User> {
    // The write lock from the first statement (BEGIN IMMEDIATE on SQLite): a transaction that
    // reads the account and then writes would fail at once with "database is locked" when a
    // running server wrote in between, instead of waiting its turn.
    locked_transaction(
        conn,
        &format!("account-users:{}", new.account.as_str()),
        |conn| {
            let user = insert_user(conn, new, password_hash, now)?;
            record_added(conn, &user, None, Some("from the command line"), None, now)?;
            Ok(user)
        },
    )
}

/// An administrator adds a colleague to their own account. A taken username is
/// `StoreError::Taken("username")`.
pub fn add_account_user(
    conn: &mut AnyConnection,
    actor: &User,
    new: &NewUser,
    password_hash: &str,
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<User> {
    // BEGIN IMMEDIATE on SQLite: the account is read before the insert, and a plain transaction
    // that another writer overtakes fails at once instead of waiting its turn.
    locked_transaction(
        conn,
        &format!("account-users:{}", actor.account_id),
        |conn| {
            let user = insert_user(conn, new, password_hash, now)?;
            record_added(conn, &user, Some(actor), None, Some(ip), now)?;
            Ok(user)
        },
    )
}

/// One row of the users page.
pub struct UserSummary {
    pub user: User,
    pub created_at: NaiveDateTime,
    /// Live tokens the user issued (`StatusWord::Live`: what the limit counts).
    pub live_tokens: i64,
    /// An identity provider described them through SCIM.
    pub provisioned: bool,
    /// SCIM deleted them: deactivated, and gone from SCIM.
    pub removed: bool,
    /// They sign in through the identity provider.
    pub sso: bool,
}

/// The account's users: administrators first, then by username.
pub fn list_users(
    conn: &mut AnyConnection,
    account: &AccountId,
    now: NaiveDateTime,
) -> StoreResult<Vec<UserSummary>> {
    let rows = users::table
        .inner_join(accounts::table)
        .filter(users::account_id.eq(account.as_str()))
        .select((
            UserRow::as_select(),
            AccountRow::as_select(),
            users::scim_document.is_not_null(),
            users::removed_at.is_not_null(),
            users::sso_subject.is_not_null(),
        ))
        .load::<(UserRow, AccountRow, bool, bool, bool)>(conn)?;
    let counts: Vec<(String, i64)> = tokens::table
        .filter(tokens::account_id.eq(account.as_str()))
        .filter(word_sql(StatusWord::Live, now))
        .group_by(tokens::issuer_id)
        .select((tokens::issuer_id, diesel::dsl::count_star()))
        .load(conn)?;
    let mut summaries: Vec<UserSummary> = rows
        .into_iter()
        .map(|(row, account, provisioned, removed, sso)| {
            let created_at = row.created_at;
            let live_tokens = counts
                .iter()
                .find(|(issuer, _)| *issuer == row.id)
                .map_or(0, |(_, count)| *count);
            UserSummary {
                user: to_user(row, account),
                created_at,
                live_tokens,
                provisioned,
                removed,
                sso,
            }
        })
        .collect();
    summaries.sort_by(|a, b| (b.user.role, &a.user.username).cmp(&(a.user.role, &b.user.username)));
    Ok(summaries)
}

pub enum StandingOutcome {
    Changed(User),
    /// Already so: nothing written, nothing audited.
    Unchanged(User),
    Refused(DomainError),
    NotFound,
}

pub(crate) fn active_admins(conn: &mut AnyConnection, account: &AccountId) -> StoreResult<i64> {
    Ok(users::table
        .filter(users::account_id.eq(account.as_str()))
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        // A service account never signs in: it cannot be the administrator who undoes a mistake.
        .filter(users::kind.eq(UserKind::Person.as_str()))
        .count()
        .get_result(conn)?)
}

/// Changes a user's role or standing, keeping at least one active administrator. The check and
/// the write share the account's lock, so two administrators demoting each other at the same
/// moment cannot both succeed. Deactivation bumps the session epoch: every session of the user
/// ends with it.
pub fn change_standing(
    conn: &mut AnyConnection,
    actor: &User,
    target: &UserId,
    change: StandingChange,
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<StandingOutcome> {
    let account = &actor.account_id;
    locked_transaction(conn, &format!("account-admins:{account}"), |conn| {
        let Some(user) = find_user_in_account(conn, account, target)? else {
            return Ok(StandingOutcome::NotFound);
        };
        let unchanged = match change {
            StandingChange::Role(role) => user.role == role,
            StandingChange::Deactivate => !user.active,
            StandingChange::Reactivate => user.active,
        };
        if unchanged {
            return Ok(StandingOutcome::Unchanged(user));
        }
        if let Err(refusal) = keeps_an_administrator(&user, change, active_admins(conn, account)?) {
            return Ok(StandingOutcome::Refused(refusal));
        }
        let (kind, detail) = change.audit_entry(&user);
        apply_standing(conn, &user.id, change)?;
        let changed = match change {
            StandingChange::Role(role) => User { role, ..user },
            StandingChange::Deactivate => User {
                active: false,
                session_epoch: user.session_epoch + 1,
                ..user
            },
            StandingChange::Reactivate => User {
                active: true,
                ..user
            },
        };
        audit::record(
            conn,
            AuditEvent {
                account_id: Some(account.as_str()),
                actor_id: Some(actor.id.as_str()),
                kind,
                subject: changed.id.as_str(),
                ip: Some(ip),
                detail: &detail,
                at: now,
            },
        )?;
        Ok(StandingOutcome::Changed(changed))
    })
}

/// Writes a change of standing, wherever it was decided (the users page, SCIM, the SSO
/// re-check). Deactivation bumps the session epoch, which ends every session of the user;
/// reactivation also brings back a person SCIM had removed, so the provider sees them again.
pub(crate) fn apply_standing(
    conn: &mut AnyConnection,
    id: &UserId,
    change: StandingChange,
) -> StoreResult<()> {
    let row = users::table.filter(users::id.eq(id.as_str()));
    match change {
        StandingChange::Role(role) => diesel::update(row)
            .set(users::role.eq(role.as_str()))
            .execute(conn)?,
        // Either way the identity provider's grant goes: the SSO re-check asks about them
        // again from their next sign-in, not with a grant the provider revoked meanwhile.
        StandingChange::Deactivate => diesel::update(row)
            .set((
                users::active.eq(false),
                users::session_epoch.eq(users::session_epoch + 1),
                users::sso_refresh.eq(None::<String>),
            ))
            .execute(conn)?,
        StandingChange::Reactivate => diesel::update(row)
            .set((
                users::active.eq(true),
                users::removed_at.eq(None::<NaiveDateTime>),
                users::sso_refresh.eq(None::<String>),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// The e-mail address and the notices switch of the settings page.
pub fn update_settings(
    conn: &mut AnyConnection,
    user: &UserId,
    email: Option<&Email>,
    email_notices: bool,
) -> StoreResult<()> {
    diesel::update(users::table.filter(users::id.eq(user.as_str())))
        .set((
            users::email.eq(email.map(|e| e.as_str().to_owned())),
            users::email_notices.eq(email_notices),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_password_hash(conn: &mut AnyConnection, user: &UserId) -> StoreResult<Option<String>> {
    Ok(users::table
        .filter(users::id.eq(user.as_str()))
        .select(users::password_hash)
        .get_result(conn)
        .optional()?)
}

/// Stores a new password hash and bumps the session epoch, ending every session signed in
/// before. Returns the new epoch, for the session that made the change to carry on with.
pub fn change_password(
    conn: &mut AnyConnection,
    user: &User,
    password_hash: &str,
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<i32> {
    conn.transaction(|conn| {
        let epoch: i32 = diesel::update(users::table.filter(users::id.eq(user.id.as_str())))
            .set((
                users::password_hash.eq(password_hash),
                users::session_epoch.eq(users::session_epoch + 1),
            ))
            .returning(users::session_epoch)
            .get_result(conn)?;
        audit::record(
            conn,
            AuditEvent {
                account_id: Some(user.account_id.as_str()),
                actor_id: Some(user.id.as_str()),
                kind: AuditKind::PasswordChanged,
                subject: user.id.as_str(),
                ip: Some(ip),
                detail: &user.username,
                at: now,
            },
        )?;
        Ok(epoch)
    })
}
