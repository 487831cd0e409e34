//! SCIM provisioning (product.md §11): the account's people as an identity provider sees them,
//! and its joins, changes and departures. A departure is a deactivation (§1): the session epoch
//! moves, so sessions end, and the credential check reads `active` on every call, so tokens
//! answer 401 on the next one; the administrators get a notice. Service accounts are never
//! touched.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::audit;
use super::rows::{AccountRow, UserRow, to_user};
use super::schema::{accounts, users};
use super::users::{self as user_store, NO_PASSWORD_HASH, active_admins};
use super::{AnyConnection, StoreError, StoreResult, locked_transaction, notices};
use crate::domain::audit::AuditKind;
use crate::domain::notice::NoticeKind;
use crate::domain::scim::{
    ScimRecord, ScimRefusal, ScimType, ScimUser, UserFilter, apply_patch, representation, version,
    version_matches,
};
use crate::domain::users::{StandingChange, UserKind, keeps_an_administrator};
use crate::domain::{AccountId, Role, User, UserId};

/// A person as SCIM answers them.
pub struct ScimPerson {
    pub user: User,
    pub external_id: Option<String>,
    pub document: Option<Map<String, Value>>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Who made a SCIM change, for the audit log: the provider, through one of the account's tokens.
pub struct ScimActor<'a> {
    pub account: &'a AccountId,
    pub token_name: &'a str,
    pub ip: &'a str,
    /// SMTP is set up: the administrators' notice of a deactivation is also e-mailed.
    pub email_enabled: bool,
}

/// The administrators hear of a person SCIM deactivated, in the same transaction.
fn tell_administrators(
    conn: &mut AnyConnection,
    actor: &ScimActor<'_>,
    person: &UserId,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let kind = NoticeKind::PersonDeactivated { by: "SCIM".into() };
    notices::claim_person_notice(conn, actor.account, person, &kind, actor.email_enabled, now)?;
    Ok(())
}

type PersonColumns = (
    UserRow,
    AccountRow,
    Option<String>,
    Option<String>,
    Option<NaiveDateTime>,
);

fn people(account: &AccountId) -> users::BoxedQuery<'static, super::MultiBackend> {
    users::table
        .filter(users::account_id.eq(account.as_str().to_owned()))
        .filter(users::kind.eq(UserKind::Person.as_str()))
        .filter(users::removed_at.is_null())
        .into_boxed()
}

fn to_person((row, account, external_id, document, updated_at): PersonColumns) -> ScimPerson {
    let created_at = row.created_at;
    ScimPerson {
        user: to_user(row, account),
        external_id,
        // Written only by this module, from a JSON object; anything else reads as "not said".
        document: document.and_then(|text| serde_json::from_str::<Map<String, Value>>(&text).ok()),
        created_at,
        updated_at: updated_at.unwrap_or(created_at),
    }
}

fn filtered(
    account: &AccountId,
    filter: Option<&UserFilter>,
) -> users::BoxedQuery<'static, super::MultiBackend> {
    let query = people(account);
    match filter {
        None => query,
        // Usernames are stored lower-case; SCIM's userName is not case-exact.
        Some(UserFilter::UserName(name)) => query.filter(users::username.eq(name.to_lowercase())),
        Some(UserFilter::ExternalId(id)) => query.filter(users::external_id.eq(id.clone())),
        Some(UserFilter::Id(id)) => query.filter(users::id.eq(id.clone())),
        // An address is not case-exact (RFC 7643 §4.1.2); stored as typed, compared folded.
        // coalesce: SQLite's lower() is ours (Unicode, from Rust), which takes no NULL.
        Some(UserFilter::Email(email)) => query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(coalesce(users.email, '')) = ")
                .bind::<diesel::sql_types::Text, _>(email.to_lowercase()),
        ),
    }
}

/// The people `filter` finds, oldest first, from `offset`.
fn people_page(
    conn: &mut AnyConnection,
    account: &AccountId,
    filter: Option<&UserFilter>,
    offset: i64,
    limit: i64,
) -> StoreResult<Vec<ScimPerson>> {
    let rows: Vec<PersonColumns> = filtered(account, filter)
        .inner_join(accounts::table)
        .select((
            UserRow::as_select(),
            AccountRow::as_select(),
            users::external_id,
            users::scim_document,
            users::updated_at,
        ))
        .order((users::created_at.asc(), users::id.asc()))
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(to_person).collect())
}

