//! The product's rules, free of HTTP and SQL: every user-typed value is parsed here into a type
//! that can only hold a valid value. Nothing in this module may import actix or diesel.

pub mod error;
pub mod ids;
pub mod people;
pub mod role;
pub mod sign_in;
pub mod time;

pub use error::DomainError;
pub use ids::{AccountId, TokenId, UserId};
pub use people::{AccountName, DisplayName, NewPassword, User, Username};
pub use role::Role;
