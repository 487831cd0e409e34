//! People who sign in through the company's identity provider (product.md §11): found by the
//! provider's issuer and `sub`, created in `OIDC_ACCOUNT` on their first sign-in, and brought up
//! to date (e-mail, name, role) at every one. The re-check's side: who is due, claiming a person
//! so that one instance checks them, and what the provider's answer changes.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit;
use super::schema::{notices as notices_table, users};
use super::users::{self as user_store, NO_PASSWORD_HASH, active_admins};
use super::{AnyConnection, MultiBackend, StoreResult, accounts, locked_transaction, notices};
use crate::domain::audit::AuditKind;
use crate::domain::notice::NoticeKind;
use crate::domain::sign_in::THROUGH_SSO;
use crate::domain::sso::SsoPerson;
use crate::domain::users::{StandingChange, UserKind, keeps_an_administrator};
use crate::domain::{AccountName, Role, User, UserId};

/// What an SSO sign-in came to.
pub enum SsoSignIn {
    SignedIn(User),
    /// Known here and deactivated: the provider cannot undo an administrator's decision.
    Deactivated,
}

fn record(
    conn: &mut AnyConnection,
    user: &User,
    kind: AuditKind,
    detail: &str,
    ip: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    audit::record_by_provider(conn, user, kind, &format!("{detail}, by SSO"), ip, now)
}

/// The role the provider's groups give `user` now, unless that would leave the account without
/// an active administrator. Run under the account's `account-admins` lock.
fn follow_role(
    conn: &mut AnyConnection,
    user: &mut User,
    role: Role,
    ip: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    if user.role == role {
        return Ok(());
    }
    let change = StandingChange::Role(role);
    let admins = active_admins(conn, &user.account_id)?;
    if keeps_an_administrator(user, change, admins).is_ok() {
        user_store::apply_standing(conn, &user.id, change)?;
        let (kind, detail) = change.audit_entry(user);
        record(conn, user, kind, &detail, ip, now)?;
        user.role = role;
    }
    Ok(())
}

