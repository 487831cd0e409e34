//! Integration tests: the real application on a free port, against a fresh SQLite file and a
//! fresh Postgres database. `both_backends!` emits a `sqlite` and a `postgres` test of each body.

#[path = "../common/database.rs"]
mod database;
#[path = "../common/nginx.rs"]
mod nginx;
#[path = "../common/oidc.rs"]
mod oidc;
#[path = "../common/smtp.rs"]
mod smtp;
#[macro_use]
mod helpers;

mod admin;
mod api_tokens;
mod bad_input;
mod balanced;
mod cli;
mod instances;
mod layering;
mod leaks;
mod login;
mod notices;
mod operations;
mod permissions;
mod process;
mod proxy;
mod scim;
mod service_accounts;
mod setup;
mod sso;
mod sso_recheck;
mod status_sql;
mod token_helpers;
mod token_story;
mod verify;
mod web_basics;
mod web_tokens;
