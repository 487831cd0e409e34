//! The account's services (product.md §9). Adding and deleting take the account's token lock,
//! so a token cannot be made naming a service while it is being deleted.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{services, tokens};
use super::status_sql::word_sql;
use super::tokens::{lock_key, names_resource_sql, record_note};
use super::{AnyConnection, StoreResult, locked_transaction};
use crate::domain::scopes::Resource;
use crate::domain::services::{NewService, Service, ServiceRefusal, plan_add, plan_delete};
use crate::domain::status::StatusWord;
use crate::domain::{AccountId, User};

/// The names of the account's services, which scopes may name.
pub fn names(conn: &mut AnyConnection, account: &AccountId) -> StoreResult<Vec<Resource>> {
    let names = services::table
        .filter(services::account_id.eq(account.as_str()))
        .select(services::name)
        .order(services::name)
        .load::<String>(conn)?;
    Ok(names.into_iter().map(Resource::from_trusted).collect())
}

/// The account's services with their descriptions, by name, for the forms' access rows.
pub fn described(
    conn: &mut AnyConnection,
    account: &AccountId,
) -> StoreResult<Vec<(Resource, String)>> {
    let rows = services::table
        .filter(services::account_id.eq(account.as_str()))
        .select((services::name, services::description))
        .order(services::name)
        .load::<(String, String)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(name, description)| (Resource::from_trusted(name), description))
        .collect())
}

/// Live tokens of the account whose scopes name `service`.
fn live_holders(
    conn: &mut AnyConnection,
    account: &AccountId,
    service: &Resource,
    now: NaiveDateTime,
) -> StoreResult<i64> {
    Ok(tokens::table
        .filter(tokens::account_id.eq(account.as_str().to_owned()))
        .into_boxed()
        .filter(names_resource_sql(service))
        .filter(word_sql(StatusWord::Live, now))
        .count()
        .get_result(conn)?)
}

/// The account's services, by name, each with its live holders.
pub fn list(
    conn: &mut AnyConnection,
    account: &AccountId,
    now: NaiveDateTime,
) -> StoreResult<Vec<Service>> {
    let rows = services::table
        .filter(services::account_id.eq(account.as_str()))
        .select((services::name, services::description, services::created_at))
        .order(services::name)
        .load::<(String, String, NaiveDateTime)>(conn)?;
    rows.into_iter()
        .map(|(name, description, created_at)| {
            let name = Resource::from_trusted(name);
            let holders = live_holders(conn, account, &name, now)?;
            Ok(Service {
                name,
                description,
                created_at,
                holders,
            })
        })
        .collect()
}

/// Registers `new` in `admin`'s account.
pub fn add(
    conn: &mut AnyConnection,
    admin: &User,
    new: &NewService,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<Result<(), ServiceRefusal>> {
    let account = &admin.account_id;
    locked_transaction(conn, &lock_key(account), |conn| {
        let existing = names(conn, account)?;
        let plan = match plan_add(new, existing.len(), existing.contains(&new.name)) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        diesel::insert_into(services::table)
            .values((
                services::account_id.eq(account.as_str()),
                services::name.eq(new.name.as_str()),
                services::description.eq(&new.description),
                services::created_by.eq(admin.id.as_str()),
                services::created_at.eq(now),
            ))
            .execute(conn)?;
        record_note(
            conn,
            account,
            Some(admin),
            new.name.as_str(),
            &plan,
            ip,
            now,
        )?;
        Ok(Ok(()))
    })
}

/// Deletes the service named `name` from `admin`'s account, unless a live token names it.
pub fn delete(
    conn: &mut AnyConnection,
    admin: &User,
    name: &str,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> StoreResult<Result<(), ServiceRefusal>> {
    let account = &admin.account_id;
    locked_transaction(conn, &lock_key(account), |conn| {
        let Some(service) = names(conn, account)?
            .into_iter()
            .find(|s| s.as_str() == name)
        else {
            return Ok(Err(ServiceRefusal::NotFound));
        };
        let holders = live_holders(conn, account, &service, now)?;
        let plan = match plan_delete(&service, holders) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        diesel::delete(
            services::table
                .filter(services::account_id.eq(account.as_str()))
                .filter(services::name.eq(service.as_str())),
        )
        .execute(conn)?;
        record_note(conn, account, Some(admin), service.as_str(), &plan, ip, now)?;
        Ok(Ok(()))
    })
}