/// Signs `person` in from `issuer`: the person found by (issuer, sub), or a new one in
/// `account`. Their e-mail, name and role follow the provider at every sign-in; a demotion
/// narrows their tokens at once (effective role), and the account's last administrator keeps
/// the role. A refresh token the provider gave (sealed) is kept for the re-check, and the
/// sign-in counts as a check.
pub fn sign_in(
    conn: &mut AnyConnection,
    account: &AccountName,
    issuer: &str,
    person: &SsoPerson,
    sealed_refresh: Option<&str>,
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<SsoSignIn> {
    let ip = Some(ip);
    let account_row =
        locked_transaction(conn, &format!("accounts:{}", account.as_str()), |conn| {
            accounts::find_or_create_account(conn, account, now)
        })?;
    // The lock the users page takes for a change of role or standing, so that the last
    // administrator stays one when the provider and an administrator act at the same moment.
    locked_transaction(
        conn,
        &format!("account-admins:{}", account_row.id),
        |conn| {
            let known: Option<String> = users::table
                .filter(users::sso_issuer.eq(issuer))
                .filter(users::sso_subject.eq(&person.subject))
                .select(users::id)
                .first(conn)
                .optional()?;
            // Someone the provider provisioned through SCIM, whose externalId is this `sub` (the
            // provider's own id for them), signs in as that person, not as a second one.
            let known = match known {
                Some(id) => Some(id),
                None => link_provisioned(conn, &account_row.id, issuer, &person.subject)?,
            };
            let id = match known {
                Some(id) => UserId::from_trusted(id),
                None => {
                    let id = create(conn, &account_row.id, issuer, person, now)?;
                    keep_refresh(conn, &id, sealed_refresh, now)?;
                    let user = user_store::find_user_by_id(conn, &id)?.ok_or_else(|| {
                        super::StoreError::Corrupt("the new SSO person is gone".into())
                    })?;
                    let detail = crate::domain::users::added_audit_detail(&user);
                    record(conn, &user, AuditKind::UserAdded, &detail, ip, now)?;
                    record_sign_in(conn, &user, AuditKind::LoginSucceeded, ip, now)?;
                    return Ok(SsoSignIn::SignedIn(user));
                }
            };
            let Some(user) = user_store::find_user_by_id(conn, &id)? else {
                return Err(super::StoreError::Corrupt("an SSO person is gone".into()));
            };
            if !user.active || user.kind != UserKind::Person {
                record_sign_in(conn, &user, AuditKind::LoginFailed, ip, now)?;
                return Ok(SsoSignIn::Deactivated);
            }
            diesel::update(users::table.filter(users::id.eq(id.as_str())))
                .set((
                    users::display_name.eq(person.display_name.as_str()),
                    users::email.eq(person.email.as_ref().map(|e| e.as_str())),
                ))
                .execute(conn)?;
            keep_refresh(conn, &id, sealed_refresh, now)?;
            let mut user = User {
                display_name: person.display_name.as_str().to_owned(),
                email: person.email.as_ref().map(|e| e.as_str().to_owned()),
                ..user
            };
            if let Some(role) = person.role {
                follow_role(conn, &mut user, role, ip, now)?;
            }
            record_sign_in(conn, &user, AuditKind::LoginSucceeded, ip, now)?;
            Ok(SsoSignIn::SignedIn(user))
        },
    )
}

/// A sign-in through the provider, in the audit log as a password one is (`kind` is
/// `LoginSucceeded` or `LoginFailed`), saying how.
fn record_sign_in(
    conn: &mut AnyConnection,
    user: &User,
    kind: AuditKind,
    ip: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let detail = match kind {
        AuditKind::LoginSucceeded => THROUGH_SSO.to_owned(),
        _ => format!("{THROUGH_SSO}; deactivated here"),
    };
    audit::record(
        conn,
        audit::AuditEvent {
            account_id: Some(user.account_id.as_str()),
            actor_id: (kind == AuditKind::LoginSucceeded).then_some(user.id.as_str()),
            kind,
            subject: &user.username,
            ip,
            detail: &detail,
            at: now,
        },
    )
}

/// The SCIM-provisioned person of `account_id` whose externalId is `subject`, not yet linked
/// to a provider, now linked to this one.
fn link_provisioned(
    conn: &mut AnyConnection,
    account_id: &str,
    issuer: &str,
    subject: &str,
) -> StoreResult<Option<String>> {
    let found: Option<String> = users::table
        .filter(users::account_id.eq(account_id))
        .filter(users::kind.eq(UserKind::Person.as_str()))
        .filter(users::external_id.eq(subject))
        .filter(users::sso_subject.is_null())
        .select(users::id)
        .first(conn)
        .optional()?;
    if let Some(id) = &found {
        diesel::update(users::table.filter(users::id.eq(id)))
            .set((users::sso_issuer.eq(issuer), users::sso_subject.eq(subject)))
            .execute(conn)?;
    }
    Ok(found)
}

/// A person seen for the first time, under the first of their usernames nobody holds.
fn create(
    conn: &mut AnyConnection,
    account_id: &str,
    issuer: &str,
    person: &SsoPerson,
    now: NaiveDateTime,
) -> StoreResult<UserId> {
    let mut candidates: Vec<String> = person
        .usernames
        .iter()
        .map(|u| u.as_str().to_owned())
        .collect();
    if let Some(last) = person.usernames.last() {
        candidates.extend((2..=9).map(|n| format!("{}-{n}", last.as_str())));
    }
    let taken: Vec<String> = users::table
        .filter(users::username.eq_any(&candidates))
        .select(users::username)
        .load(conn)?;
    let username = candidates
        .into_iter()
        .find(|c| !taken.contains(c))
        .ok_or(super::StoreError::Taken("username"))?;
    let id = UserId::generate();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(id.as_str()),
            users::account_id.eq(account_id),
            users::username.eq(&username),
            users::display_name.eq(person.display_name.as_str()),
            users::password_hash.eq(NO_PASSWORD_HASH),
            users::role.eq(person.first_role().as_str()),
            users::active.eq(true),
            users::created_at.eq(now),
            users::email.eq(person.email.as_ref().map(|e| e.as_str())),
            users::sso_issuer.eq(issuer),
            users::sso_subject.eq(&person.subject),
        ))
        .execute(conn)?;
    Ok(id)
}

