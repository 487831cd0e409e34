//! Adding a user: username, display name, optional e-mail, role, and a typed initial password or
//! a generated one, shown once on the user's page.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::admin::AdminUser;
use super::forms::{self, Choice, CsrfForm, FieldErrors};
use super::layout::{self, Layout};
use super::{CurrentUser, WebError, see_other};
use crate::auth::session::{self, FlashKind};
use crate::auth::{client_ip, password};
use crate::domain::{AccountName, DisplayName, DomainError, Email, NewPassword, Role, Username};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::users::{self, NewUser};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    email: String,
    role: String,
    password: String,
}

#[derive(Template)]
#[template(path = "users/new.html")]
struct NewUserPage {
    layout: Layout,
    username: String,
    display_name: String,
    email: String,
    roles: Vec<Choice>,
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
struct Accepted {
    username: Username,
    display_name: DisplayName,
    email: Option<Email>,
    role: Role,
    password: Option<NewPassword>,
}

fn accept(form: &NewUserForm, errors: &mut FieldErrors) -> Option<Accepted> {
    let username = errors.check(Username::parse(&form.username));
    // A blank display name is the username, as on the command line.
    let display_name = if form.display_name.trim().is_empty() {
        username
            .as_ref()
            .and_then(|name| DisplayName::parse(name.as_str()).ok())
    } else {
        errors.check(DisplayName::parse(&form.display_name))
    };
    let email = errors.check(Email::parse_optional(&form.email));
    let role = errors
        .check(Role::parse(&form.role).ok_or_else(|| DomainError::new("role", "Choose a role.")));
    let password = if form.password.is_empty() {
        Some(None)
    } else {
        errors
            .check(NewPassword::parse(&form.password, None))
            .map(Some)
    };
    Some(Accepted {
        username: username?,
        display_name: display_name?,
        email: email?,
        role: role?,
        password: password?,
    })
}

pub async fn create_user(
    req: HttpRequest,
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    CsrfForm(mut form): CsrfForm<NewUserForm>,
) -> Result<HttpResponse, WebError> {
    let mut errors = FieldErrors::default();
    let Some(accepted) = accept(&form, &mut errors) else {
        // A typed password is never sent back; everything else is, so nothing typed is lost.
        form.password.clear();
        return page(&state, &current, StatusCode::BAD_REQUEST, form, errors).await;
    };
    let generated = accepted.password.is_none();
    let password = accepted.password.unwrap_or_else(NewPassword::generate);
    let (password, password_hash) = web::block(move || {
        let hash = password::hash(password.expose());
        (password, hash)
    })
    .await?;
    let new = NewUser {
        account: AccountName::parse(&current.user.account_name)
            .map_err(|e| WebError::Internal(format!("stored account name: {e}")))?,
        username: accepted.username,
        display_name: accepted.display_name,
        email: accepted.email,
        password_hash: password_hash?,
        role: accepted.role,
    };
    let (actor, ip) = (current.user.clone(), client_ip(&req));
    let added = state
        .store
        .run(move |conn| users::add_account_user(conn, &actor, new, &ip))
        .await;
    let user = match added {
        Ok(user) => user,
        Err(StoreError::Taken(_)) => {
            errors.push(DomainError::new(
                "username",
                "This username is taken. Choose another.",
            ));
            form.password.clear();
            return page(&state, &current, StatusCode::CONFLICT, form, errors).await;
        }
        Err(other) => return Err(other.into()),
    };
    if generated {
        session::stash_password_reveal(&current.session, &user.id, password.expose())?;
    }
    session::push_flash(
        &current.session,
        FlashKind::Success,
        format!("{} (@{}) was added.", user.display_name, user.username),
    );
    Ok(see_other(&format!("/users/{}", user.id)))
}