/// One page of the account's people, oldest first, and how many match in all. `start` is
/// SCIM's 1-based `startIndex`.
pub fn list(
    conn: &mut AnyConnection,
    account: &AccountId,
    filter: Option<&UserFilter>,
    start: i64,
    count: i64,
) -> StoreResult<(i64, Vec<ScimPerson>)> {
    let total = filtered(account, filter).count().get_result(conn)?;
    let page = people_page(conn, account, filter, start.max(1) - 1, count)?;
    Ok((total, page))
}

pub fn find(
    conn: &mut AnyConnection,
    account: &AccountId,
    id: &UserId,
) -> StoreResult<Option<ScimPerson>> {
    let by_id = UserFilter::Id(id.to_string());
    Ok(people_page(conn, account, Some(&by_id), 0, 1)?.pop())
}

fn record(
    conn: &mut AnyConnection,
    actor: &ScimActor<'_>,
    kind: AuditKind,
    user: &User,
    detail: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let detail = format!("{detail}, by SCIM (token “{}”)", actor.token_name);
    audit::record_by_provider(conn, user, kind, &detail, Some(actor.ip), now)
}

fn document_text(new: &ScimUser) -> String {
    Value::Object(new.document.clone()).to_string()
}

fn taken() -> ScimRefusal {
    ScimRefusal::new(ScimType::Uniqueness, "That userName is taken.")
}

/// What a write did.
pub enum ScimOutcome {
    Done(ScimPerson),
    NotFound,
    Refused(ScimRefusal),
    /// The account's last active administrator (a person) would be deactivated.
    LastAdministrator(String),
    /// `If-Match` named another version than the person's.
    Stale,
}

/// Writes the provider's view of a person: their names, address and what was said.
fn write_person(
    conn: &mut AnyConnection,
    id: &UserId,
    new: &ScimUser,
    now: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(users::table.filter(users::id.eq(id.as_str())))
        .set((
            users::username.eq(new.user_name.as_str()),
            users::display_name.eq(new.display_name.as_str()),
            users::email.eq(new.email.as_ref().map(|e| e.as_str())),
            users::external_id.eq(new.external_id.as_deref()),
            users::scim_document.eq(document_text(new)),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map_err(|e| super::error::taken_as(e, "username"))?;
    Ok(())
}

/// Maps a taken username, raised inside a transaction (which then rolled back), to SCIM's 409.
fn taken_is_refused(written: StoreResult<ScimOutcome>) -> StoreResult<ScimOutcome> {
    match written {
        Err(StoreError::Taken(_)) => Ok(ScimOutcome::Refused(taken())),
        other => other,
    }
}

/// A person the provider adds: Read-only until an administrator says otherwise, with no
/// password (they sign in through the provider). A person the provider removed earlier, under
/// the same userName, comes back instead: rehired people keep their record.
pub fn create(
    conn: &mut AnyConnection,
    actor: &ScimActor<'_>,
    new: &ScimUser,
    now: NaiveDateTime,
) -> StoreResult<ScimOutcome> {
    let written = locked_transaction(conn, &format!("account-admins:{}", actor.account), |conn| {
        let removed: Option<String> = users::table
            .filter(users::account_id.eq(actor.account.as_str()))
            .filter(users::kind.eq(UserKind::Person.as_str()))
            .filter(users::username.eq(new.user_name.as_str()))
            .filter(users::removed_at.is_not_null())
            .select(users::id)
            .first(conn)
            .optional()?;
        let id = match removed {
            Some(id) => {
                let id = UserId::from_trusted(id);
                write_person(conn, &id, new, now)?;
                diesel::update(users::table.filter(users::id.eq(id.as_str())))
                    .set(users::removed_at.eq(None::<NaiveDateTime>))
                    .execute(conn)?;
                if new.active != Some(false) {
                    user_store::apply_standing(conn, &id, StandingChange::Reactivate)?;
                }
                id
            }
            None => {
                let id = UserId::generate();
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(id.as_str()),
                        users::account_id.eq(actor.account.as_str()),
                        users::username.eq(new.user_name.as_str()),
                        users::display_name.eq(new.display_name.as_str()),
                        users::password_hash.eq(NO_PASSWORD_HASH),
                        users::role.eq(Role::ReadOnly.as_str()),
                        users::active.eq(new.active.unwrap_or(true)),
                        users::created_at.eq(now),
                        users::email.eq(new.email.as_ref().map(|e| e.as_str())),
                        users::external_id.eq(new.external_id.as_deref()),
                        users::scim_document.eq(document_text(new)),
                    ))
                    .execute(conn)
                    .map_err(|e| super::error::taken_as(e, "username"))?;
                id
            }
        };
        let person = find(conn, actor.account, &id)?
            .ok_or_else(|| StoreError::Corrupt("the person just written is gone".into()))?;
        let detail = crate::domain::users::added_audit_detail(&person.user);
        record(
            conn,
            actor,
            AuditKind::UserAdded,
            &person.user,
            &detail,
            now,
        )?;
        Ok(ScimOutcome::Done(person))
    });
    taken_is_refused(written)
}