/// A sign-in is a check the provider answered: the person is next due one interval from now. A
/// sign-in that brought no refresh token keeps the one stored (still the provider's latest
/// grant, for all we know).
fn keep_refresh(
    conn: &mut AnyConnection,
    id: &UserId,
    sealed_refresh: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let row = users::table.filter(users::id.eq(id.as_str()));
    let checked = (users::sso_checked_at.eq(now), users::sso_vouched_at.eq(now));
    match sealed_refresh {
        Some(sealed) => diesel::update(row)
            .set((users::sso_refresh.eq(sealed), checked))
            .execute(conn)?,
        None => diesel::update(row).set(checked).execute(conn)?,
    };
    Ok(())
}

/// A person the re-check should ask the provider about.
pub struct DueCheck {
    pub id: UserId,
    pub subject: String,
    pub sealed_refresh: String,
}

/// Never checked, or last checked at or before `cutoff`: what "due" means both to the list of
/// people due and to the claim, which must agree.
fn due(
    cutoff: NaiveDateTime,
) -> Box<dyn BoxableExpression<users::table, MultiBackend, SqlType = diesel::sql_types::Bool>> {
    Box::new(
        users::sso_checked_at
            .is_null()
            .or(users::sso_checked_at.le(cutoff))
            .assume_not_null(),
    )
}

/// The active SSO people of `issuer` with a stored refresh token, last checked at or before
/// `cutoff` (or never), oldest check first.
pub fn due_for_recheck(
    conn: &mut AnyConnection,
    issuer: &str,
    cutoff: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<DueCheck>> {
    let rows: Vec<(String, Option<String>, Option<String>)> = users::table
        .filter(users::sso_issuer.eq(issuer))
        .filter(users::sso_refresh.is_not_null())
        .filter(users::active.eq(true))
        .filter(users::kind.eq(UserKind::Person.as_str()))
        .filter(due(cutoff))
        .order(users::sso_checked_at.asc())
        .limit(limit)
        .select((users::id, users::sso_subject, users::sso_refresh))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, subject, sealed)| {
            Some(DueCheck {
                id: UserId::from_trusted(id),
                subject: subject?,
                sealed_refresh: sealed?,
            })
        })
        .collect())
}

/// Claims `id`'s check for this instance: true for exactly one of the instances that try while
/// the person is due, because the update is conditional on their being due still.
pub fn claim_recheck(
    conn: &mut AnyConnection,
    id: &UserId,
    cutoff: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let claimed = diesel::update(
        users::table
            .filter(users::id.eq(id.as_str()))
            .filter(due(cutoff)),
    )
    .set(users::sso_checked_at.eq(now))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Keeps the refresh token the provider rotated to, in place of the spent one `used`: unless a
/// sign-in brought a newer grant meanwhile.
pub fn keep_rotated(
    conn: &mut AnyConnection,
    id: &UserId,
    used: &str,
    rotated: &str,
) -> StoreResult<()> {
    diesel::update(
        users::table
            .filter(users::id.eq(id.as_str()))
            .filter(users::sso_refresh.eq(used)),
    )
    .set(users::sso_refresh.eq(rotated))
    .execute(conn)?;
    Ok(())
}

/// The provider still vouches for `id`: noted, and their role follows the groups it gave, when
/// it gave them.
pub fn recheck_current(
    conn: &mut AnyConnection,
    id: &UserId,
    role: Option<Role>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(users::table.filter(users::id.eq(id.as_str())))
        .set(users::sso_vouched_at.eq(now))
        .execute(conn)?;
    let Some(role) = role else {
        return Ok(());
    };
    let Some(user) = user_store::find_user_by_id(conn, id)? else {
        return Ok(());
    };
    if user.role == role || !user.active {
        return Ok(());
    }
    locked_transaction(
        conn,
        &format!("account-admins:{}", user.account_id),
        |conn| {
            let Some(mut user) = user_store::find_user_by_id(conn, id)? else {
                return Ok(());
            };
            follow_role(conn, &mut user, role, None, now)
        },
    )
}

/// What a revocation came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Revoked {
    /// Deactivated: sessions ended, tokens answer 401, administrators told.
    Deactivated,
    /// The account's last active administrator stays, so someone can still act in the browser.
    /// Their grant is kept, so they are asked about (and warned of) every interval.
    LastAdministrator,
    /// Already deactivated, gone, or signed in again since with a new grant.
    Nothing,
}

