//! SCIM provisioning (product.md §11): the account's people as an identity provider sees them,
//! and its joins, changes and departures. A departure is a deactivation (§1): the session epoch
//! moves, so sessions end, and the credential check reads `active` on every call, so tokens
//! answer 401 on the next one; the administrators get a notice. Service accounts are never
//! touched.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::audit::{self, AuditEvent};
use super::rows::{AccountRow, UserRow, to_user};
use super::schema::{accounts, users};
use super::users::{NO_PASSWORD_HASH, active_admins};
use super::{AnyConnection, StoreError, StoreResult, locked_transaction, notices};
use crate::domain::audit::AuditKind;
use crate::domain::notice::NoticeKind;
use crate::domain::scim::{ScimRefusal, ScimType, ScimUser, UserFilter};
use crate::domain::users::{StandingChange, keeps_an_administrator};
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
        .filter(users::kind.eq("person"))
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
        Some(UserFilter::Email(email)) => query.filter(users::email.eq(email.clone())),
    }
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
        .offset(start.max(1) - 1)
        .limit(count)
        .load(conn)?;
    Ok((total, rows.into_iter().map(to_person).collect()))
}

pub fn find(
    conn: &mut AnyConnection,
    account: &AccountId,
    id: &UserId,
) -> StoreResult<Option<ScimPerson>> {
    let found: Option<PersonColumns> = people(account)
        .filter(users::id.eq(id.as_str().to_owned()))
        .inner_join(accounts::table)
        .select((
            UserRow::as_select(),
            AccountRow::as_select(),
            users::external_id,
            users::scim_document,
            users::updated_at,
        ))
        .first(conn)
        .optional()?;
    Ok(found.map(to_person))
}

fn record(
    conn: &mut AnyConnection,
    actor: &ScimActor<'_>,
    kind: AuditKind,
    user: &User,
    detail: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    audit::record(
        conn,
        AuditEvent {
            account_id: Some(actor.account.as_str()),
            // Nobody signed in did this: the provider did, with the token named in the detail.
            actor_id: None,
            kind,
            subject: user.id.as_str(),
            ip: Some(actor.ip),
            detail: &format!("{detail}, by SCIM (token “{}”)", actor.token_name),
            at: now,
        },
    )
}

fn document_text(new: &ScimUser) -> String {
    Value::Object(new.document.clone()).to_string()
}

fn uniqueness(error: StoreError) -> StoreResult<Result<ScimPerson, ScimRefusal>> {
    match error {
        StoreError::Taken(_) => Ok(Err(ScimRefusal::new(
            ScimType::Uniqueness,
            "That userName is taken.",
        ))),
        other => Err(other),
    }
}

/// A person the provider adds: Read-only until an administrator says otherwise, with no
/// password (they sign in through the provider).
pub fn create(
    conn: &mut AnyConnection,
    actor: &ScimActor<'_>,
    new: &ScimUser,
    now: NaiveDateTime,
) -> StoreResult<Result<ScimPerson, ScimRefusal>> {
    let id = UserId::generate();
    let written = locked_transaction(conn, &format!("account-users:{}", actor.account), |conn| {
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
        let person = find(conn, actor.account, &id)?
            .ok_or_else(|| StoreError::Corrupt("the person just added is gone".into()))?;
        let detail = crate::domain::users::added_audit_detail(&person.user);
        record(
            conn,
            actor,
            AuditKind::UserAdded,
            &person.user,
            &detail,
            now,
        )?;
        Ok(person)
    });
    match written {
        Ok(person) => Ok(Ok(person)),
        Err(error) => uniqueness(error),
    }
}

/// What a replace or a removal did.
pub enum ScimOutcome {
    Done(ScimPerson),
    NotFound,
    Refused(ScimRefusal),
}

/// Writes `new` over the person (PUT, and PATCH once applied). A change of `active` is the
/// deactivation or reactivation of §1, under the same lock and rule as on the users page.
pub fn replace(
    conn: &mut AnyConnection,
    actor: &ScimActor<'_>,
    id: &UserId,
    new: &ScimUser,
    now: NaiveDateTime,
) -> StoreResult<ScimOutcome> {
    let written = locked_transaction(conn, &format!("account-admins:{}", actor.account), |conn| {
        let Some(person) = find(conn, actor.account, id)? else {
            return Ok(ScimOutcome::NotFound);
        };
        let standing = match new.active {
            Some(false) if person.user.active => Some(StandingChange::Deactivate),
            Some(true) if !person.user.active => Some(StandingChange::Reactivate),
            _ => None,
        };
        if let Some(change) = standing
            && let Err(refusal) =
                keeps_an_administrator(&person.user, change, active_admins(conn, actor.account)?)
        {
            return Ok(ScimOutcome::Refused(ScimRefusal::new(
                ScimType::Mutability,
                refusal.message,
            )));
        }
        let row = users::table.filter(users::id.eq(id.as_str()));
        diesel::update(row)
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
        if let Some(change) = standing {
            set_standing(conn, id, change)?;
            let (kind, detail) = change.audit_entry(&person.user);
            record(conn, actor, kind, &person.user, &detail, now)?;
            if change == StandingChange::Deactivate {
                tell_administrators(conn, actor, id, now)?;
            }
        }
        Ok(find(conn, actor.account, id)?.map_or(ScimOutcome::NotFound, ScimOutcome::Done))
    });
    match written {
        Err(StoreError::Taken(_)) => Ok(ScimOutcome::Refused(ScimRefusal::new(
            ScimType::Uniqueness,
            "That userName is taken.",
        ))),
        other => other,
    }
}

fn set_standing(conn: &mut AnyConnection, id: &UserId, change: StandingChange) -> StoreResult<()> {
    let row = users::table.filter(users::id.eq(id.as_str()));
    match change {
        StandingChange::Deactivate => diesel::update(row)
            .set((
                users::active.eq(false),
                users::session_epoch.eq(users::session_epoch + 1),
            ))
            .execute(conn)?,
        StandingChange::Reactivate => diesel::update(row)
            .set(users::active.eq(true))
            .execute(conn)?,
        StandingChange::Role(_) => 0,
    };
    Ok(())
}

/// A SCIM delete: the person is deactivated (sessions end, tokens stop) and gone from SCIM,
/// while their row, their tokens and the audit trail stay for the record.
pub fn remove(
    conn: &mut AnyConnection,
    actor: &ScimActor<'_>,
    id: &UserId,
    now: NaiveDateTime,
) -> StoreResult<ScimOutcome> {
    locked_transaction(conn, &format!("account-admins:{}", actor.account), |conn| {
        let Some(person) = find(conn, actor.account, id)? else {
            return Ok(ScimOutcome::NotFound);
        };
        if person.user.active {
            let change = StandingChange::Deactivate;
            if let Err(refusal) =
                keeps_an_administrator(&person.user, change, active_admins(conn, actor.account)?)
            {
                return Ok(ScimOutcome::Refused(ScimRefusal::new(
                    ScimType::Mutability,
                    refusal.message,
                )));
            }
            set_standing(conn, id, change)?;
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
