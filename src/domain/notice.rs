//! Notices (product.md §6): which expiry warning a token is due, the other things a person hears
//! about a token (reported leaked, used from a new address), and what the e-mail says. Pure
//! rules: the store claims and records notices, the notifier sends them.

use std::borrow::Cow;

use chrono::{NaiveDateTime, TimeDelta};

use super::Role;
use super::status::TokenStatus;

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
            // The first warning comes when a token starts "expiring soon".
            Window::SevenDays => super::status::EXPIRING_SOON_DAYS as i32,
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

/// What a notice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    Expiry(Window),
    /// Revoked on a secret-scanning report; `url` is where the token was found.
    Leaked {
        url: String,
    },
    /// Used from an address it had not used before.
    NewAddress {
        ip: String,
    },
    /// A person, not a token: deactivated by `by` (SCIM), so their sessions ended and their
    /// tokens stopped. The account's administrators hear of it.
    PersonDeactivated {
        by: String,
    },
    /// An SSO re-check pass was refused `people` at once, which looks like the provider's
    /// mistake, so it deactivated nobody (`sso::revocations_look_wrong`). About one of them;
    /// the account's administrators hear of it once a day (`on`, `YYYY-MM-DD`) while it lasts.
    RevocationsHeld {
        on: String,
        people: usize,
    },
}

impl NoticeKind {
    /// (kind, window in days, detail) as stored; the claim key includes all three.
    pub fn stored(&self) -> (&'static str, i32, Cow<'_, str>) {
        match self {
            NoticeKind::Expiry(window) => ("expiry", window.days(), "".into()),
            NoticeKind::Leaked { url } => ("leaked", 0, url.into()),
            NoticeKind::NewAddress { ip } => ("new_ip", 0, ip.into()),
            NoticeKind::PersonDeactivated { by } => ("user_deactivated", 0, by.into()),
            NoticeKind::RevocationsHeld { on, people } => {
                ("user_revocation_held", 0, format!("{on} {people}").into())
            }
        }
    }

    pub fn from_stored(kind: &str, window_days: i32, detail: String) -> Option<Self> {
        match kind {
            "expiry" => Window::from_days(window_days).map(NoticeKind::Expiry),
            "leaked" => Some(NoticeKind::Leaked { url: detail }),
            "new_ip" => Some(NoticeKind::NewAddress { ip: detail }),
            "user_deactivated" => Some(NoticeKind::PersonDeactivated { by: detail }),
            "user_revocation_held" => {
                let (on, people) = detail.split_once(' ')?;
                Some(NoticeKind::RevocationsHeld {
                    on: on.to_owned(),
                    people: people.parse().ok()?,
                })
            }
            _ => None,
        }
    }

    /// One line for the notifications page and the e-mail subject. `token_name` is what the
    /// notice is about: the token's name, or the person's for a person's notice.
    pub fn headline(&self, token_name: &str) -> String {
        match self {
            NoticeKind::Expiry(window) => {
                format!("Token “{token_name}” expires in {}", window.label())
            }
            NoticeKind::Leaked { .. } => {
                format!("Token “{token_name}” was reported leaked and has been revoked")
            }
            NoticeKind::NewAddress { ip } => {
                format!("Token “{token_name}” was used from a new address, {ip}")
            }
            NoticeKind::PersonDeactivated { by } => format!(
                "{token_name} was deactivated by {by}: their sessions ended and their tokens \
                 stopped working"
            ),
            NoticeKind::RevocationsHeld { people, .. } => format!(
                "The identity provider refused {token_name} and {} others at once: nobody was \
                 deactivated",
                people.saturating_sub(1)
            ),
        }
    }
}

/// A reported URL is shown and stored; beyond this it is cut.
const LEAK_URL_MAX_CHARS: usize = 500;

/// Where a secret scanner found a token, as notices and the token's row show it: no control
/// characters (Postgres text cannot even hold NUL), at most 500 characters, and "an unknown
/// place" when the report named none.
pub fn leak_location(raw_url: &str) -> String {
    let url = super::name::printable(raw_url, LEAK_URL_MAX_CHARS);
    if url.is_empty() {
        "an unknown place".to_owned()
    } else {
        url
    }
}

