//! CSS, JS and the icon, compiled into the binary so it runs from any directory. Links carry a
//! content hash, so the files can be cached for a year and still change with a release.

use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

use super::WebError;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "css/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../static/css/app.css"),
    },
    Asset {
        path: "js/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/js/app.js"),
    },
    Asset {
        path: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../../static/favicon.svg"),
    },
];

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}

fn versioned_href(path: &str) -> String {
    let body = find(path).map(|asset| asset.body).unwrap_or_default();
    let digest = Sha256::digest(body.as_bytes());
    let version: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("/static/{path}?v={version}")
}

static CSS_HREF: LazyLock<String> = LazyLock::new(|| versioned_href("css/app.css"));
static JS_HREF: LazyLock<String> = LazyLock::new(|| versioned_href("js/app.js"));

pub fn css_href() -> &'static str {
    CSS_HREF.as_str()
}

pub fn js_href() -> &'static str {
    JS_HREF.as_str()
}

fn serve(asset: &Asset, cache: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, asset.content_type))
        .insert_header((CACHE_CONTROL, cache))
        .body(asset.body)
}

pub async fn asset(path: web::Path<String>) -> Result<HttpResponse, WebError> {
    let asset = find(&path).ok_or(WebError::NotFound)?;
    Ok(serve(asset, "public, max-age=31536000, immutable"))
}

/// Browsers ask for /favicon.ico whatever the page links; a 404 there is a console error.
pub async fn favicon() -> Result<HttpResponse, WebError> {
    let asset = find("favicon.svg").ok_or(WebError::NotFound)?;
    Ok(serve(asset, "public, max-age=86400"))
}
