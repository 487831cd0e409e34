//! The JSON API under `/api/v1`, authenticated by personal tokens. Handlers parse, make one
//! store call, and answer; errors go through `ApiError` only. May import `auth`, `store`,
//! `domain` and `state`; never `web` or `app`.

pub mod audit;
pub mod caller;
pub mod dto;
pub mod error;
pub mod me;
pub mod scim;
pub mod secret_scanning;
pub mod tokens;
pub mod verify;

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Personal Tokens API",
        description = "Authenticate with `Authorization: Bearer ptk_…`. Errors are JSON `{\"error\", \"message\"}`."
    ),
    paths(
        me::me,
        tokens::list_tokens,
        tokens::create_token,
        tokens::token_self,
        tokens::get_token,
        tokens::delete_token,
        tokens::suspend_token,
        tokens::resume_token,
        tokens::regenerate_token,
        audit::list_audit,
        verify::introspect,
        verify::forward_auth,
        secret_scanning::report
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "tokens", description = "Personal tokens"),
        (name = "audit", description = "The account's audit log"),
        (name = "verify", description = "Checking tokens for the account's own services")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Bodies larger than this are not token requests.
const JSON_LIMIT_BYTES: usize = 16 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Outside /api/v1: a proxy's subrequest, not an API call; the same errors and checks.
    // The methods of a service's own calls: nginx's auth_request subrequest keeps the client's
    // (a POST is checked with a POST, its body left out), while Traefik and Caddy send GET.
    const VERIFY_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
    cfg.service(
        web::resource("/auth/verify")
            .route(web::get().to(verify::forward_auth))
            .route(web::head().to(verify::forward_auth))
            .route(web::post().to(verify::forward_auth))
            .route(web::put().to(verify::forward_auth))
            .route(web::patch().to(verify::forward_auth))
            .route(web::delete().to(verify::forward_auth))
            .default_service(web::to(not_allowed(VERIFY_METHODS))),
    );
    cfg.configure(scim::routes);
    cfg.service(
        web::scope("/api/v1")
            .app_data(
                web::JsonConfig::default()
                    .limit(JSON_LIMIT_BYTES)
                    .error_handler(|error, _req| {
                        ApiError::BadRequest(format!(
                            "The request body is not valid JSON for this call: {error}"
                        ))
                        .into()
                    }),
            )
            .app_data(web::QueryConfig::default().error_handler(|error, _req| {
                ApiError::BadRequest(format!("The query string is not valid: {error}")).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .service(
                web::resource("/me")
                    .get(me::me)
                    .default_service(web::to(not_allowed("GET"))),
            )
            .service(
                web::resource("/tokens")
                    .get(tokens::list_tokens)
                    .post(tokens::create_token)
                    .default_service(web::to(not_allowed("GET, POST"))),
            )
            // Before `/tokens/{id}`, which would take `self` for an id.
            .service(
                web::resource("/tokens/self")
                    .get(tokens::token_self)
                    .default_service(web::to(not_allowed("GET"))),
            )
            .service(
                web::resource("/tokens/{id}")
                    .get(tokens::get_token)
                    .delete(tokens::delete_token)
                    .default_service(web::to(not_allowed("GET, DELETE"))),
            )
            .service(
                web::resource("/tokens/{id}/regenerate")
                    .post(tokens::regenerate_token)
                    .default_service(web::to(not_allowed("POST"))),
            )
            .service(
                web::resource("/tokens/{id}/suspend")
                    .post(tokens::suspend_token)
                    .default_service(web::to(not_allowed("POST"))),
            )
            .service(
                web::resource("/tokens/{id}/resume")
                    .post(tokens::resume_token)
                    .default_service(web::to(not_allowed("POST"))),
            )
            .service(
                web::resource("/audit")
                    .get(audit::list_audit)
                    .default_service(web::to(not_allowed("GET"))),
            )
            .service(
                web::resource("/introspect")
                    .post(verify::introspect)
                    .default_service(web::to(not_allowed("POST"))),
            )
            .service(
                web::resource("/secret-scanning")
                    .post(secret_scanning::report)
                    .default_service(web::to(not_allowed("POST"))),
            )
            .service(
                web::resource("/openapi.json")
                    .get(openapi_json)
                    .default_service(web::to(not_allowed("GET"))),
            )
            .default_service(web::to(not_found)),
    );
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/json")
        .body(ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// A known path asked with a method it does not have: 405 with the methods it does.
fn not_allowed(
    allow: &'static str,
) -> impl Fn() -> std::future::Ready<Result<HttpResponse, ApiError>> + Clone {
    move || std::future::ready(Err(ApiError::MethodNotAllowed(allow)))
}
