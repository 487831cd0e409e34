//! Expiry notices (product.md §6): which warning a token is due, and what the e-mail says.
//! Pure rules: the store claims and records notices, the notifier sends them.

use chrono::{NaiveDateTime, TimeDelta};

use super::Role;

/// The two warnings, 7 days and 1 day before a token expires. The stored value is `days()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    SevenDays,
    OneDay,
}

impl Window {
    pub const ALL: [Window; 2] = [Window::SevenDays, Window::OneDay];

    pub fn days(self) -> i32 {
        match self {
            Window::SevenDays => 7,
            Window::OneDay => 1,
        }
    }

    pub fn from_days(days: i32) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.days() == days)
    }

    /// "7 days", "1 day".
    pub fn label(self) -> &'static str {
        match self {
            Window::SevenDays => "7 days",
            Window::OneDay => "1 day",
        }
    }

    fn span(self) -> TimeDelta {
        TimeDelta::days(i64::from(self.days()))
    }
}

/// The warning a token is due at `now`, if any. Only the window the token is in counts, so a
/// pass that comes late sends the 1-day warning alone; and a token made after a warning's moment
/// (with less than 7 days, or less than 1 day, to live) never gets that warning. Deleted,
/// expired and never-expiring tokens get nothing.
pub fn due_window(
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    deleted: bool,
    now: NaiveDateTime,
) -> Option<Window> {
    let expires_at = expires_at?;
    if deleted || expires_at <= now {
        return None;
    }
    let window = if expires_at - now <= Window::OneDay.span() {
        Window::OneDay
    } else if expires_at - now <= Window::SevenDays.span() {
        Window::SevenDays
    } else {
        return None;
    };
    (created_at <= expires_at - window.span()).then_some(window)
}

/// Delays between e-mail attempts: 1, 2, 4 … minutes, at most 6 hours.
pub fn retry_delay(attempts: i32) -> TimeDelta {
    let exponent = attempts.clamp(1, 20) - 1;
    TimeDelta::minutes(1i64 << exponent).min(TimeDelta::hours(6))
}

/// What a notice e-mail is about. Never holds the secret: only its last four characters.
pub struct NoticeFacts<'a> {
    pub recipient_name: &'a str,
    /// Whether the recipient issued the token (else they hear as an administrator).
    pub recipient_is_issuer: bool,
    pub account_name: &'a str,
    pub token_name: &'a str,
    pub last_four: &'a str,
    pub token_role: Role,
    pub issuer_name: &'a str,
    pub expires_at: NaiveDateTime,
    pub window: Window,
    /// The address people open, without a trailing slash (`PUBLIC_URL`).
    pub public_url: &'a str,
}

pub struct NoticeText {
    pub subject: String,
    pub body: String,
}

/// The plain-text e-mail for a notice.
pub fn email(facts: &NoticeFacts<'_>) -> NoticeText {
    let when = facts.expires_at.format("%Y-%m-%d %H:%M UTC");
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", facts.token_name)
        .finish();
    let why = if facts.recipient_is_issuer {
        "you issued this token".to_owned()
    } else {
        format!("you are an administrator of {}", facts.account_name)
    };
    let subject = format!(
        "Personal token \"{}\" expires in {}",
        facts.token_name,
        facts.window.label()
    );
    let body = format!(
        "Hello {recipient},\n\
         \n\
         The personal token \"{name}\" (ptk_…{last_four}) of the account {account} expires in {window}, \
         on {when}.\n\
         \n\
         Issued by: {issuer}\n\
         Role:      {role}\n\
         \n\
         If it is still in use, regenerate it or add a new one before then:\n\
         {url}/tokens?{query}\n\
         \n\
         You get this e-mail because {why}. You can turn these e-mails off in your settings:\n\
         {url}/settings\n",
        recipient = facts.recipient_name,
        name = facts.token_name,
        last_four = facts.last_four,
        account = facts.account_name,
        window = facts.window.label(),
        issuer = facts.issuer_name,
        role = facts.token_role.label(),
        url = facts.public_url,
    );
    NoticeText { subject, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc()
            + TimeDelta::days(days)
    }

    #[test]
    fn a_thirty_day_token_is_warned_seven_days_and_one_day_before() {
        let (created, expires) = (at(0), Some(at(30)));
        assert_eq!(due_window(created, expires, false, at(22)), None);
        assert_eq!(
            due_window(created, expires, false, at(23)),
            Some(Window::SevenDays)
        );
        assert_eq!(
            due_window(created, expires, false, at(28)),
            Some(Window::SevenDays)
        );
        assert_eq!(
            due_window(created, expires, false, at(29)),
            Some(Window::OneDay)
        );
        assert_eq!(due_window(created, expires, false, at(30)), None, "expired");
    }

    #[test]
    fn a_short_lived_token_gets_only_the_warnings_still_ahead_of_it() {
        let (created, expires) = (at(0), Some(at(3)));
        assert_eq!(
            due_window(created, expires, false, at(0)),
            None,
            "made inside the 7-day window"
        );
        assert_eq!(
            due_window(created, expires, false, at(2)),
            Some(Window::OneDay)
        );
        let hours = at(0) + TimeDelta::hours(12);
        assert_eq!(
            due_window(at(0), Some(hours), false, at(0)),
            None,
            "made inside the 1-day window"
        );
    }

    #[test]
    fn deleted_and_never_expiring_tokens_get_nothing() {
        assert_eq!(due_window(at(0), Some(at(30)), true, at(29)), None);
        assert_eq!(due_window(at(0), None, false, at(29)), None);
    }

    #[test]
    fn retries_back_off_to_six_hours() {
        assert_eq!(retry_delay(1), TimeDelta::minutes(1));
        assert_eq!(retry_delay(3), TimeDelta::minutes(4));
        assert_eq!(retry_delay(100), TimeDelta::hours(6));
    }

    #[test]
    fn the_email_names_the_token_and_never_holds_more_than_its_last_four() {
        let text = email(&NoticeFacts {
            recipient_name: "Ada",
            recipient_is_issuer: false,
            account_name: "Acme",
            token_name: "CI deploys",
            last_four: "G46F",
            token_role: Role::Engineer,
            issuer_name: "Erin",
            expires_at: at(7),
            window: Window::SevenDays,
            public_url: "https://tokens.example.com",
        });
        assert_eq!(
            text.subject,
            "Personal token \"CI deploys\" expires in 7 days"
        );
        assert!(
            text.body
                .contains("(ptk_…G46F) of the account Acme expires in 7 days")
        );
        assert!(
            text.body
                .contains("https://tokens.example.com/tokens?q=CI+deploys")
        );
        assert!(text.body.contains("administrator of Acme"));
        assert!(
            text.body
                .contains(&at(7).format("%Y-%m-%d %H:%M UTC").to_string())
        );
    }
}
