//! SCIM 2.0 at `/scim/v2` (RFC 7643, RFC 7644; product.md §11): discovery, and the account's
//! people as Users, for an identity provider that holds a token with `users:write`. Bodies are
//! read as JSON whatever their content type (providers send `application/json` and
//! `application/scim+json` alike); answers are `application/scim+json`, errors SCIM Error
//! bodies, never a 5xx for anything a client sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{ETAG, IF_MATCH, LOCATION, WWW_AUTHENTICATE};
use actix_web::web::{self, Bytes, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::caller::{Allowed, UsersWrite};
use super::error::ApiError;
use crate::auth::client_ip;
use crate::domain::UserId;
use crate::domain::scim::{
    ERROR_SCHEMA, LIST_SCHEMA, ScimRecord, ScimRefusal, ScimType, ScimUser, USER_SCHEMA,
    UserFilter, representation, select_attributes,
};
use crate::state::AppState;
use crate::store::scim::{self as store, ScimActor, ScimOutcome, ScimPerson};

const CONTENT_TYPE: &str = "application/scim+json";
/// A page holds at most this many people; ServiceProviderConfig says so.
const MAX_RESULTS: i64 = 200;
/// A User body is a few hundred bytes; a provider never needs this much.
const BODY_LIMIT: usize = 64 * 1024;

/// Every SCIM answer that is not a success: RFC 7644 §3.12's body, with the status as text.
#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<ScimType>,
    detail: String,
    challenge: Option<actix_web::http::header::HeaderValue>,
}

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            challenge: None,
        }
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, None, "No such resource here.")
    }

    fn refused(refusal: ScimRefusal) -> Self {
        let status = match refusal.scim_type {
            ScimType::Uniqueness => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, Some(refusal.scim_type), refusal.detail)
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail)
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = Value::String(scim_type.as_str().to_owned());
        }
        let mut answer = HttpResponse::build(self.status);
        answer.content_type(CONTENT_TYPE);
        if let Some(challenge) = &self.challenge {
            answer.insert_header((WWW_AUTHENTICATE, challenge.clone()));
        }
        answer.body(body.to_string())
    }
}

/// The API's own refusals (a bad token: 401, a token without `users:write`: 403, the database
/// down: 503) keep their status and challenge, in SCIM's shape. Causes stay in the log.
impl From<ApiError> for ScimError {
    fn from(error: ApiError) -> Self {
        // Its own answer logs the cause of a 5xx; the words here hold no cause.
        let answer = error.error_response();
        Self {
            status: answer.status(),
            scim_type: None,
            detail: error.to_string(),
            challenge: answer.headers().get(WWW_AUTHENTICATE).cloned(),
        }
    }
}

impl From<crate::store::StoreError> for ScimError {
    fn from(error: crate::store::StoreError) -> Self {
        ApiError::from(error).into()
    }
}

type Caller = Result<Allowed<UsersWrite>, ApiError>;

/// The calling token's account, or its refusal as a SCIM error.
fn account_of(caller: Caller) -> Result<(crate::domain::AccountId, String), ScimError> {
    let Allowed(caller, _) = caller?;
    Ok((
        caller.credential.issuer.account_id.clone(),
        caller.credential.token_name.clone(),
    ))
}

/// Where this server is, as SCIM's `location`s name it: `PUBLIC_URL`, else the scheme and host
/// this request came to.
fn base_url(state: &AppState, req: &HttpRequest) -> String {
    match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

fn scim_json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(CONTENT_TYPE)
        .body(body.to_string())
}

fn resource_of(person: &ScimPerson, base: &str) -> Value {
    representation(&ScimRecord {
        user: &person.user,
        external_id: person.external_id.as_deref(),
        document: person.document.as_ref(),
        created: person.created_at,
        modified: person.updated_at,
        location: format!("{base}/scim/v2/Users/{}", person.user.id),
    })
}

/// One User with its `ETag` and `Location`.
fn user_answer(status: StatusCode, resource: &Value) -> HttpResponse {
    let mut answer = HttpResponse::build(status);
    answer.content_type(CONTENT_TYPE);
    if let Some(version) = resource["meta"]["version"].as_str() {
        answer.insert_header((ETAG, version));
    }
    if let Some(location) = resource["meta"]["location"].as_str() {
        answer.insert_header((LOCATION, location));
    }
    answer.body(resource.to_string())
}