/// The change a PUT or a PATCH asks for.
pub enum Change<'a> {
    Replace(&'a ScimUser),
    /// A PatchOp body, applied to the person as they are under the lock.
    Patch(&'a Value),
}

fn record_of(person: &ScimPerson) -> ScimRecord<'_> {
    ScimRecord {
        user: &person.user,
        external_id: person.external_id.as_deref(),
        document: person.document.as_ref(),
        created: person.created_at,
        modified: person.updated_at,
        location: String::new(),
    }
}

/// A PUT or a PATCH. The person is read, checked against `If-Match`, changed and written under
/// the account's lock, so two writes cannot each undo the other (a stale `active: true` after a
/// deactivation). A change of `active` is the deactivation or reactivation of §1, under the
/// same rule as on the users page.
pub fn change(
    conn: &mut AnyConnection,
    actor: &ScimActor<'_>,
    id: &UserId,
    change: Change<'_>,
    if_match: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<ScimOutcome> {
    let written = locked_transaction(conn, &format!("account-admins:{}", actor.account), |conn| {
        let Some(person) = find(conn, actor.account, id)? else {
            return Ok(ScimOutcome::NotFound);
        };
        if let Some(tags) = if_match
            && !version_matches(tags, &version(&record_of(&person)))
        {
            return Ok(ScimOutcome::Stale);
        }
        let patched;
        let new = match change {
            Change::Replace(new) => new,
            Change::Patch(body) => {
                let mut resource = representation(&record_of(&person));
                let applied = match &mut resource {
                    Value::Object(fields) => apply_patch(fields, body),
                    _ => Ok(()),
                };
                match applied.and_then(|()| ScimUser::from_json(&resource)) {
                    Ok(new) => patched = new,
                    Err(refusal) => return Ok(ScimOutcome::Refused(refusal)),
                }
                &patched
            }
        };
        let standing = new.standing_change(&person.user, person.document.as_ref());
        if let Some(change) = standing
            && let Err(refusal) =
                keeps_an_administrator(&person.user, change, active_admins(conn, actor.account)?)
        {
            return Ok(ScimOutcome::LastAdministrator(refusal.message));
        }
        write_person(conn, id, new, now)?;
        if let Some(change) = standing {
            user_store::apply_standing(conn, id, change)?;
            let (kind, detail) = change.audit_entry(&person.user);
            record(conn, actor, kind, &person.user, &detail, now)?;
            if change == StandingChange::Deactivate {
                tell_administrators(conn, actor, id, now)?;
            }
        }
        Ok(find(conn, actor.account, id)?.map_or(ScimOutcome::NotFound, ScimOutcome::Done))
    });
    taken_is_refused(written)
}

/// A SCIM delete: the person is deactivated (sessions end, tokens stop) and gone from SCIM,
/// while their row, their tokens and the audit trail stay for the record.
pub fn remove(
    conn: &mut AnyConnection,
    actor: &ScimActor<'_>,
    id: &UserId,
    if_match: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<ScimOutcome> {
    locked_transaction(conn, &format!("account-admins:{}", actor.account), |conn| {
        let Some(person) = find(conn, actor.account, id)? else {
            return Ok(ScimOutcome::NotFound);
        };
        if let Some(tags) = if_match
            && !version_matches(tags, &version(&record_of(&person)))
        {
            return Ok(ScimOutcome::Stale);
        }
        if person.user.active {
            let change = StandingChange::Deactivate;
            if let Err(refusal) =
                keeps_an_administrator(&person.user, change, active_admins(conn, actor.account)?)
            {
                return Ok(ScimOutcome::LastAdministrator(refusal.message));
            }
            user_store::apply_standing(conn, id, change)?;
            tell_administrators(conn, actor, id, now)?;
        }
        diesel::update(users::table.filter(users::id.eq(id.as_str())))
            .set((users::removed_at.eq(now), users::updated_at.eq(now)))
            .execute(conn)?;
        let (_, name) = StandingChange::Deactivate.audit_entry(&person.user);
        let detail = format!("{name} (removed)");
        record(
            conn,
            actor,
            AuditKind::UserDeactivated,
            &person.user,
            &detail,
            now,
        )?;
        Ok(ScimOutcome::Done(person))
    })
}
