//! Browser tests: real headless Chromium, driven through chromedriver (fantoccini), against the
//! real application started in-process on a fresh database per test (SQLite; one path also on
//! Postgres).
//!
//! Every page a test visits is checked the same way (see `harness::Browser::check`): no console
//! error or CSP violation, and no axe-core violation of impact "serious" or "critical". The page
//! tour (`pages.rs`) also saves a screenshot of each page at desktop and phone width under
//! `target/screenshots/` and checks that nothing makes the page wider than a phone.
//!
//! Without chromium and chromedriver the tests pass after saying they were skipped, unless
//! `CI=true`, where a missing browser is a failure. `scripts/test` says which case applies.

#[path = "../common/database.rs"]
mod database;
#[path = "../common/oidc.rs"]
mod oidc;
#[macro_use]
mod harness;

mod admin;
mod flows;
mod keyboard;
mod leaks;
mod lifecycle;
mod listing;
mod no_js;
mod pages;
mod roles;
mod scopes;
mod sso;
mod story;