/// A request body, or why it could not be read (too large, cut off): read after the token
/// was checked, so a caller without one hears 401 first.
type Body = Result<Bytes, actix_web::Error>;

fn read_body(body: Body) -> Result<Value, ScimError> {
    let body = body.map_err(|error| {
        let status = error.as_response_error().status_code();
        ScimError::new(
            status,
            None,
            format!("The body could not be read (at most {BODY_LIMIT} bytes): {error}"),
        )
    })?;
    serde_json::from_slice(&body).map_err(|error| {
        ScimError::new(
            StatusCode::BAD_REQUEST,
            Some(ScimType::InvalidSyntax),
            format!("The body is not valid JSON: {error}"),
        )
    })
}

/// A query string that did not parse, answered after the token was checked.
fn bad_query<T>(query: Result<T, actix_web::Error>) -> Result<T, ScimError> {
    query.map_err(|error| {
        ScimError::new(
            StatusCode::BAD_REQUEST,
            Some(ScimType::InvalidValue),
            format!("The query string is not valid: {error}"),
        )
    })
}

fn user_id(raw: &str) -> Result<UserId, ScimError> {
    UserId::parse(raw).ok_or_else(ScimError::not_found)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// A paging number as SCIM reads them: a value below 1 (or not a number) means 1 for
/// `startIndex`, and a `count` below 0 means 0 (RFC 7644 §3.4.2.4).
fn number(raw: Option<&str>, name: &str) -> Result<Option<i64>, ScimError> {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(raw) => raw.parse::<i64>().map(Some).map_err(|_| {
            ScimError::new(
                StatusCode::BAD_REQUEST,
                Some(ScimType::InvalidValue),
                format!("{name} must be a whole number."),
            )
        }),
    }
}

async fn list(
    state: &Data<AppState>,
    req: &HttpRequest,
    account: crate::domain::AccountId,
    query: ListQuery,
) -> Result<HttpResponse, ScimError> {
    let filter = match query.filter.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(UserFilter::parse(raw).map_err(ScimError::refused)?),
    };
    let start = number(query.start_index.as_deref(), "startIndex")?
        .unwrap_or(1)
        .max(1);
    let count = number(query.count.as_deref(), "count")?
        .unwrap_or(MAX_RESULTS)
        .clamp(0, MAX_RESULTS);
    let (total, people) = state
        .store
        .run(move |conn| store::list(conn, &account, filter.as_ref(), start, count))
        .await?;
    let base = base_url(state, req);
    let resources: Vec<Value> = people
        .iter()
        .map(|person| {
            let mut resource = resource_of(person, &base);
            select_attributes(
                &mut resource,
                query.attributes.as_deref(),
                query.excluded_attributes.as_deref(),
            );
            resource
        })
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    ))
}

/// `GET /scim/v2/Users`: the account's people, `filter=userName eq "…"`, paged.
pub async fn list_users(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: Result<Query<ListQuery>, actix_web::Error>,
) -> Result<HttpResponse, ScimError> {
    let (account, _) = account_of(caller)?;
    list(&state, &req, account, bad_query(query)?.into_inner()).await
}

