//! Everything a token's page shows, read in one go: the token, its requests per day, the
//! addresses it was used from, its audit trail, and the tokens on either side of a rotation.

use chrono::NaiveDate;

use super::super::addresses::{self, SeenAddress};
use super::super::audit::{self, AuditEntry, AuditFilter};
use super::super::{AnyConnection, StoreResult, activity};
use super::{find_replaced, find_token};
use crate::domain::TokenId;
use crate::domain::audit::AuditKind;
use crate::domain::tokens::{TokenRecord, Visibility};

/// How much of a token's story the page shows.
pub struct StoryShown {
    /// The first day of requests counted.
    pub since: NaiveDate,
    pub addresses: i64,
    pub events: i64,
}

pub struct TokenStory {
    pub token: TokenRecord,
    /// Requests per day since `StoryShown::since`, oldest first; days without any are absent.
    pub counts: Vec<(NaiveDate, i64)>,
    pub addresses: Vec<SeenAddress>,
    /// Its audit trail, newest first, its own regenerate included.
    pub events: Vec<AuditEntry>,
    /// The token that replaced it in a regenerate.
    pub replaced_by: Option<TokenRecord>,
    /// The tokens it replaced, newest first.
    pub replaces: Vec<TokenRecord>,
}

/// The story of token `id`, if the viewer may see it.
pub fn find_story(
    conn: &mut AnyConnection,
    visibility: &Visibility,
    id: &TokenId,
    shown: &StoryShown,
) -> StoreResult<Option<TokenStory>> {
    let Some(token) = find_token(conn, visibility, id)? else {
        return Ok(None);
    };
    let counts = activity::daily_counts(conn, id, shown.since)?;
    let seen = addresses::recent_addresses(conn, id, shown.addresses)?;
    let filter = AuditFilter {
        subject: Some(id.to_string()),
        ..AuditFilter::default()
    };
    let mut events =
        audit::list_events(conn, visibility.account(), &filter, 1, shown.events)?.entries;
    // Its regenerate is recorded under the token that replaced it.
    if let Some(next) = &token.replaced_by {
        let filter = AuditFilter {
            subject: Some(next.to_string()),
            kind: Some(AuditKind::TokenRegenerated),
            ..AuditFilter::default()
        };
        events.extend(audit::list_events(conn, visibility.account(), &filter, 1, 1)?.entries);
        events.sort_by_key(|event| std::cmp::Reverse(event.at));
    }
    let replaced_by = match &token.replaced_by {
        Some(next) => find_token(conn, visibility, next)?,
        None => None,
    };
    let replaces = find_replaced(conn, visibility, id)?;
    Ok(Some(TokenStory {
        token,
        counts,
        addresses: seen,
        events,
        replaced_by,
        replaces,
    }))
}
