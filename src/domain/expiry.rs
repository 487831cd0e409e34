//! Expiry choices and how they resolve against the account policy.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use super::DomainError;
use super::policy::TokenPolicy;

/// The preset lifetimes offered by the form, in days.
pub const PRESET_DAYS: [u32; 6] = [1, 7, 15, 30, 90, 365];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryChoice {
    Days(u32),
    /// Expires at 00:00 UTC on this date, as GitLab's token expiry dates do.
    Custom(NaiveDate),
    Never,
}

impl ExpiryChoice {
    /// `expires_in` is `1`…`365`, `custom` or `never`; `expires_at` a `YYYY-MM-DD` date for custom.
    pub fn parse(expires_in: &str, expires_at: &str) -> Result<Self, DomainError> {
        match expires_in.trim() {
            "" => Err(DomainError::new(
                "expires_in",
                "Choose when the token expires.",
            )),
            "never" => Ok(Self::Never),
            "custom" => {
                let raw = expires_at.trim();
                if raw.is_empty() {
                    return Err(DomainError::new("expires_at", "Choose an expiry date."));
                }
                NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map(Self::Custom)
                    .map_err(|_| DomainError::new("expires_at", "Enter the date as YYYY-MM-DD."))
            }
            days => days
                .parse::<u32>()
                .ok()
                .filter(|days| PRESET_DAYS.contains(days))
                .map(Self::Days)
                .ok_or_else(|| {
                    DomainError::new("expires_in", "Choose one of the listed expiry options.")
                }),
        }
    }

    /// A custom date must lie ahead of `now`; that needs no policy, so it is checked with the
    /// other fields.
    pub fn check_ahead_of(self, now: NaiveDateTime) -> Result<Self, DomainError> {
        match self {
            Self::Custom(date) if date.and_hms_opt(0, 0, 0).is_none_or(|at| at <= now) => Err(
                DomainError::new("expires_at", "The expiry date must be in the future."),
            ),
            choice => Ok(choice),
        }
    }

    /// Turns the choice into an instant (`None`: never), or says which policy rule it breaks.
    pub fn resolve(
        self,
        now: NaiveDateTime,
        policy: &TokenPolicy,
    ) -> Result<Option<NaiveDateTime>, DomainError> {
        let longest = now + TimeDelta::days(i64::from(policy.max_lifetime_days));
        match self {
            Self::Days(days) if days > policy.max_lifetime_days => Err(DomainError::new(
                "expires_in",
                format!(
                    "This account allows tokens to live at most {} days.",
                    policy.max_lifetime_days
                ),
            )),
            Self::Days(days) => Ok(Some(now + TimeDelta::days(i64::from(days)))),
            Self::Custom(date) => {
                self.check_ahead_of(now)?;
                let at = date.and_hms_opt(0, 0, 0).expect("midnight exists");
                if at > longest {
                    Err(DomainError::new(
                        "expires_at",
                        format!(
                            "The expiry date can be at most {} days away (until {}).",
                            policy.max_lifetime_days,
                            longest.date()
                        ),
                    ))
                } else {
                    Ok(Some(at))
                }
            }
            Self::Never if policy.allow_never => Ok(None),
            Self::Never => Err(DomainError::new(
                "expires_in",
                "This account does not allow tokens that never expire.",
            )),
        }
    }
}

/// The form's choices under `policy`: (value, label).
pub fn choices(policy: &TokenPolicy) -> Vec<(String, String)> {
    let mut choices: Vec<(String, String)> = PRESET_DAYS
        .iter()
        .filter(|days| **days <= policy.max_lifetime_days)
        .map(|days| {
            let label = match days {
                1 => "1 day".to_owned(),
                365 => "1 year".to_owned(),
                n => format!("{n} days"),
            };
            (days.to_string(), label)
        })
        .collect();
    choices.push(("custom".into(), "Custom date".into()));
    if policy.allow_never {
        choices.push(("never".into(), "No expiration".into()));
    }
    choices
}

