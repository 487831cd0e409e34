//! A token's status and every status word the product asks of a token, derived from its dates.
//! Each word is one function here; its SQL twin sits in `store/status_sql.rs`, and
//! `tests/it/status_sql.rs` checks on both backends that the two agree on every case.

use chrono::{NaiveDateTime, TimeDelta};

/// Tokens expiring within this many days are "expiring soon": flagged in the list, counted by
/// the header's badge, and warned about by the first expiry notice.
pub const EXPIRING_SOON_DAYS: i64 = 7;

/// The dates every status word is decided from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusDates {
    /// A time still ahead is the end of a rotation's overlap: the old secret works until then.
    pub deleted_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub suspended_at: Option<NaiveDateTime>,
}

impl StatusDates {
    pub fn status_at(&self, now: NaiveDateTime) -> TokenStatus {
        status_at(self.deleted_at, self.expires_at, self.suspended_at, now)
    }

    fn deleted(&self, now: NaiveDateTime) -> bool {
        self.deleted_at.is_some_and(|at| at <= now)
    }

    fn expired(&self, now: NaiveDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// The status words. Lists filter by them, the limit and the badge count them, the notice pass
/// picks its tokens by them; the store asks each through its SQL twin, never a query of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusWord {
    /// Has exactly this status (the list's status filter).
    Is(TokenStatus),
    /// Authenticates now: active, an old secret in its rotation overlap included.
    Working,
    /// Not deleted yet: never, or only on a rotation's schedule (a deletion time still ahead).
    /// What a delete or a revocation may still act on.
    NotDeleted,
    /// An old secret in a rotation's overlap: its deletion time is still ahead, and until then
    /// it works as its replacement does.
    Retiring,
    /// Counts toward the account's limit ("live tokens"): neither deleted nor expired. Suspended
    /// tokens count (resuming one must not overshoot the limit), and so does an old secret
    /// still in its overlap, which still works.
    Live,
    /// Keeps its name from being used again by its issuer: never deleted, not even on a
    /// rotation's schedule (the new secret takes the name over). Expired tokens keep theirs
    /// until deleted. The database's unique index on (issuer, name) says the same.
    HoldsName,
    /// Expires within `EXPIRING_SOON_DAYS`: not deleted, not expired, not an old secret in its
    /// overlap (it ends sooner anyway), suspended or not (resuming does not extend it).
    ExpiringSoon,
}

impl StatusWord {
    pub const ALL: [StatusWord; 10] = [
        StatusWord::Is(TokenStatus::Active),
        StatusWord::Is(TokenStatus::Suspended),
        StatusWord::Is(TokenStatus::Expired),
        StatusWord::Is(TokenStatus::Deleted),
        StatusWord::Working,
        StatusWord::NotDeleted,
        StatusWord::Retiring,
        StatusWord::Live,
        StatusWord::HoldsName,
        StatusWord::ExpiringSoon,
    ];

    pub fn holds(self, dates: &StatusDates, now: NaiveDateTime) -> bool {
        match self {
            Self::Is(status) => dates.status_at(now) == status,
            Self::Working => dates.status_at(now) == TokenStatus::Active,
            Self::NotDeleted => !dates.deleted(now),
            Self::Retiring => dates.deleted_at.is_some_and(|at| at > now),
            Self::Live => !dates.deleted(now) && !dates.expired(now),
            Self::HoldsName => dates.deleted_at.is_none(),
            Self::ExpiringSoon => {
                dates.deleted_at.is_none()
                    && dates.expires_at.is_some_and(|at| {
                        at > now && at <= now + TimeDelta::days(EXPIRING_SOON_DAYS)
                    })
            }
        }
    }
}

/// Whole days left, rounded up, for a token that is expiring soon.
pub fn days_left_if_soon(dates: &StatusDates, now: NaiveDateTime) -> Option<i64> {
    if !StatusWord::ExpiringSoon.holds(dates, now) {
        return None;
    }
    let left = dates.expires_at? - now;
    let whole = left.num_days();
    Some(if left > TimeDelta::days(whole) {
        whole + 1
    } else {
        whole
    })
}

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

/// When a token being rotated stops working: its deletion time, while it is `Retiring`.
pub fn retiring_at(deleted_at: Option<NaiveDateTime>, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let dates = StatusDates {
        deleted_at,
        ..StatusDates::default()
    };
    deleted_at.filter(|_| StatusWord::Retiring.holds(&dates, now))
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
    fn expiring_soon_includes_suspended_tokens_and_leaves_out_rotating_and_dead_ones() {
        let now = crate::domain::time::now();
        let in_days = |days: i64| Some(now + TimeDelta::days(days));
        let soon = StatusDates {
            expires_at: in_days(3),
            ..StatusDates::default()
        };
        assert!(StatusWord::ExpiringSoon.holds(&soon, now));
        let suspended = StatusDates {
            suspended_at: Some(now),
            ..soon
        };
        assert!(StatusWord::ExpiringSoon.holds(&suspended, now));
        let rotating = StatusDates {
            deleted_at: Some(now + TimeDelta::hours(1)),
            ..soon
        };
        assert!(!StatusWord::ExpiringSoon.holds(&rotating, now));
        assert!(StatusWord::Working.holds(&rotating, now));
        let later = StatusDates {
            expires_at: in_days(8),
            ..soon
        };
        assert!(!StatusWord::ExpiringSoon.holds(&later, now));
        let exactly_seven = StatusDates {
            expires_at: in_days(7),
            ..soon
        };
        assert_eq!(days_left_if_soon(&exactly_seven, now), Some(7));
        let hours = StatusDates {
            expires_at: Some(now + TimeDelta::hours(2)),
            ..soon
        };
        assert_eq!(days_left_if_soon(&hours, now), Some(1));
        assert_eq!(days_left_if_soon(&StatusDates::default(), now), None);
    }

    #[test]
    fn live_counts_suspended_and_rotating_tokens_but_not_dead_ones() {
        let now = crate::domain::time::now();
        let dates = |deleted_at, expires_at, suspended_at| StatusDates {
            deleted_at,
            expires_at,
            suspended_at,
        };
        let (past, future) = (
            Some(now - TimeDelta::days(1)),
            Some(now + TimeDelta::days(1)),
        );
        assert!(StatusWord::Live.holds(&dates(None, None, Some(now)), now));
        assert!(StatusWord::Live.holds(&dates(future, None, None), now));
        assert!(!StatusWord::Live.holds(&dates(past, None, None), now));
        assert!(!StatusWord::Live.holds(&dates(None, past, None), now));
        assert!(StatusWord::HoldsName.holds(&dates(None, past, None), now));
        assert!(!StatusWord::HoldsName.holds(&dates(future, None, None), now));
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
