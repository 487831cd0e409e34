//! Accounts and their token policy.

use diesel::prelude::*;

use super::rows::AccountRow;
use super::schema::{account_policies, accounts};
use super::{AnyConnection, StoreResult};
use crate::domain::{AccountName, time};

/// Finds the account by name, creating it with the default policy when it is new.
/// Call inside a transaction: the two inserts belong together.
pub(crate) fn find_or_create_account(
    conn: &mut AnyConnection,
    name: &AccountName,
) -> StoreResult<AccountRow> {
    let existing = accounts::table
        .filter(accounts::name.eq(name.as_str()))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(account) = existing {
        return Ok(account);
    }
    let now = time::now();
    let account = AccountRow {
        id: crate::domain::AccountId::generate().to_string(),
        name: name.as_str().to_owned(),
        created_at: now,
    };
    diesel::insert_into(accounts::table)
        .values(&account)
        .execute(conn)?;
    // The column defaults hold the policy defaults of product.md §3.
    diesel::insert_into(account_policies::table)
        .values((
            account_policies::account_id.eq(&account.id),
            account_policies::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(account)
}
