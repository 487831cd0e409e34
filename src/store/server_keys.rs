//! Secrets the server makes for itself, kept in the database so every instance shares them and
//! a restart keeps them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::server_secrets;
use super::{AnyConnection, StoreResult};

/// Returns the stored secret `name`, storing `generate()` first when there is none. When two
/// instances race, the first insert wins and both return it.
pub fn get_or_create(
    conn: &mut AnyConnection,
    name: &str,
    generate: impl FnOnce() -> String,
    now: NaiveDateTime,
) -> StoreResult<String> {
    let find = |conn: &mut AnyConnection| {
        server_secrets::table
            .filter(server_secrets::name.eq(name))
            .select(server_secrets::value)
            .first::<String>(conn)
            .optional()
    };
    if let Some(value) = find(conn)? {
        return Ok(value);
    }
    let inserted = diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::value.eq(generate()),
            server_secrets::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => {}
        Err(e) if super::error::is_unique_violation(&e) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(find(conn)?.unwrap_or_default())
}
