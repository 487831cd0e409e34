//! A token as its row in a list, or the head of its confirmation page, reads it.

use chrono::NaiveDateTime;

use super::dates::{date, datetime};

use crate::domain::status::{TokenStatus, retiring_at};
use crate::domain::tokens::TokenRecord;

/// A token as a table row or a confirmation page shows it.
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub masked: String,
    pub role_label: &'static str,
    /// "Full access", or the scopes ("billing:read, tokens:write").
    pub access: String,
    pub issuer_name: String,
    /// The issuer signs in through the identity provider (shown on the token's own page).
    pub issuer_sso: bool,
    pub created: String,
    pub created_title: String,
    pub last_used: String,
    pub last_used_title: String,
    pub expires: String,
    pub expires_title: String,
    /// "expires in N days" when within the warning window.
    pub expires_soon: Option<String>,
    pub status: &'static str,
    pub status_label: &'static str,
    pub is_deleted: bool,
    /// "10.0.0.0/8, 203.0.113.7/32" when the token has an allowlist; empty otherwise.
    pub allowed_ips: String,
    /// Why it was deleted, when no person deleted it ("reported leaked at …").
    pub deleted_reason: String,
    /// "rotating, old secret ends at …" while a regenerate's overlap runs.
    pub rotating: Option<String>,
}

impl TokenView {
    pub fn new(token: &TokenRecord, now: NaiveDateTime) -> Self {
        let status = token.status_at(now);
        Self {
            id: token.id.to_string(),
            name: token.name.clone(),
            description: token.description.clone(),
            masked: token.masked(),
            role_label: token.role.label(),
            access: token.access.summary(),
            issuer_name: token.issuer_name.clone(),
            issuer_sso: false,
            created: date(token.created_at),
            created_title: datetime(token.created_at),
            last_used: token
                .last_used_at
                .map(date)
                .unwrap_or_else(|| "Never".into()),
            last_used_title: match (token.last_used_at, &token.last_used_ip) {
                (Some(at), Some(ip)) => format!("{} from {ip}", datetime(at)),
                (Some(at), None) => datetime(at),
                _ => String::new(),
            },
            expires: token.expires_at.map(date).unwrap_or_else(|| "Never".into()),
            expires_title: token.expires_at.map(datetime).unwrap_or_default(),
            expires_soon: token.days_left_if_soon(now).map(|days| match days {
                1 => "expires in 1 day".to_owned(),
                n => format!("expires in {n} days"),
            }),
            status: status.as_str(),
            status_label: status.label(),
            is_deleted: status == TokenStatus::Deleted,
            allowed_ips: token.allowed_ips.ranges().join(", "),
            deleted_reason: token.deleted_reason.clone().unwrap_or_default(),
            rotating: retiring_at(token.deleted_at, now)
                .map(|ends| format!("rotating, old secret ends at {}", datetime(ends))),
        }
    }
}