/// The provider no longer vouches for `id`, whose grant `used` it refused: deactivated (§1),
/// which drops the grant, audited as done by SSO, and the account's administrators get a
/// notice, in one transaction. Nothing happens when a sign-in replaced the grant meanwhile.
pub fn recheck_revoked(
    conn: &mut AnyConnection,
    id: &UserId,
    used: &str,
    email_enabled: bool,
    now: NaiveDateTime,
) -> StoreResult<Revoked> {
    let Some(user) = user_store::find_user_by_id(conn, id)? else {
        return Ok(Revoked::Nothing);
    };
    locked_transaction(
        conn,
        &format!("account-admins:{}", user.account_id),
        |conn| {
            let Some(user) = user_store::find_user_by_id(conn, id)? else {
                return Ok(Revoked::Nothing);
            };
            let grant: Option<String> = users::table
                .filter(users::id.eq(id.as_str()))
                .select(users::sso_refresh)
                .first(conn)?;
            if grant.as_deref() != Some(used) || !user.active || user.kind != UserKind::Person {
                return Ok(Revoked::Nothing);
            }
            let change = StandingChange::Deactivate;
            let admins = active_admins(conn, &user.account_id)?;
            if keeps_an_administrator(&user, change, admins).is_err() {
                return Ok(Revoked::LastAdministrator);
            }
            user_store::apply_standing(conn, id, change)?;
            let (kind, detail) = change.audit_entry(&user);
            record(conn, &user, kind, &detail, None, now)?;
            let notice = NoticeKind::PersonDeactivated { by: "SSO".into() };
            notices::claim_person_notice(conn, &user.account_id, id, &notice, email_enabled, now)?;
            Ok(Revoked::Deactivated)
        },
    )
}

/// The administrators hear that a pass held back the revocations of `ids` (a pass where most
/// came back revoked: `sso::revocations_look_wrong`): one notice per account a day while it
/// lasts, about the first of them and saying how many, never one per person.
pub fn revocations_held(
    conn: &mut AnyConnection,
    ids: &[UserId],
    email_enabled: bool,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let mut people: Vec<User> = Vec::new();
    for id in ids {
        if let Some(user) = user_store::find_user_by_id(conn, id)?
            && user.active
        {
            people.push(user);
        }
    }
    let day = now.date().to_string();
    let mut by_account: BTreeMap<&str, Vec<&User>> = BTreeMap::new();
    for person in &people {
        by_account
            .entry(person.account_id.as_str())
            .or_default()
            .push(person);
    }
    for held in by_account.into_values() {
        let account = &held[0].account_id;
        let kind = NoticeKind::RevocationsHeld {
            on: day.clone(),
            people: held.len(),
        };
        let (kind_name, ..) = kind.stored();
        let told_today = notices_table::table
            .filter(notices_table::account_id.eq(account.as_str()))
            .filter(notices_table::kind.eq(kind_name))
            .filter(notices_table::detail.like(format!("{day} %")))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if !told_today {
            let about = &held[0].id;
            notices::claim_person_notice(conn, account, about, &kind, email_enabled, now)?;
        }
    }
    Ok(())
}

/// How a person stands with the provider, for their page: `None` for someone who does not sign
/// in through it.
pub struct SsoLink {
    /// A grant is kept, so the re-check asks about them.
    pub rechecked: bool,
    /// When the provider last vouched for them: a sign-in, or a check it answered.
    pub vouched_at: Option<NaiveDateTime>,
}

pub fn link_of(conn: &mut AnyConnection, id: &UserId) -> StoreResult<Option<SsoLink>> {
    let row: Option<(Option<String>, bool, Option<NaiveDateTime>)> = users::table
        .filter(users::id.eq(id.as_str()))
        .select((
            users::sso_subject,
            users::sso_refresh.is_not_null(),
            users::sso_vouched_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(subject, rechecked, vouched_at)| {
        subject.map(|_| SsoLink {
            rechecked,
            vouched_at,
        })
    }))
}
