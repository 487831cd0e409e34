//! The add form: name, description, expiry, role up to the creator's own, and what the token
//! may reach (full access, or chosen scopes within the role's ceiling).

use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::CurrentUser;
use super::access_form::{AccessField, typed_scopes};
use super::error::refusal_status;
use super::forms::{self, Choice, CsrfForm, FieldErrors};
use super::layout::{self, Layout};
use super::{WebError, see_other};
use crate::auth::client_ip;
use crate::auth::session;
use crate::domain::expiry::{self, ExpiryChoice};
use crate::domain::policy::TokenPolicy;
use crate::domain::scopes::Resource;
use crate::domain::secret::PlainToken;
use crate::domain::tokens::{NewTokenInput, NewTokenRequest, Refusal, every_error};
use crate::domain::users::UserKind;
use crate::domain::{Role, User, UserId};
use crate::state::AppState;
use crate::store::{services, tokens, users};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewTokenForm {
    name: String,
    description: String,
    expires_in: String,
    expires_at: String,
    role: String,
    allowed_ips: String,
    access: String,
    /// Every chosen `RESOURCE:LEVEL`, one per line (`CsrfForm` joins the repeated field).
    scopes: String,
    /// A service account's id: an administrator makes the token for it.
    #[serde(rename = "for")]
    for_user: String,
}

impl From<&NewTokenForm> for NewTokenInput {
    fn from(form: &NewTokenForm) -> Self {
        Self {
            expiry: ExpiryChoice::parse(&form.expires_in, &form.expires_at),
            name: form.name.clone(),
            description: form.description.clone(),
            role: form.role.clone(),
            allowed_ips: form.allowed_ips.clone(),
            access: form.access.clone(),
            scopes: typed_scopes(&form.scopes),
        }
    }
}

#[derive(Template)]
#[template(path = "tokens/new.html")]
struct NewTokenPage {
    layout: Layout,
    name: String,
    description: String,
    expires_at: String,
    allowed_ips: String,
    expiry_choices: Vec<Choice>,
    roles: Vec<Choice>,
    access: AccessField,
    errors: FieldErrors,
    form_error: Option<String>,
    min_date: String,
    max_date: String,
    /// The service account the token is for, when it is not the viewer's own.
    for_user: Option<ForUser>,
}

struct ForUser {
    id: String,
    display_name: String,
}

/// Defaults for a blank form: 30 days, and the least-privileged role.
const DEFAULT_EXPIRES_IN: &str = "30";

/// What the form is drawn from besides what was typed: the account's policy and services.
struct FormFacts {
    policy: TokenPolicy,
    services: Vec<(Resource, String)>,
}

async fn form_facts(state: &AppState, current: &CurrentUser) -> Result<FormFacts, WebError> {
    let policy = super::policy::account_policy(state, current).await?;
    let account = current.user.account_id.clone();
    let services = state
        .store
        .run(move |conn| services::described(conn, &account))
        .await?;
    Ok(FormFacts { policy, services })
}

fn page(
    layout: Layout,
    facts: &FormFacts,
    issuer: &Issuer,
    form: NewTokenForm,
    errors: FieldErrors,
    form_error: Option<String>,
    now: NaiveDateTime,
) -> NewTokenPage {
    let policy = &facts.policy;
    let creator = issuer.role();
    let access = AccessField {
        for_other: matches!(issuer, Issuer::Service(_)),
        ..AccessField::new(
            creator,
            &facts.services,
            form.access == "scoped",
            &typed_scopes(&form.scopes),
        )
    };
    let expires_in = if form.expires_in.is_empty() {
        DEFAULT_EXPIRES_IN.to_owned()
    } else {
        form.expires_in
    };
    NewTokenPage {
        layout,
        expiry_choices: expiry::choices(policy)
            .into_iter()
            .map(|(value, label)| Choice {
                selected: value == expires_in,
                value,
                label,
            })
            .collect(),
        roles: Choice::roles(
            creator.grantable(),
            Some(Role::parse(&form.role).unwrap_or(Role::ReadOnly)),
        ),
        access,
        name: form.name,
        description: form.description,
        expires_at: form.expires_at,
        allowed_ips: form.allowed_ips,
        errors,
        form_error,
        min_date: (now + chrono::TimeDelta::days(1))
            .format("%Y-%m-%d")
            .to_string(),
        max_date: (now + chrono::TimeDelta::days(i64::from(policy.max_lifetime_days)))
            .format("%Y-%m-%d")
            .to_string(),
        for_user: match issuer {
            Issuer::Viewer(_) => None,
            Issuer::Service(service) => Some(ForUser {
                id: service.id.to_string(),
                display_name: service.display_name.clone(),
            }),
        },
    }
}

