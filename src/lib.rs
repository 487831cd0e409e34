//! Personal Tokens: the library behind the binary, so tests and tools start the same app.
//! Dependencies point one way: app → web, api → auth, state → store → domain. `domain` imports
//! neither actix nor diesel; nothing under `domain`, `store`, `auth` or `state` imports `web`,
//! `api` or `app` (tests/it/layering.rs holds the code to it).

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod metrics;
pub mod metrics_page;
pub mod notify;
pub mod observe;
pub mod state;
pub mod store;
pub mod web;