/// Who hears of a notice about a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Only its issuer: a use from a new address is theirs to judge.
    Issuer,
    /// Its issuer and the account's administrators: expiry and leaks concern the account.
    IssuerAndAdministrators,
    /// The account's administrators: a person's standing is theirs to know.
    Administrators,
}

impl NoticeKind {
    pub fn audience(&self) -> Audience {
        match self {
            NoticeKind::NewAddress { .. } => Audience::Issuer,
            NoticeKind::Expiry(_) | NoticeKind::Leaked { .. } => Audience::IssuerAndAdministrators,
            NoticeKind::PersonDeactivated { .. } | NoticeKind::RevocationsHeld { .. } => {
                Audience::Administrators
            }
        }
    }
}

/// Someone who may hear of a notice, as the store reads them: the token's issuer and the
/// account's administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub role: Role,
    pub active: bool,
    /// A service account: it reads no notices, so what it would hear goes to the administrators.
    pub service: bool,
    pub email: Option<String>,
    pub email_notices: bool,
}

/// One person who gets the notice, and where its e-mail goes (`None`: in the app only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: String,
    pub email_to: Option<String>,
}

/// Who of `candidates` gets a notice of `kind` about a token `issuer` made: active people of
/// its audience, each once. An e-mail goes where `email_enabled` (SMTP is set up) and the
/// person has an address and wants e-mails.
pub fn recipients(
    kind: &NoticeKind,
    issuer: &str,
    candidates: Vec<Candidate>,
    email_enabled: bool,
) -> Vec<Recipient> {
    let issued_by_a_service = candidates.iter().any(|c| c.id == issuer && c.service);
    let audience = match kind.audience() {
        Audience::Issuer if issued_by_a_service => Audience::Administrators,
        other => other,
    };
    let mut out: Vec<Recipient> = Vec::new();
    for person in candidates {
        let hears = (person.id == issuer && audience != Audience::Administrators)
            || (audience != Audience::Issuer && person.role == Role::Admin);
        if person.service || !person.active || !hears || out.iter().any(|r| r.id == person.id) {
            continue;
        }
        out.push(Recipient {
            email_to: person
                .email
                .filter(|_| email_enabled && person.email_notices),
            id: person.id,
        });
    }
    out
}

/// Whether a notice's e-mail still goes out when its turn comes: someone deactivated, or who
/// turned e-mails off, since the notice was made gets no more.
pub fn still_wants_email(recipient: &super::User) -> bool {
    recipient.active && recipient.email_notices
}

/// Whether a notice about a token is still worth its e-mail when its turn comes (a send may
/// wait hours for a mail server): an expiry warning only while the token is still the one in
/// use, so a token deleted, expired or regenerated since gets no more (§6). A leak or a new
/// address stays worth telling.
pub fn still_worth_sending(kind: &NoticeKind, status: TokenStatus, regenerated: bool) -> bool {
    match kind {
        NoticeKind::Expiry(_) => {
            !regenerated && matches!(status, TokenStatus::Active | TokenStatus::Suspended)
        }
        _ => true,
    }
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
    pub expires_at: Option<NaiveDateTime>,
    pub kind: &'a NoticeKind,
    /// The address people open, without a trailing slash (`PUBLIC_URL`).
    pub public_url: &'a str,
}

pub struct NoticeText {
    pub subject: String,
    pub body: String,
}

