//! The SQL twins of `domain::status`: one condition per status word, side by side, so a list,
//! a count or a pass asks the database the same question the domain answers for one token.
//! `tests/it/status_sql.rs` checks every twin against its domain function on both backends.
//! Nothing else in `store/` writes a status condition of its own.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::schema::tokens;
use super::{AnyConnection, MultiBackend, StoreResult};
use crate::domain::status::{EXPIRING_SOON_DAYS, StatusWord, TokenStatus};
use crate::domain::{AccountId, TokenId};

pub(crate) type StatusSql =
    Box<dyn BoxableExpression<tokens::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// Not deleted yet: never, or a rotation's deletion time still ahead (`NotDeleted`).
fn not_deleted_sql(now: NaiveDateTime) -> StatusSql {
    Box::new(
        tokens::deleted_at
            .is_null()
            .or(tokens::deleted_at.gt(now).assume_not_null()),
    )
}

fn not_expired_sql(now: NaiveDateTime) -> StatusSql {
    Box::new(
        tokens::expires_at
            .is_null()
            .or(tokens::expires_at.gt(now).assume_not_null()),
    )
}

/// The twin of `TokenStatus` as `status_at` decides it.
fn status_sql(status: TokenStatus, now: NaiveDateTime) -> StatusSql {
    match status {
        TokenStatus::Deleted => Box::new(tokens::deleted_at.le(now).assume_not_null()),
        TokenStatus::Expired => {
            Box::new(not_deleted_sql(now).and(tokens::expires_at.le(now).assume_not_null()))
        }
        TokenStatus::Suspended => Box::new(
            not_deleted_sql(now)
                .and(not_expired_sql(now))
                .and(tokens::suspended_at.is_not_null()),
        ),
        TokenStatus::Active => Box::new(
            not_deleted_sql(now)
                .and(not_expired_sql(now))
                .and(tokens::suspended_at.is_null()),
        ),
    }
}

/// The twin of `StatusWord::holds`.
pub(crate) fn word_sql(word: StatusWord, now: NaiveDateTime) -> StatusSql {
    match word {
        StatusWord::Is(status) => status_sql(status, now),
        StatusWord::Working => status_sql(TokenStatus::Active, now),
        StatusWord::NotDeleted => not_deleted_sql(now),
        StatusWord::Retiring => Box::new(tokens::deleted_at.gt(now).assume_not_null()),
        StatusWord::Live => Box::new(not_deleted_sql(now).and(not_expired_sql(now))),
        StatusWord::HoldsName => Box::new(tokens::deleted_at.is_null()),
        StatusWord::ExpiringSoon => Box::new(
            tokens::deleted_at
                .is_null()
                .and(tokens::expires_at.gt(now).assume_not_null())
                .and(
                    tokens::expires_at
                        .le(now + TimeDelta::days(EXPIRING_SOON_DAYS))
                        .assume_not_null(),
                ),
        ),
    }
}

/// The account's tokens of which `word` holds at `now`, in no particular order.
pub fn find_token_ids_where(
    conn: &mut AnyConnection,
    account: &AccountId,
    word: StatusWord,
    now: NaiveDateTime,
) -> StoreResult<Vec<TokenId>> {
    let ids: Vec<String> = tokens::table
        .filter(tokens::account_id.eq(account.as_str().to_owned()))
        .into_boxed::<MultiBackend>()
        .filter(word_sql(word, now))
        .select(tokens::id)
        .load(conn)?;
    Ok(ids.into_iter().map(TokenId::from_trusted).collect())
}
