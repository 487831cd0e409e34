//! The product's rules, free of HTTP and SQL: every user-typed value is parsed here into a type
//! that can only hold a valid value. Nothing in this module may import actix or diesel.

pub mod allowlist;
pub mod audit;
pub mod credential;
pub mod error;
pub mod expiry;
pub mod ids;
pub mod name;
pub mod notice;
pub mod policy;
pub mod role;
pub mod scim;
pub mod scopes;
pub mod secret;
pub mod services;
pub mod sign_in;
pub mod sso;
pub mod status;
pub mod time;
pub mod tokens;
pub mod users;

pub use error::DomainError;
pub use ids::{AccountId, TokenId, UserId};
pub use role::Role;
pub use users::{AccountName, DisplayName, Email, NewPassword, User, Username};
