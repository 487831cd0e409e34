//! Users: lookup for sign-in and sessions, creation at setup and from the command line.

use diesel::prelude::*;

use super::rows::{AccountRow, UserRow};
use super::schema::{accounts, users};
use super::{AnyConnection, StoreResult, accounts as account_store, locked_transaction};
use crate::domain::{AccountId, AccountName, DisplayName, Role, User, UserId, Username, time};

/// A user as sign-in needs it: the stored argon2 hash beside the user.
pub struct UserWithHash {
    pub user: User,
    pub password_hash: String,
}

pub struct NewUser {
    pub account: AccountName,
    pub username: Username,
    pub display_name: DisplayName,
    pub password_hash: String,
    pub role: Role,
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
    }
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

pub fn find_user_by_username(
    conn: &mut AnyConnection,
    username: &str,
) -> StoreResult<Option<UserWithHash>> {
    let found = users::table
        .inner_join(accounts::table)
        .filter(users::username.eq(username))
        .select((UserRow::as_select(), AccountRow::as_select()))
        .first::<(UserRow, AccountRow)>(conn)
        .optional()?;
    Ok(found.map(|(user, account)| {
        let password_hash = user.password_hash.clone();
        UserWithHash {
            user: to_user(user, account),
            password_hash,
        }
    }))
}

fn insert_user(conn: &mut AnyConnection, new: &NewUser) -> StoreResult<User> {
    let account = account_store::find_or_create_account(conn, &new.account)?;
    let row = UserRow {
        id: UserId::generate().to_string(),
        account_id: account.id.clone(),
        username: new.username.as_str().to_owned(),
        display_name: new.display_name.as_str().to_owned(),
        password_hash: new.password_hash.clone(),
        role: new.role.as_str().to_owned(),
        active: true,
        created_at: time::now(),
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| super::error::taken_as(e, "username"))?;
    Ok(to_user(row, account))
}

/// Creates the account and its first administrator, only while no user exists at all.
/// `None` means setup was already done (possibly by a request a moment earlier).
pub fn create_first_admin(conn: &mut AnyConnection, new: NewUser) -> StoreResult<Option<User>> {
    locked_transaction(conn, "first-run-setup", |conn| {
        if any_user_exists(conn)? {
            return Ok(None);
        }
        insert_user(conn, &new).map(Some)
    })
}

/// Adds a user, creating the account when the name is new (the command line's `user add`).
pub fn add_user(conn: &mut AnyConnection, new: NewUser) -> StoreResult<User> {
    conn.transaction(|conn| insert_user(conn, &new))
}
