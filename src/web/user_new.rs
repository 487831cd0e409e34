//! Adding a user: username, display name, optional e-mail, role, and a typed initial password or
//! a generated one, shown once on the user's page; or a service account, which has neither
//! e-mail nor password and never signs in.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::admin_gate::AdminUser;
use super::forms::{self, Choice, CsrfForm, FieldErrors};
use super::layout::{self, Layout};
use super::{CurrentUser, WebError, see_other};
use crate::auth::session::{self, FlashKind};
use crate::auth::{client_ip, password};
use crate::domain::users::{NewUser, NewUserInput, UserKind};
use crate::domain::{DomainError, Role};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::users;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    email: String,
    role: String,
    password: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "users/new.html")]
struct NewUserPage {
    layout: Layout,
    username: String,
    display_name: String,
    email: String,
    roles: Vec<Choice>,
    service: bool,
    errors: FieldErrors,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    status: StatusCode,
    form: NewUserForm,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let layout = layout::signed_in_page(state, current, "Add a user")
        .await?
        .in_section("users");
    // New people start as engineers unless the administrator picks otherwise.
    let role = Role::parse(&form.role).unwrap_or(Role::Engineer);
    forms::render(
        status,
        &NewUserPage {
            layout,
            username: form.username,
            display_name: form.display_name,
            email: form.email,
            roles: Choice::roles(Role::ALL.into_iter(), Some(role)),
            service: UserKind::parse(&form.kind) == Some(UserKind::Service),
            errors,
        },
    )
}

pub async fn new_user_form(
    state: Data<AppState>,
    AdminUser(current): AdminUser,
) -> Result<HttpResponse, WebError> {
    page(
        &state,
        &current,
        StatusCode::OK,
        NewUserForm::default(),
        FieldErrors::default(),
    )
    .await
}

/// The form's fields as the rules accept them; the password is `None` when one is to be made.
pub async fn create_user(
    req: HttpRequest,
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    CsrfForm(mut form): CsrfForm<NewUserForm>,
) -> Result<HttpResponse, WebError> {
    let parsed = NewUser::parse(&NewUserInput {
        account: &current.user.account_name,
        username: &form.username,
        display_name: &form.display_name,
        display_name_required: false,
        email: &form.email,
        role: &form.role,
        password: &form.password,
        password_confirm: None,
        blank_password_is_generated: true,
        kind: &form.kind,
    });
    let new = match parsed {
        Ok(new) => new,
        Err(found) => {
            let errors = FieldErrors::from(found);
            // A typed password is never sent back; everything else is, so nothing typed is lost.
            form.password.clear();
            return page(&state, &current, StatusCode::BAD_REQUEST, form, errors).await;
        }
    };
    let (new, hash) = web::block(move || {
        let hash = match &new.password {
            Some(typed) => password::hash(typed.expose()),
            // A service account: nothing to hash, and no hash is stored.
            None => Ok(String::new()),
        };
        (new, hash)
    })
    .await?;
    let hash = hash?;
    let (actor, ip, now) = (current.user.clone(), client_ip(&req), state.now());
    let added = state
        .store
        .run(move |conn| {
            let user = users::add_account_user(conn, &actor, &new, &hash, &ip, now)?;
            Ok((user, new))
        })
        .await;
    let (user, new) = match added {
        Ok(added) => added,
        Err(StoreError::Taken(_)) => {
            let mut errors = FieldErrors::default();
            errors.push(DomainError::new(
                "username",
                "This username is taken. Choose another.",
            ));
            form.password.clear();
            return page(&state, &current, StatusCode::CONFLICT, form, errors).await;
        }
        Err(other) => return Err(other.into()),
    };
    if new.password_generated {
        session::stash_password_reveal(&current.session, &user.id, new.password_text())?;
    }
    session::push_flash(
        &current.session,
        FlashKind::Success,
        match new.kind {
            UserKind::Person => format!("{} (@{}) was added.", user.display_name, user.username),
            UserKind::Service => format!(
                "Service account {} (@{}) was added. Add its tokens below.",
                user.display_name, user.username
            ),
        },
    );
    Ok(see_other(&format!("/users/{}", user.id)))
}
