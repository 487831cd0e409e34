//! Who is calling, as mechanisms with their own error types: passwords (argon2id), the browser
//! session, CSRF tokens, reading a bearer credential into a digest. May import `domain`, `store`
//! and actix's request types; never `web`, `api` or `app`, whose extractors build on these.

pub mod bearer;
pub mod client;
pub mod csrf;
pub mod oidc;
pub mod password;
pub mod scanning;
pub mod sealed;
pub mod session;
pub mod sign_in;
pub mod sso_recheck;

pub use client::{TrustedProxies, client_addr, client_ip};
