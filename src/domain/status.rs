//! A token's status, derived from its dates. The SQL twin of `status_at` is in
//! `store/tokens.rs` (`status_filter`); a test there checks that the two agree.

use chrono::NaiveDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Expired,
    Deleted,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Deleted => "deleted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Expired => "Expired",
            Self::Deleted => "Deleted",
        }
    }
}

/// `deleted` if deleted; else `expired` if it expires at or before `now`; else `active`.
pub fn status_at(
    deleted_at: Option<NaiveDateTime>,
    expires_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> TokenStatus {
    if deleted_at.is_some() {
        TokenStatus::Deleted
    } else if expires_at.is_some_and(|expires| expires <= now) {
        TokenStatus::Expired
    } else {
        TokenStatus::Active
    }
}

/// The list page's status filter (`status=all|active|expired|deleted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    All,
    Only(TokenStatus),
}

impl StatusFilter {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "" | "all" => Some(Self::All),
            "active" => Some(Self::Only(TokenStatus::Active)),
            "expired" => Some(Self::Only(TokenStatus::Expired)),
            "deleted" => Some(Self::Only(TokenStatus::Deleted)),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Only(status) => status.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn deleted_wins_over_expired_and_expiry_is_inclusive() {
        let now = crate::domain::time::now();
        let past = Some(now - TimeDelta::days(1));
        let future = Some(now + TimeDelta::days(1));
        assert_eq!(status_at(Some(now), past, now), TokenStatus::Deleted);
        assert_eq!(status_at(None, past, now), TokenStatus::Expired);
        assert_eq!(status_at(None, Some(now), now), TokenStatus::Expired);
        assert_eq!(status_at(None, future, now), TokenStatus::Active);
        assert_eq!(status_at(None, None, now), TokenStatus::Active);
    }

    #[test]
    fn filters_parse_their_query_values_only() {
        assert_eq!(StatusFilter::parse("all"), Some(StatusFilter::All));
        assert_eq!(
            StatusFilter::parse("expired"),
            Some(StatusFilter::Only(TokenStatus::Expired))
        );
        assert_eq!(StatusFilter::parse("Expired"), None);
        assert_eq!(StatusFilter::parse("' OR 1=1"), None);
    }
}
