//! An account's token policy (product.md §3).

pub const DEFAULT_MAX_LIFETIME_DAYS: u32 = 365;
pub const DEFAULT_MAX_TOKENS: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    /// Longest lifetime a new token may have.
    pub max_lifetime_days: u32,
    /// Whether "never expires" is offered.
    pub allow_never: bool,
    /// Most non-deleted, unexpired tokens in the account.
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
