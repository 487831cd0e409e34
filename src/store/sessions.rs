//! Signed-in browser sessions, one row each: the cookie names its row, and a page is served
//! only while the row is live, so signing out ends the session on every instance, a copied
//! cookie included. Checked in the same query that loads the signed-in user.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::{AccountRow, UserRow, to_user};
use super::schema::{accounts, sessions, users};
use super::{AnyConnection, StoreResult};
use crate::domain::sign_in::sessions_begun_after;
use crate::domain::{User, UserId};

/// Starts a session for `user` and returns its id. The user's ended sessions are removed on
/// the way, so the table holds live sessions and few others.
pub fn start(conn: &mut AnyConnection, user: &UserId, now: NaiveDateTime) -> StoreResult<String> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user.as_str()))
            .filter(
                sessions::ended_at
                    .is_not_null()
                    .or(sessions::created_at.lt(sessions_begun_after(now))),
            ),
    )
    .execute(conn)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&id),
            sessions::user_id.eq(user.as_str()),
            sessions::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Ends the session `id`: every later request carrying it is signed out.
pub fn end(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Removes every session that has ended, by sign-out or by age: those of people who never sign
/// in again would otherwise stay. Run with the notice pass. Returns how many went.
pub fn purge(conn: &mut AnyConnection, now: NaiveDateTime) -> StoreResult<usize> {
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::ended_at
                .is_not_null()
                .or(sessions::created_at.lt(sessions_begun_after(now))),
        ),
    )
    .execute(conn)?)
}

/// The user signed in as `user` in the live session `id`, in one query; `None` when the session
/// was ended, outlived its lifetime (or never existed), or the user is gone.
pub fn find_signed_in(
    conn: &mut AnyConnection,
    user: &UserId,
    id: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<User>> {
    let found = users::table
        .inner_join(accounts::table)
        .inner_join(sessions::table.on(sessions::user_id.eq(users::id)))
        .filter(users::id.eq(user.as_str()))
        .filter(sessions::id.eq(id))
        .filter(sessions::ended_at.is_null())
        .filter(sessions::created_at.ge(sessions_begun_after(now)))
        .select((UserRow::as_select(), AccountRow::as_select()))
        .get_result::<(UserRow, AccountRow)>(conn)
        .optional()?;
    Ok(found.map(|(user, account)| to_user(user, account)))
}