/// The plain-text e-mail for a notice. Names are quoted with straight quotes: some mail
/// clients show curly ones as mojibake in subjects.
pub fn email(facts: &NoticeFacts<'_>) -> NoticeText {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("status", "all")
        .append_pair("q", facts.token_name)
        .finish();
    let why = if facts.recipient_is_issuer {
        "you issued this token".to_owned()
    } else {
        format!("you are an administrator of {}", facts.account_name)
    };
    let name = facts.token_name;
    let token = format!(
        "The personal token \"{name}\" ({}) of the account {}",
        super::secret::masked(facts.last_four),
        facts.account_name
    );
    let expiry = facts.expires_at.map_or_else(
        || "It never expires.".to_owned(),
        |at| format!("It expires on {}.", at.format("%Y-%m-%d %H:%M UTC")),
    );
    let (subject, what, todo) = match facts.kind {
        NoticeKind::Expiry(window) => (
            format!("Personal token \"{name}\" expires in {}", window.label()),
            format!("{token} expires in {}. {expiry}", window.label()),
            "If it is still in use, regenerate it or add a new one before then:",
        ),
        NoticeKind::Leaked { url } => (
            format!("Personal token \"{name}\" was reported leaked and revoked"),
            format!(
                "{token} was found in public by a secret scanner, at\n{url}\n\nIt has been revoked and no longer works."
            ),
            "Whatever used it needs a new token; add one here:",
        ),
        NoticeKind::NewAddress { ip } => (
            format!("Personal token \"{name}\" was used from a new address"),
            format!("{token} was used from {ip}, an address it had not been used from before."),
            "If that was not you or your systems, delete the token at once:",
        ),
        // Made about a person, never a token (`person_email`); worded for a token all the same.
        NoticeKind::RevocationsHeld { .. } => (
            format!("Personal token \"{name}\": its owner's standing at the provider is unclear"),
            format!("{token} belongs to someone the identity provider no longer vouches for."),
            "The list of tokens:",
        ),
        NoticeKind::PersonDeactivated { by } => (
            format!("Personal token \"{name}\" stopped: its owner was deactivated by {by}"),
            format!("{token} stopped working: its owner was deactivated by {by}."),
            "The list of tokens:",
        ),
    };
    let body = format!(
        "Hello {recipient},\n\
         \n\
         {what}\n\
         \n\
         Issued by: {issuer}\n\
         Role:      {role}\n\
         \n\
         {todo}\n\
         {url}/tokens?{query}\n\
         \n\
         You get this e-mail because {why}. You can turn these e-mails off in your settings:\n\
         {url}/settings\n",
        recipient = facts.recipient_name,
        issuer = facts.issuer_name,
        role = facts.token_role.label(),
        url = facts.public_url,
    );
    NoticeText { subject, body }
}

/// What an e-mail about a person says.
pub struct PersonNoticeFacts<'a> {
    pub recipient_name: &'a str,
    pub account_name: &'a str,
    pub person_name: &'a str,
    pub username: &'a str,
    /// The person's id, for the link to their page.
    pub person_id: &'a str,
    pub kind: &'a NoticeKind,
    pub public_url: &'a str,
}

