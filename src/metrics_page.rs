//! `GET /metrics`: the process's counters (`metrics`) and the pool's reading, in Prometheus's
//! text format, on the main port with `METRICS=true` or alone on `METRICS_BIND`. Imports neither
//! `web` nor `api`: only `app` mounts it.

use actix_web::HttpResponse;
use actix_web::web::Data;

use crate::metrics::METRICS;
use crate::state::AppState;

pub async fn metrics_page(state: Data<AppState>) -> HttpResponse {
    let text = METRICS.render(&[state.store.pool_reading()]);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(text)
}
