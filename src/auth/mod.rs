//! Who is calling: passwords (argon2id), the browser session, CSRF tokens.

pub mod bearer;
pub mod csrf;
pub mod password;
pub mod session;
