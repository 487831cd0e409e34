//! The dashboard's pages: one module per page, each mirrored by a template under `templates/`.
//! Handlers parse, make one store call, and render; they never touch diesel. May import `auth`,
//! `store`, `domain` and `state`; never `api` or `app`.

pub mod access_form;
pub mod activity_chart;
pub mod admin_gate;
pub mod assets;
pub mod audit;
pub mod current_user;
pub mod dates;
pub mod error;
pub mod first_run;
pub mod forms;
pub mod headers;
pub mod layout;
pub mod login;
pub mod notifications;
pub mod paging;
pub mod policy;
pub mod services;
pub mod settings;
pub mod settings_password;
pub mod setup;
pub mod sso;
pub mod token_delete;
pub mod token_detail;
pub mod token_lookup;
pub mod token_new;
pub mod token_regenerate;
pub mod token_reveal;
pub mod token_view;
pub mod tokens_list;
pub mod user_detail;
pub mod user_new;
pub mod users_list;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};

pub use current_user::CurrentUser;
pub use error::WebError;

/// The probes: no session and no first-run redirect, so they are mounted beside the pages'
/// scope rather than in it (a load balancer asks `/healthz` many times a second).
pub fn probes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/setup", web::get().to(setup::setup_form))
        .route("/setup", web::post().to(setup::create_first_admin))
        .route("/login", web::get().to(login::login_form))
        .route("/login", web::post().to(login::sign_in))
        .route("/login/sso", web::get().to(sso::start))
        .route("/login/sso/callback", web::get().to(sso::callback))
        .route("/logout", web::post().to(login::sign_out))
        .route("/tokens", web::get().to(tokens_list::list_tokens))
        .route("/tokens/new", web::get().to(token_new::new_token_form))
        .route("/tokens/new", web::post().to(token_new::create_token))
        .route("/tokens/reveal", web::get().to(token_reveal::reveal_token))
        .route(
            "/tokens/reveal",
            web::post().to(token_reveal::acknowledge_reveal),
        )
        // Before /tokens/{id}: routes match in the order they are registered.
        .service(
            web::resource("/tokens/lookup")
                .wrap(from_fn(admin_gate::admin_only))
                .route(web::get().to(token_lookup::lookup_form))
                .route(web::post().to(token_lookup::look_up_token)),
        )
        .route("/tokens/{id}", web::get().to(token_detail::show_token))
        .route(
            "/tokens/{id}/{action:suspend|resume}",
            web::post().to(token_detail::change_suspension),
        )
        .route(
            "/tokens/{id}/delete",
            web::get().to(token_delete::delete_token_form),
        )
        .route(
            "/tokens/{id}/delete",
            web::post().to(token_delete::delete_token),
        )
        .route(
            "/tokens/{id}/regenerate",
            web::get().to(token_regenerate::regenerate_token_form),
        )
        .route(
            "/tokens/{id}/regenerate",
            web::post().to(token_regenerate::regenerate_token),
        )
        .route(
            "/notifications",
            web::get().to(notifications::list_notifications),
        )
        .route(
            "/notifications/read",
            web::post().to(notifications::mark_read),
        )
        .route("/settings", web::get().to(settings::settings_form))
        .route("/settings", web::post().to(settings::save_settings))
        .route(
            "/settings/password",
            web::get().to(settings_password::password_form),
        )
        .route(
            "/settings/password",
            web::post().to(settings_password::change_password),
        )
        .service(
            web::scope("/users")
                .wrap(from_fn(admin_gate::admin_only))
                .route("", web::get().to(users_list::list_users))
                .route("/new", web::get().to(user_new::new_user_form))
                .route("/new", web::post().to(user_new::create_user))
                .route("/{id}", web::get().to(user_detail::show_user))
                .route("/{id}/role", web::post().to(user_detail::change_role))
                .route(
                    "/{id}/{standing:deactivate|reactivate}",
                    web::post().to(user_detail::change_standing),
                ),
        )
        .service(
            web::resource("/policy")
                .wrap(from_fn(admin_gate::admin_only))
                .route(web::get().to(policy::policy_form))
                .route(web::post().to(policy::save_policy)),
        )
        .service(
            web::scope("/services")
                .wrap(from_fn(admin_gate::admin_only))
                .route("", web::get().to(services::services_page))
                .route("", web::post().to(services::add_service))
                .route("/{name}/delete", web::post().to(services::delete_service)),
        )
        .service(
            web::resource("/audit")
                .wrap(from_fn(admin_gate::admin_only))
                .route(web::get().to(audit::audit_log)),
        )
        .route("/favicon.ico", web::get().to(assets::favicon))
        .route("/static/{path:.*}", web::get().to(assets::asset))
        .default_service(web::to(not_found));
}

/// The HTTP baseline for benchmarks: no database, no session work.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// Readiness: 200 when the database answers a trivial query within a second, else 503 with
/// one fixed sentence: anyone may ask, and a database error can name its host and user, so the
/// cause goes to the log only. `/healthz` stays free of database work (liveness).
async fn readyz(state: actix_web::web::Data<crate::state::AppState>) -> HttpResponse {
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        state.store.run_quick(crate::store::ping),
    )
    .await;
    match answered {
        Ok(Ok(())) => {
            return HttpResponse::Ok()
                .content_type("text/plain; charset=utf-8")
                .body("ready");
        }
        Ok(Err(error)) => {
            tracing::warn!(cause = %crate::observe::error_chain(&error), "not ready");
        }
        Err(_) => tracing::warn!("not ready: the database did not answer within a second"),
    }
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .body(NOT_READY)
}

/// All `/readyz` says when the database does not answer.
pub const NOT_READY: &str = "not ready: the database is not answering";

async fn home() -> HttpResponse {
    see_other("/tokens")
}

async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

/// The id a path names (`TokenId`, `UserId`), read after the request's other extractors (the
/// signed-in user, the form's CSRF check) have answered: an id that is not even an id names
/// nothing, 404 like any token or user one may not see, but a signed-out visitor is still sent
/// to sign in first. A failing `Path` extractor would answer before them.
pub fn path_id<T>(path: Option<actix_web::web::Path<T>>) -> Result<T, WebError> {
    path.map(actix_web::web::Path::into_inner)
        .ok_or(WebError::NotFound)
}

/// POST/redirect/GET, and every other redirect of the dashboard.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}