/// The plain-text e-mail for a notice about a person (administrators only).
pub fn person_email(facts: &PersonNoticeFacts<'_>) -> NoticeText {
    let who = format!("{} (@{})", facts.person_name, facts.username);
    let subject = facts.kind.headline(&who).replace(['“', '”'], "\"");
    let todo = match facts.kind {
        NoticeKind::RevocationsHeld { .. } => {
            "So many at once looks like the provider's mistake or a changed OIDC_CLIENT_ID, not \
             people leaving: check the identity provider. They are asked about again every \
             interval. To act on one now, deactivate them on their page, as this one's:"
        }
        _ => "Their page, with their tokens:",
    };
    let body = format!(
        "Hello {recipient},\n\
         \n\
         {subject}, in the account {account}.\n\
         \n\
         {todo}\n\
         {url}/users/{id}\n\
         \n\
         You get this e-mail because you are an administrator of {account}. You can turn these \
         e-mails off in your settings:\n\
         {url}/settings\n",
        recipient = facts.recipient_name,
        account = facts.account_name,
        url = facts.public_url,
        id = facts.person_id,
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
    fn an_expiry_warning_is_sent_only_while_its_token_is_the_one_in_use() {
        let week = NoticeKind::Expiry(Window::SevenDays);
        assert!(still_worth_sending(&week, TokenStatus::Active, false));
        assert!(still_worth_sending(&week, TokenStatus::Suspended, false));
        assert!(!still_worth_sending(&week, TokenStatus::Deleted, false));
        assert!(!still_worth_sending(&week, TokenStatus::Expired, false));
        assert!(
            !still_worth_sending(&week, TokenStatus::Active, true),
            "regenerated"
        );
        let leak = NoticeKind::Leaked { url: "u".into() };
        assert!(still_worth_sending(&leak, TokenStatus::Deleted, false));
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

    fn person(id: &str, role: Role, active: bool) -> Candidate {
        Candidate {
            id: id.into(),
            role,
            active,
            email: Some(format!("{id}@example.com")),
            email_notices: true,
            service: false,
        }
    }

    #[test]
    fn expiry_reaches_the_issuer_and_active_administrators_a_new_address_the_issuer_alone() {
        let people = || {
            vec![
                person("erin", Role::Engineer, true),
                person("ada", Role::Admin, true),
                person("old", Role::Admin, false),
                person("rob", Role::ReadOnly, true),
            ]
        };
        let ids = |list: Vec<Recipient>| list.into_iter().map(|r| r.id).collect::<Vec<_>>();
        let expiry = NoticeKind::Expiry(Window::OneDay);
        assert_eq!(
            ids(recipients(&expiry, "erin", people(), true)),
            ["erin", "ada"]
        );
        let new_ip = NoticeKind::NewAddress {
            ip: "192.0.2.1".into(),
        };
        assert_eq!(ids(recipients(&new_ip, "erin", people(), true)), ["erin"]);
        assert_eq!(
            ids(recipients(&new_ip, "old", people(), true)),
            Vec::<String>::new()
        );
        let no_smtp = recipients(&expiry, "erin", people(), false);
        assert!(no_smtp.iter().all(|r| r.email_to.is_none()));
        let quiet = Candidate {
            email_notices: false,
            ..person("erin", Role::Engineer, true)
        };
        assert_eq!(
            recipients(&expiry, "erin", vec![quiet], true)[0].email_to,
            None
        );
    }

    #[test]
    fn a_person_deactivated_by_scim_is_news_for_active_administrators_only() {
        let people = vec![
            person("erin", Role::Engineer, true),
            person("ada", Role::Admin, true),
            person("old", Role::Admin, false),
        ];
        let kind = NoticeKind::PersonDeactivated { by: "SCIM".into() };
        let heard: Vec<String> = recipients(&kind, "erin", people, true)
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(heard, ["ada"], "not even the issuer named, were there one");
        assert_eq!(
            NoticeKind::from_stored("user_deactivated", 0, "SCIM".into()),
            Some(kind.clone())
        );
        let text = person_email(&PersonNoticeFacts {
            recipient_name: "Ada",
            account_name: "Acme",
            person_name: "Grace Hopper",
            username: "grace",
            person_id: "u-1",
            kind: &kind,
            public_url: "https://tokens.example.com",
        });
        assert_eq!(
            text.subject,
            "Grace Hopper (@grace) was deactivated by SCIM: their sessions ended and their \
             tokens stopped working"
        );
        assert!(text.body.contains("https://tokens.example.com/users/u-1"));
        assert!(text.body.contains("administrator of Acme"));
    }

    #[test]
    fn a_service_accounts_notices_go_to_the_administrators_and_never_to_it() {
        let bot = Candidate {
            service: true,
            ..person("bot", Role::Admin, true)
        };
        let people = vec![
            bot,
            person("ada", Role::Admin, true),
            person("erin", Role::Engineer, true),
        ];
        let ids = |kind: &NoticeKind| -> Vec<String> {
            recipients(kind, "bot", people.clone(), true)
                .into_iter()
                .map(|r| r.id)
                .collect()
        };
        let new_ip = NoticeKind::NewAddress {
            ip: "192.0.2.1".into(),
        };
        assert_eq!(ids(&new_ip), ["ada"]);
        assert_eq!(ids(&NoticeKind::Expiry(Window::SevenDays)), ["ada"]);
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
            expires_at: Some(at(7)),
            kind: &NoticeKind::Expiry(Window::SevenDays),
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
                .contains("https://tokens.example.com/tokens?status=all&q=CI+deploys")
        );
        assert!(text.body.contains("administrator of Acme"));
        assert!(
            text.body
                .contains(&at(7).format("%Y-%m-%d %H:%M UTC").to_string())
        );
    }

    #[test]
    fn every_kind_round_trips_through_its_stored_form() {
        for kind in [
            NoticeKind::Expiry(Window::OneDay),
            NoticeKind::Leaked {
                url: "https://gist.example.com/x".into(),
            },
            NoticeKind::NewAddress {
                ip: "192.0.2.7".into(),
            },
            NoticeKind::RevocationsHeld {
                on: "2026-12-07".into(),
                people: 300,
            },
        ] {
            let (name, days, detail) = kind.stored();
            assert_eq!(
                NoticeKind::from_stored(name, days, detail.into_owned()),
                Some(kind.clone())
            );
        }
        assert_eq!(NoticeKind::from_stored("expiry", 3, String::new()), None);
    }
}
