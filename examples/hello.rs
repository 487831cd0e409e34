//! The bare stack, for `bench/run.py`: actix-web answering `GET /healthz` with "ok", with no
//! middleware at all. The product's `/healthz` against this says what its middleware (request
//! id, access log, metrics, security headers) costs per request.
//!
//! cargo run --release --example hello -- 127.0.0.1:8090

use actix_web::{App, HttpResponse, HttpServer, web};

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    HttpServer::new(|| App::new().route("/healthz", web::get().to(healthz)))
        .bind(bind)?
        .run()
        .await
}
