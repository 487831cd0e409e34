//! People who sign in through the company's identity provider (product.md §11): found by the
//! provider's issuer and `sub`, created in `OIDC_ACCOUNT` on their first sign-in, and brought up
//! to date (e-mail, name, role) at every one.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit;
use super::schema::users;
use super::users::{self as user_store, NO_PASSWORD_HASH, active_admins};
use super::{AnyConnection, StoreResult, accounts, locked_transaction};
use crate::domain::audit::AuditKind;
use crate::domain::sso::SsoPerson;
use crate::domain::users::{StandingChange, UserKind, keeps_an_administrator};
use crate::domain::{AccountName, User, UserId};

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
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    audit::record_by_provider(conn, user, kind, &format!("{detail}, by SSO"), ip, now)
}

/// Signs `person` in from `issuer`: the person found by (issuer, sub), or a new one in
/// `account`. Their e-mail, name and role follow the provider at every sign-in; a demotion
/// narrows their tokens at once (effective role), and the account's last administrator keeps
/// the role.
pub fn sign_in(
    conn: &mut AnyConnection,
    account: &AccountName,
    issuer: &str,
    person: &SsoPerson,
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<SsoSignIn> {
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
                    let user = user_store::find_user_by_id(conn, &id)?.ok_or_else(|| {
                        super::StoreError::Corrupt("the new SSO person is gone".into())
                    })?;
                    let detail = crate::domain::users::added_audit_detail(&user);
                    record(conn, &user, AuditKind::UserAdded, &detail, ip, now)?;
                    return Ok(SsoSignIn::SignedIn(user));
                }
            };
            let Some(user) = user_store::find_user_by_id(conn, &id)? else {
                return Err(super::StoreError::Corrupt("an SSO person is gone".into()));
            };
            if !user.active || user.kind != UserKind::Person {
                return Ok(SsoSignIn::Deactivated);
            }
            diesel::update(users::table.filter(users::id.eq(id.as_str())))
                .set((
                    users::display_name.eq(person.display_name.as_str()),
                    users::email.eq(person.email.as_ref().map(|e| e.as_str())),
                ))
                .execute(conn)?;
            let mut user = User {
                display_name: person.display_name.as_str().to_owned(),
                email: person.email.as_ref().map(|e| e.as_str().to_owned()),
                ..user
            };
            if user.role != person.role {
                let change = StandingChange::Role(person.role);
                let admins = active_admins(conn, &user.account_id)?;
                if keeps_an_administrator(&user, change, admins).is_ok() {
                    user_store::apply_standing(conn, &id, change)?;
                    let (kind, detail) = change.audit_entry(&user);
                    record(conn, &user, kind, &detail, ip, now)?;
                    user.role = person.role;
                }
            }
            Ok(SsoSignIn::SignedIn(user))
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
            users::role.eq(person.role.as_str()),
            users::active.eq(true),
            users::created_at.eq(now),
            users::email.eq(person.email.as_ref().map(|e| e.as_str())),
            users::sso_issuer.eq(issuer),
            users::sso_subject.eq(&person.subject),
        ))
        .execute(conn)?;
    Ok(id)
}
