//! An account's token policy (product.md §3).

use super::DomainError;

pub const DEFAULT_MAX_LIFETIME_DAYS: u32 = 365;
pub const DEFAULT_MAX_TOKENS: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    /// Longest lifetime a new token may have.
    pub max_lifetime_days: u32,
    /// Whether "never expires" is offered.
    pub allow_never: bool,
    /// Most live tokens in the account (`StatusWord::Live`).
    pub max_tokens: u32,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            max_lifetime_days: DEFAULT_MAX_LIFETIME_DAYS,
            allow_never: false,
            max_tokens: DEFAULT_MAX_TOKENS,
        }
    }
}

/// Bounds of the policy page (product.md §8).
pub const LIFETIME_DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=3650;
pub const MAX_TOKENS_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;

fn whole_number_in(
    field: &'static str,
    label: &str,
    raw: &str,
    range: &std::ops::RangeInclusive<u32>,
) -> Result<u32, DomainError> {
    let out_of_range = || {
        DomainError::new(
            field,
            format!(
                "{label} must be a whole number from {} to {}.",
                range.start(),
                range.end()
            ),
        )
    };
    let value: u32 = raw.trim().parse().map_err(|_| out_of_range())?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(out_of_range())
    }
}

impl TokenPolicy {
    /// How a change to this policy reads in the audit log.
    pub fn audit_detail(&self) -> String {
        format!(
            "longest lifetime {} days; never expires {}; limit {} tokens",
            self.max_lifetime_days,
            if self.allow_never {
                "allowed"
            } else {
                "not allowed"
            },
            self.max_tokens
        )
    }

    /// The policy as typed on the policy page; every field's error at once.
    pub fn parse(
        max_lifetime_days: &str,
        allow_never: bool,
        max_tokens: &str,
    ) -> Result<Self, Vec<DomainError>> {
        let lifetime = whole_number_in(
            "max_lifetime_days",
            "Longest lifetime",
            max_lifetime_days,
            &LIFETIME_DAYS_RANGE,
        );
        let limit = whole_number_in("max_tokens", "Token limit", max_tokens, &MAX_TOKENS_RANGE);
        match (lifetime, limit) {
            (Ok(max_lifetime_days), Ok(max_tokens)) => Ok(Self {
                max_lifetime_days,
                allow_never,
                max_tokens,
            }),
            (lifetime, limit) => Err([lifetime.err(), limit.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_fields_are_whole_numbers_within_bounds() {
        let policy = TokenPolicy::parse(" 90 ", true, "10000").unwrap();
        assert_eq!(policy.max_lifetime_days, 90);
        assert!(policy.allow_never);
        assert_eq!(policy.max_tokens, 10_000);
        for (days, limit, fields) in [
            ("0", "1", vec!["max_lifetime_days"]),
            ("3651", "1", vec!["max_lifetime_days"]),
            ("1", "10001", vec!["max_tokens"]),
            ("-1", "1e3", vec!["max_lifetime_days", "max_tokens"]),
            (
                "99999999999999999999",
                "",
                vec!["max_lifetime_days", "max_tokens"],
            ),
            ("7.5", "50", vec!["max_lifetime_days"]),
        ] {
            let errors = TokenPolicy::parse(days, false, limit).unwrap_err();
            let got: Vec<&str> = errors.iter().map(|e| e.field).collect();
            assert_eq!(got, fields, "{days:?} {limit:?}");
        }
    }
}
