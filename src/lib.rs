//! Personal Tokens: the library behind the binary, so tests and tools start the same app.
//! Dependencies point inward: web/api → auth/store → domain (auth's two extractors return the
//! web and API error types, the one exception).

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod store;
pub mod web;
