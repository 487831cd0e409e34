//! The account's services (product.md §9): administrators register their own APIs here, so
//! that tokens can be given `NAME:read` or `NAME:write` on them. A service that a live token
//! still names cannot be deleted.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::admin_gate::AdminUser;
use super::dates;
use super::forms::{self, CsrfForm, EmptyForm, FieldErrors};
use super::layout::{self, Layout};
use super::{CurrentUser, WebError, see_other};
use crate::auth::client_ip;
use crate::auth::session::{self, FlashKind};
use crate::domain::services::{NewService, ServiceRefusal};
use crate::state::AppState;
use crate::store::services;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ServiceForm {
    name: String,
    description: String,
}

struct ServiceView {
    name: String,
    description: String,
    created: String,
    /// "Held by 2 live tokens", or "No live token holds it".
    holders: String,
    /// The list of tokens that reach it, for the link.
    tokens_href: String,
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    layout: Layout,
    services: Vec<ServiceView>,
    name: String,
    description: String,
    errors: FieldErrors,
    /// A refusal that is not about a field (a held service, the most services).
    form_error: Option<String>,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    status: StatusCode,
    form: ServiceForm,
    errors: FieldErrors,
    form_error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let (account, now) = (current.user.account_id.clone(), state.now());
    let listed = state
        .store
        .run(move |conn| services::list(conn, &account, now))
        .await?;
    let layout = layout::signed_in_page(state, current, "Services")
        .await?
        .in_section("services");
    forms::render(
        status,
        &ServicesPage {
            layout,
            services: listed
                .into_iter()
                .map(|service| ServiceView {
                    tokens_href: format!("/tokens?scope={}", service.name),
                    name: service.name.to_string(),
                    description: service.description,
                    created: dates::date(service.created_at),
                    holders: match service.holders {
                        0 => "No live token holds it".to_owned(),
                        1 => "Held by 1 live token".to_owned(),
                        n => format!("Held by {n} live tokens"),
                    },
                })
                .collect(),
            name: form.name,
            description: form.description,
            errors,
            form_error,
        },
    )
}

pub async fn services_page(
    state: Data<AppState>,
    AdminUser(current): AdminUser,
) -> Result<HttpResponse, WebError> {
    let form = ServiceForm::default();
    page(
        &state,
        &current,
        StatusCode::OK,
        form,
        FieldErrors::default(),
        None,
    )
    .await
}

pub async fn add_service(
    req: HttpRequest,
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    CsrfForm(form): CsrfForm<ServiceForm>,
) -> Result<HttpResponse, WebError> {
    let new = match NewService::parse(&form.name, &form.description) {
        Ok(new) => new,
        Err(found) => {
            let errors = FieldErrors::from(found);
            return page(
                &state,
                &current,
                StatusCode::BAD_REQUEST,
                form,
                errors,
                None,
            )
            .await;
        }
    };
    let (admin, ip, now) = (current.user.clone(), client_ip(&req), state.now());
    let added = {
        let new = new.clone();
        state
            .store
            .run(move |conn| services::add(conn, &admin, &new, now, Some(&ip)))
            .await?
    };
    match added {
        Ok(()) => {
            session::push_flash(
                &current.session,
                FlashKind::Success,
                format!(
                    "Service {} added. Tokens can now be given {0}:read or {0}:write.",
                    new.name
                ),
            );
            Ok(see_other("/services"))
        }
        Err(refusal) => {
            let (status, errors, form_error) = refused(refusal);
            page(&state, &current, status, form, errors, form_error).await
        }
    }
}

pub async fn delete_service(
    req: HttpRequest,
    state: Data<AppState>,
    AdminUser(current): AdminUser,
    name: Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    let name = name.into_inner();
    let (admin, ip, now) = (current.user.clone(), client_ip(&req), state.now());
    let deleted = {
        let name = name.clone();
        state
            .store
            .run(move |conn| services::delete(conn, &admin, &name, now, Some(&ip)))
            .await?
    };
    match deleted {
        Ok(()) => {
            session::push_flash(
                &current.session,
                FlashKind::Success,
                format!("Service {name} deleted."),
            );
            Ok(see_other("/services"))
        }
        Err(ServiceRefusal::NotFound) => Err(WebError::NotFound),
        Err(refusal) => {
            let (status, errors, form_error) = refused(refusal);
            let form = ServiceForm::default();
            page(&state, &current, status, form, errors, form_error).await
        }
    }
}

/// The status and the words of a refusal, on the field it concerns where it has one.
fn refused(refusal: ServiceRefusal) -> (StatusCode, FieldErrors, Option<String>) {
    let message = refusal.message();
    match refusal {
        ServiceRefusal::Invalid(found) => (StatusCode::BAD_REQUEST, FieldErrors::from(found), None),
        ServiceRefusal::Taken { .. } => {
            let mut errors = FieldErrors::default();
            errors.push(crate::domain::DomainError::new("name", message));
            (StatusCode::CONFLICT, errors, None)
        }
        ServiceRefusal::NotFound => (StatusCode::NOT_FOUND, FieldErrors::default(), Some(message)),
        ServiceRefusal::TooMany | ServiceRefusal::Held { .. } => {
            (StatusCode::CONFLICT, FieldErrors::default(), Some(message))
        }
    }
}
