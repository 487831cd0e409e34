//! Form plumbing shared by every page: CSRF-checked form extraction, rendering a page.

use actix_session::SessionExt;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::WebError;
use crate::auth::session;

/// Room for the longest fields plus URL-encoding of non-ASCII text; beyond it is not a form.
const FORM_LIMIT_BYTES: usize = 64 * 1024;

pub fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(FORM_LIMIT_BYTES)
        .error_handler(|error, _req| {
            WebError::BadRequest(format!(
                "The form could not be read ({error}). Go back and try again."
            ))
            .into()
        })
}

#[derive(serde::Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf_token: String,
    #[serde(flatten)]
    fields: T,
}

/// A form with no fields but its CSRF token (sign-out, "OK, I've copied it", regenerate).
#[derive(serde::Deserialize, Default)]
pub struct EmptyForm {}

/// A form whose `csrf_token` matched the session's; anything else is refused with 403 before
/// the handler runs, so it cannot change anything.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = req.get_session();
        // A body that is not a form at all cannot carry the token: that is a forgery, not a typo.
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let pairs = web::Form::<Vec<(String, String)>>::from_request(req, payload);
        Box::pin(async move {
            if !is_form {
                return Err(WebError::Csrf);
            }
            let pairs = pairs
                .await
                .map_err(|e| WebError::BadRequest(format!("The form could not be read ({e}).")))?
                .into_inner();
            let form: WithCsrf<T> = serde_urlencoded::from_str(&join_repeated(pairs))
                .map_err(|e| WebError::BadRequest(format!("The form could not be read ({e}).")))?;
            if !session::csrf_matches(&session, &form.csrf_token) {
                return Err(WebError::Csrf);
            }
            Ok(CsrfForm(form.fields))
        })
    }
}

/// Fields a form may repeat (product.md §9: one `scopes` per chosen resource). Their values
/// reach the handler as one field, joined by newlines (no value of theirs holds one); any other
/// field sent twice is refused, as before.
const REPEATABLE: [&str; 1] = ["scopes"];

/// The pairs as one form again, each repeatable field's values joined into one value.
fn join_repeated(pairs: Vec<(String, String)>) -> String {
    let mut joined: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    // Where each repeatable field's one value sits: the others are passed on as they came,
    // in one pass over the form (it is read before its CSRF token is checked).
    let mut held: [Option<usize>; REPEATABLE.len()] = [None; REPEATABLE.len()];
    for (key, value) in pairs {
        let field = REPEATABLE.iter().position(|r| *r == key);
        match field.and_then(|f| held[f]) {
            Some(at) => {
                let so_far = &mut joined[at].1;
                so_far.push('\n');
                so_far.push_str(&value);
            }
            None => {
                if let Some(f) = field {
                    held[f] = Some(joined.len());
                }
                joined.push((key, value));
            }
        }
    }
    serde_urlencoded::to_string(&joined).unwrap_or_default()
}

/// Renders a page. Dashboard pages show account data, so no cache may keep them.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, WebError> {
    let body = page.render()?;
    Ok(HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(body))
}

pub fn ok(page: &impl Template) -> Result<HttpResponse, WebError> {
    render(StatusCode::OK, page)
}

/// One message per field, for showing next to it when a form is sent back.
#[derive(Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

/// Every field error a parse reported, first one per field.
impl From<Vec<crate::domain::DomainError>> for FieldErrors {
    fn from(found: Vec<crate::domain::DomainError>) -> Self {
        let mut errors = Self::default();
        found.into_iter().for_each(|e| errors.push(e));
        errors
    }
}

impl FieldErrors {
    pub fn push(&mut self, error: crate::domain::DomainError) {
        if self.get(error.field).is_none() {
            self.0.push((error.field, error.message));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Collects the error of `result` (if any) and hands back its value.
    pub fn check<T>(&mut self, result: Result<T, crate::domain::DomainError>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }
}

/// One option of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    /// People as options (the "issued by" and "actor" filters), `selected` marked.
    pub fn people(
        people: Vec<(crate::domain::UserId, String)>,
        selected: Option<&crate::domain::UserId>,
    ) -> Vec<Choice> {
        people
            .into_iter()
            .map(|(id, name)| Choice {
                selected: selected == Some(&id),
                value: id.to_string(),
                label: name,
            })
            .collect()
    }

    /// Roles as options, highest first, `selected` marked.
    pub fn roles(
        roles: impl Iterator<Item = crate::domain::Role>,
        selected: Option<crate::domain::Role>,
    ) -> Vec<Choice> {
        roles
            .map(|role| Choice {
                value: role.as_str().into(),
                label: role.label().into(),
                selected: selected == Some(role),
            })
            .collect()
    }
}