/// `POST /scim/v2/.search` and `/Users/.search` (RFC 7644 §3.4.3): a list asked in a body.
pub async fn search(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    let (account, _) = account_of(caller)?;
    let body = read_body(body)?;
    let text = |name: &str| -> Option<String> {
        match body.get(name)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => None,
        }
    };
    let query = ListQuery {
        filter: text("filter"),
        start_index: text("startIndex"),
        count: text("count"),
        attributes: text("attributes"),
        excluded_attributes: text("excludedAttributes"),
    };
    list(&state, &req, account, query).await
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ShapeQuery {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// `GET /scim/v2/Users/{id}`.
pub async fn get_user(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    query: Result<Query<ShapeQuery>, actix_web::Error>,
) -> Result<HttpResponse, ScimError> {
    let (account, _) = account_of(caller)?;
    let query = bad_query(query)?;
    let id = user_id(&id)?;
    let person = state
        .store
        .run(move |conn| store::find(conn, &account, &id))
        .await?
        .ok_or_else(ScimError::not_found)?;
    let mut resource = resource_of(&person, &base_url(&state, &req));
    select_attributes(
        &mut resource,
        query.attributes.as_deref(),
        query.excluded_attributes.as_deref(),
    );
    Ok(user_answer(StatusCode::OK, &resource))
}

/// `POST /scim/v2/Users`: a person joins, Read-only until an administrator says otherwise.
pub async fn create_user(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    let (account, token_name) = account_of(caller)?;
    let new = ScimUser::from_json(&read_body(body)?).map_err(ScimError::refused)?;
    let (ip, now, email_enabled) = (client_ip(&req), state.now(), state.notifier.email_enabled());
    let outcome = state
        .store
        .run(move |conn| {
            let actor = ScimActor {
                account: &account,
                token_name: &token_name,
                ip: &ip,
                email_enabled,
            };
            store::create(conn, &actor, &new, now)
        })
        .await?;
    answer(&state, &req, StatusCode::CREATED, outcome)
}

/// A write's outcome as SCIM answers it.
fn answer(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    outcome: ScimOutcome,
) -> Result<HttpResponse, ScimError> {
    match outcome {
        ScimOutcome::Done(person) => {
            let resource = resource_of(&person, &base_url(state, req));
            Ok(user_answer(status, &resource))
        }
        ScimOutcome::NotFound => Err(ScimError::not_found()),
        ScimOutcome::Refused(refusal) => Err(ScimError::refused(refusal)),
        // 409 with the users page's words; RFC 7644's `mutability` is a 400 about an attribute.
        ScimOutcome::LastAdministrator(message) => {
            Err(ScimError::new(StatusCode::CONFLICT, None, message))
        }
        ScimOutcome::Stale => Err(ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "The user changed since that version was read; read it again.",
        )),
    }
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(IF_MATCH)
        .map(|tag| tag.to_str().unwrap_or("").to_owned())
}

/// A PUT or a PATCH, done by the store under the account's lock.
async fn write(
    state: &Data<AppState>,
    req: &HttpRequest,
    caller: Caller,
    id: &str,
    change: impl FnOnce() -> Result<Change, ScimError>,
) -> Result<HttpResponse, ScimError> {
    let (account, token_name) = account_of(caller)?;
    let id = user_id(id)?;
    let change = change()?;
    let (ip, now, email_enabled) = (client_ip(req), state.now(), state.notifier.email_enabled());
    let tags = if_match(req);
    let outcome = state
        .store
        .run(move |conn| {
            let actor = ScimActor {
                account: &account,
                token_name: &token_name,
                ip: &ip,
                email_enabled,
            };
            let change = match &change {
                Change::Replace(new) => store::Change::Replace(new),
                Change::Patch(body) => store::Change::Patch(body),
            };
            store::change(conn, &actor, &id, change, tags.as_deref(), now)
        })
        .await?;
    answer(state, req, StatusCode::OK, outcome)
}

/// An owned `store::Change`, to move into the store's thread.
enum Change {
    Replace(ScimUser),
    Patch(Value),
}

/// `PUT /scim/v2/Users/{id}`: the whole person, as RFC 7644 §3.5.1 replaces.
pub async fn replace_user(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    write(&state, &req, caller, &id, || {
        let new = ScimUser::from_json(&read_body(body)?).map_err(ScimError::refused)?;
        Ok(Change::Replace(new))
    })
    .await
}

/// `PATCH /scim/v2/Users/{id}`: a PatchOp, applied by the store to the person as they are and
/// written as a replace, so it answers to the same rules.
pub async fn patch_user(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: Body,
) -> Result<HttpResponse, ScimError> {
    write(&state, &req, caller, &id, || {
        Ok(Change::Patch(read_body(body)?))
    })
    .await
}

/// `DELETE /scim/v2/Users/{id}`: the person leaves. Deactivated at once, gone from SCIM.
pub async fn delete_user(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, ScimError> {
    let (account, token_name) = account_of(caller)?;
    let id = user_id(&id)?;
    let (ip, now, email_enabled) = (client_ip(&req), state.now(), state.notifier.email_enabled());
    let tags = if_match(&req);
    let outcome = state
        .store
        .run(move |conn| {
            let actor = ScimActor {
                account: &account,
                token_name: &token_name,
                ip: &ip,
                email_enabled,
            };
            store::remove(conn, &actor, &id, tags.as_deref(), now)
        })
        .await?;
    answer(&state, &req, StatusCode::OK, outcome)?;
    Ok(HttpResponse::NoContent().finish())
}

fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": format!("{base}/scim/v2"),
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Personal Token",
            "description": "Authorization: Bearer with a personal token that holds users:write.",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/scim/v2/ServiceProviderConfig")}
    })
}

fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A person of the account",
        "schema": USER_SCHEMA,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/scim/v2/ResourceTypes/User")}
    })
}

fn attribute(name: &str, kind: &str, extra: Value) -> Value {
    let mut attribute = json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    });
    if let (Value::Object(attribute), Value::Object(extra)) = (&mut attribute, extra) {
        attribute.extend(extra);
    }
    attribute
}

/// The core User schema as far as we keep it: exactly the attributes a User answer carries.
fn user_schema(base: &str) -> Value {
    let text = |name: &str| attribute(name, "string", json!({}));
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A person of the account",
        "attributes": [
            attribute("userName", "string", json!({"required": true, "uniqueness": "server"})),
            attribute("name", "complex", json!({"subAttributes": [
                text("formatted"), text("familyName"), text("givenName"),
            ]})),
            text("displayName"),
            attribute("emails", "complex", json!({"multiValued": true, "subAttributes": [
                text("value"), text("type"), attribute("primary", "boolean", json!({})),
            ]})),
            attribute("active", "boolean", json!({})),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/scim/v2/Schemas/{USER_SCHEMA}")}
    })
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `GET /scim/v2/ServiceProviderConfig`.
pub async fn get_service_provider_config(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> Result<HttpResponse, ScimError> {
    account_of(caller)?;
    Ok(scim_json(
        StatusCode::OK,
        &service_provider_config(&base_url(&state, &req)),
    ))
}

/// A discovery endpoint that lists one resource, or answers it by `id`.
fn one_or_all(
    resource: Value,
    id: Option<Path<String>>,
    names: impl Fn(&str) -> bool,
) -> Result<HttpResponse, ScimError> {
    match id.map(Path::into_inner) {
        None => Ok(scim_json(StatusCode::OK, &list_of(vec![resource]))),
        Some(id) if names(&id) => Ok(scim_json(StatusCode::OK, &resource)),
        Some(_) => Err(ScimError::not_found()),
    }
}

/// `GET /scim/v2/ResourceTypes` and `/ResourceTypes/User`.
pub async fn get_resource_types(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Option<Path<String>>,
) -> Result<HttpResponse, ScimError> {
    account_of(caller)?;
    let user = user_resource_type(&base_url(&state, &req));
    one_or_all(user, id, |id| id == "User")
}

/// `GET /scim/v2/Schemas` and `/Schemas/{urn}`.
pub async fn get_schemas(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Option<Path<String>>,
) -> Result<HttpResponse, ScimError> {
    account_of(caller)?;
    let schema = user_schema(&base_url(&state, &req));
    one_or_all(schema, id, |id| id.eq_ignore_ascii_case(USER_SCHEMA))
}

async fn not_found() -> Result<HttpResponse, ScimError> {
    Err(ScimError::not_found())
}

fn not_allowed() -> impl Fn() -> std::future::Ready<Result<HttpResponse, ScimError>> + Clone {
    || {
        std::future::ready(Err(ScimError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "This path does not take that method.",
        )))
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .app_data(
                web::PathConfig::default().error_handler(|_, _| ScimError::not_found().into()),
            )
            .service(
                web::resource("/ServiceProviderConfig")
                    .get(get_service_provider_config)
                    .default_service(web::to(not_allowed())),
            )
            .service(
                web::resource(["/ResourceTypes", "/ResourceTypes/{id}"])
                    .get(get_resource_types)
                    .default_service(web::to(not_allowed())),
            )
            .service(
                web::resource(["/Schemas", "/Schemas/{id}"])
                    .get(get_schemas)
                    .default_service(web::to(not_allowed())),
            )
            .service(
                web::resource(["/.search", "/Users/.search"])
                    .post(search)
                    .default_service(web::to(not_allowed())),
            )
            .service(
                web::resource("/Users")
                    .get(list_users)
                    .post(create_user)
                    .default_service(web::to(not_allowed())),
            )
            .service(
                web::resource("/Users/{id}")
                    .get(get_user)
                    .put(replace_user)
                    .patch(patch_user)
                    .delete(delete_user)
                    .default_service(web::to(not_allowed())),
            )
            .default_service(web::to(not_found)),
    );
}