/// A regenerated token gets its predecessor's lifetime again, from now, capped by the policy.
pub fn regenerated_expiry(
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
    policy: &TokenPolicy,
) -> Option<NaiveDateTime> {
    let longest = TimeDelta::days(i64::from(policy.max_lifetime_days));
    match expires_at {
        None if policy.allow_never => None,
        None => Some(now + longest),
        Some(expires) => Some(now + (expires - created_at).min(longest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(14, 30, 0)
            .unwrap()
    }

    #[test]
    fn presets_resolve_to_now_plus_days() {
        let policy = TokenPolicy::default();
        for days in PRESET_DAYS {
            let at = ExpiryChoice::parse(&days.to_string(), "")
                .unwrap()
                .resolve(now(), &policy);
            assert_eq!(at, Ok(Some(now() + TimeDelta::days(days.into()))));
        }
    }

    #[test]
    fn only_listed_presets_parse() {
        assert!(ExpiryChoice::parse("2", "").is_err());
        assert!(ExpiryChoice::parse("-1", "").is_err());
        assert_eq!(ExpiryChoice::parse("", "").unwrap_err().field, "expires_in");
    }

    #[test]
    fn custom_dates_must_be_future_and_within_policy() {
        let policy = TokenPolicy::default();
        let resolve = |date: &str| {
            ExpiryChoice::parse("custom", date).and_then(|c| c.resolve(now(), &policy))
        };
        assert_eq!(
            resolve("2026-11-24").unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 24)
                .unwrap()
                .and_hms_opt(0, 0, 0)
        );
        assert!(
            resolve("2026-11-23")
                .unwrap_err()
                .message
                .contains("future")
        );
        assert!(
            resolve("2020-01-01")
                .unwrap_err()
                .message
                .contains("future")
        );
        assert!(resolve("2027-11-23").is_ok(), "365 days away is allowed");
        assert!(
            resolve("2027-11-25")
                .unwrap_err()
                .message
                .contains("at most 365 days")
        );
        assert_eq!(resolve("23/11/2027").unwrap_err().field, "expires_at");
        assert_eq!(resolve("").unwrap_err().field, "expires_at");
    }

    #[test]
    fn never_needs_the_policy_to_allow_it() {
        let strict = TokenPolicy::default();
        let lenient = TokenPolicy {
            allow_never: true,
            ..strict
        };
        assert!(ExpiryChoice::Never.resolve(now(), &strict).is_err());
        assert_eq!(ExpiryChoice::Never.resolve(now(), &lenient), Ok(None));
        assert!(!choices(&strict).iter().any(|(value, _)| value == "never"));
        assert!(choices(&lenient).iter().any(|(value, _)| value == "never"));
    }

    #[test]
    fn a_shorter_policy_hides_and_refuses_longer_presets() {
        let policy = TokenPolicy {
            max_lifetime_days: 30,
            ..TokenPolicy::default()
        };
        assert!(!choices(&policy).iter().any(|(value, _)| value == "90"));
        assert!(ExpiryChoice::Days(90).resolve(now(), &policy).is_err());
    }

    #[test]
    fn regenerating_restarts_the_same_lifetime_capped_by_policy() {
        let created = now() - TimeDelta::days(10);
        let policy = TokenPolicy::default();
        let thirty =
            regenerated_expiry(created, Some(created + TimeDelta::days(30)), now(), &policy);
        assert_eq!(thirty, Some(now() + TimeDelta::days(30)));
        let short = TokenPolicy {
            max_lifetime_days: 7,
            ..policy
        };
        let capped =
            regenerated_expiry(created, Some(created + TimeDelta::days(30)), now(), &short);
        assert_eq!(capped, Some(now() + TimeDelta::days(7)));
        assert_eq!(
            regenerated_expiry(created, None, now(), &policy),
            Some(now() + TimeDelta::days(365))
        );
    }
}
