//! A token's status, derived from its dates. The SQL twin of `status_at` is in
//! `store/tokens.rs` (`status_filter`); a test there checks that the two agree.

use chrono::NaiveDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Suspended,
    Expired,
    Deleted,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Expired => "expired",
            Self::Deleted => "deleted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Suspended => "Suspended",
            Self::Expired => "Expired",
            Self::Deleted => "Deleted",
        }
    }
}

/// `deleted` once its deletion time has come; else `expired` if it expires at or before `now`;
/// else `suspended` if suspended; else `active` (product.md §2). A deletion time still ahead is a
/// rotation's overlap: the old secret works until then.
pub fn status_at(
    deleted_at: Option<NaiveDateTime>,
    expires_at: Option<NaiveDateTime>,
    suspended_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> TokenStatus {
    if deleted_at.is_some_and(|deleted| deleted <= now) {
        TokenStatus::Deleted
    } else if expires_at.is_some_and(|expires| expires <= now) {
        TokenStatus::Expired
    } else if suspended_at.is_some() {
        TokenStatus::Suspended
    } else {
        TokenStatus::Active
    }
}

/// When a token being rotated stops working: its deletion time, while that is still ahead.
pub fn retiring_at(deleted_at: Option<NaiveDateTime>, now: NaiveDateTime) -> Option<NaiveDateTime> {
    deleted_at.filter(|at| *at > now)
}

/// The list page's status filter (`status=all|active|suspended|expired|deleted`).
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
            "suspended" => Some(Self::Only(TokenStatus::Suspended)),
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
    fn deleted_wins_over_expired_over_suspended_and_expiry_is_inclusive() {
        let now = crate::domain::time::now();
        let past = Some(now - TimeDelta::days(1));
        let future = Some(now + TimeDelta::days(1));
        assert_eq!(status_at(Some(now), past, past, now), TokenStatus::Deleted);
        assert_eq!(status_at(None, past, past, now), TokenStatus::Expired);
        assert_eq!(status_at(None, Some(now), None, now), TokenStatus::Expired);
        assert_eq!(status_at(None, future, past, now), TokenStatus::Suspended);
        assert_eq!(status_at(None, future, None, now), TokenStatus::Active);
        assert_eq!(status_at(None, None, None, now), TokenStatus::Active);
    }

    #[test]
    fn a_deletion_still_ahead_is_an_overlap_not_a_deletion() {
        let now = crate::domain::time::now();
        let soon = Some(now + TimeDelta::hours(1));
        assert_eq!(status_at(soon, None, None, now), TokenStatus::Active);
        assert_eq!(retiring_at(soon, now), soon);
        let later = now + TimeDelta::hours(2);
        assert_eq!(status_at(soon, None, None, later), TokenStatus::Deleted);
        assert_eq!(retiring_at(soon, later), None);
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