/// Whose token the form makes: the viewer's own, or a service account's (§11: only
/// administrators make those, from its page).
enum Issuer {
    Viewer(User),
    Service(User),
}

impl Issuer {
    fn user(&self) -> &User {
        match self {
            Issuer::Viewer(user) | Issuer::Service(user) => user,
        }
    }

    fn role(&self) -> Role {
        self.user().role
    }

    /// The page's layout: the tokens' section, or the users' for a service account's token.
    async fn layout(&self, state: &AppState, current: &CurrentUser) -> Result<Layout, WebError> {
        Ok(match self {
            Issuer::Viewer(_) => {
                layout::signed_in_page(state, current, "Add a personal token").await?
            }
            Issuer::Service(service) => {
                let title = format!("Add a token for {}", service.display_name);
                layout::signed_in_page(state, current, &title)
                    .await?
                    .in_section("users")
            }
        })
    }
}

/// `for` names a service account of the viewer's account, and the viewer is an administrator;
/// anything else is not found, as another account's ids are.
async fn issuer(
    state: &AppState,
    current: &CurrentUser,
    for_user: &str,
) -> Result<Issuer, WebError> {
    if for_user.is_empty() {
        return Ok(Issuer::Viewer(current.user.clone()));
    }
    let id = UserId::parse(for_user).ok_or(WebError::NotFound)?;
    if current.user.role != Role::Admin {
        return Err(WebError::NotFound);
    }
    let account = current.user.account_id.clone();
    let found = state
        .store
        .run(move |conn| users::find_user_in_account(conn, &account, &id))
        .await?;
    match found {
        Some(service) if service.kind == UserKind::Service && service.active => {
            Ok(Issuer::Service(service))
        }
        _ => Err(WebError::NotFound),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForQuery {
    #[serde(rename = "for")]
    for_user: String,
}

pub async fn new_token_form(
    state: Data<AppState>,
    current: CurrentUser,
    query: Query<ForQuery>,
) -> Result<HttpResponse, WebError> {
    let issuer = issuer(&state, &current, &query.for_user).await?;
    let facts = form_facts(&state, &current).await?;
    let layout = issuer.layout(&state, &current).await?;
    forms::ok(&page(
        layout,
        &facts,
        &issuer,
        NewTokenForm::default(),
        FieldErrors::default(),
        None,
        state.now(),
    ))
}

pub async fn create_token(
    req: HttpRequest,
    state: Data<AppState>,
    current: CurrentUser,
    CsrfForm(form): CsrfForm<NewTokenForm>,
) -> Result<HttpResponse, WebError> {
    let issuer = issuer(&state, &current, &form.for_user).await?;
    let (now, creator, actor) = (state.now(), issuer.user().clone(), current.user.clone());
    let input = NewTokenInput::from(&form);
    // `Err`: fields were refused, reported below with the error the policy adds.
    let refusal = match NewTokenRequest::parse(&input, creator.role, now) {
        Err(errors) => Err(errors),
        Ok(request) => {
            let (ip, secret) = (client_ip(&req), PlainToken::generate());
            let (outcome, secret) = state
                .store
                .run(move |conn| {
                    let outcome = tokens::create_token(
                        conn,
                        &creator,
                        &actor,
                        &request,
                        &secret,
                        now,
                        Some(&ip),
                    )?;
                    Ok((outcome, secret))
                })
                .await?;
            match outcome {
                Ok(token) => {
                    session::stash_reveal(&current.session, &token.name, &secret)?;
                    return Ok(see_other("/tokens/reveal"));
                }
                Err(refusal) => Ok(refusal),
            }
        }
    };
    let facts = form_facts(&state, &current).await?;
    let refusal = refusal
        .unwrap_or_else(|errors| Refusal::Invalid(every_error(errors, &input, &facts.policy, now)));
    let (errors, form_error) = match &refusal {
        Refusal::Invalid(found) => (FieldErrors::from(found.clone()), None),
        other => (FieldErrors::default(), Some(other.message())),
    };
    let layout = issuer.layout(&state, &current).await?;
    forms::render(
        refusal_status(&refusal),
        &page(layout, &facts, &issuer, form, errors, form_error, now),
    )
}
