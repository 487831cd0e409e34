//! Every status word's SQL twin (`store/status_sql.rs`) against its domain function
//! (`domain/status.rs`), on both backends: one token row for each combination of deletion,
//! expiry and suspension dates around a fixed instant, exactly at the boundaries included, and
//! for each word the rows the database picks must be the rows the domain picks.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::RunQueryDsl;
use personal_tokens::domain::status::{EXPIRING_SOON_DAYS, StatusDates, StatusWord};
use personal_tokens::domain::users::{NewUser, NewUserInput};
use personal_tokens::domain::{AccountId, TokenId};
use personal_tokens::store::rows::TokenRow;
use personal_tokens::store::schema::tokens;
use personal_tokens::store::{DatabaseUrl, Store, status_sql, users};

use crate::database::TestDatabase;
use crate::helpers::Backend;

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 3)
        .unwrap()
        .and_hms_micro_opt(12, 0, 0, 123_456)
        .unwrap()
}

/// Dates on both sides of `now` and of the "expiring soon" horizon, one microsecond apart.
fn around(now: NaiveDateTime) -> Vec<Option<NaiveDateTime>> {
    let micro = TimeDelta::microseconds(1);
    let soon = TimeDelta::days(EXPIRING_SOON_DAYS);
    vec![
        None,
        Some(now - TimeDelta::days(1)),
        Some(now - micro),
        Some(now),
        Some(now + micro),
        Some(now + soon),
        Some(now + soon + micro),
        Some(now + TimeDelta::days(30)),
    ]
}

/// The table: every deletion time (none, past, now, and ahead: a rotation's overlap) × every
/// expiry × suspended or not.
fn cases(now: NaiveDateTime) -> Vec<StatusDates> {
    let mut cases = Vec::new();
    for deleted_at in around(now) {
        for expires_at in around(now) {
            for suspended_at in [None, Some(now - TimeDelta::hours(1))] {
                cases.push(StatusDates {
                    deleted_at,
                    expires_at,
                    suspended_at,
                });
            }
        }
    }
    cases
}

fn twins_agree(database_url: &str) {
    // Arrange: an account, its issuer, and one token per case.
    let store = Store::open(&DatabaseUrl::parse(database_url).unwrap(), 2).expect("store opens");
    let new = NewUser::parse(&NewUserInput {
        account: "Acme",
        username: "erin",
        display_name: "Erin",
        display_name_required: true,
        email: "",
        role: "engineer",
        password: "a long enough password",
        password_confirm: None,
        blank_password_is_generated: false,
        kind: "",
    })
    .expect("a valid user");
    let issuer = store
        .run_blocking(|conn| users::add_user(conn, &new, "not a hash", now()))
        .expect("user added");
    let account: AccountId = issuer.account_id.clone();
    let rows: Vec<(TokenId, StatusDates)> = cases(now())
        .into_iter()
        .enumerate()
        .map(|(n, dates)| {
            let id = TokenId::generate();
            let row = TokenRow {
                id: id.to_string(),
                account_id: account.to_string(),
                issuer_id: issuer.id.to_string(),
                name: format!("case {n}"),
                description: String::new(),
                role: "read_only".into(),
                digest: format!("digest {n}").into_bytes(),
                last_four: "abcd".into(),
                created_at: now() - TimeDelta::days(60),
                expires_at: dates.expires_at,
                last_used_at: None,
                last_used_ip: None,
                deleted_at: dates.deleted_at,
                deleted_by: None,
                notified_7d_at: None,
                notified_1d_at: None,
                allowed_ips: String::new(),
                scopes: None,
                deleted_reason: None,
                suspended_at: dates.suspended_at,
                replaced_by: None,
            };
            store
                .run_blocking(|conn| {
                    diesel::insert_into(tokens::table)
                        .values(&row)
                        .execute(conn)
                        .map_err(Into::into)
                })
                .expect("row inserted");
            (id, dates)
        })
        .collect();

    for word in StatusWord::ALL {
        // Act
        let mut from_sql = store
            .run_blocking(|conn| status_sql::find_token_ids_where(conn, &account, word, now()))
            .expect("query runs");
        from_sql.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let mut from_domain: Vec<TokenId> = rows
            .iter()
            .filter(|(_, dates)| word.holds(dates, now()))
            .map(|(id, _)| id.clone())
            .collect();
        from_domain.sort_by(|a, b| a.as_str().cmp(b.as_str()));

        // Assert: the same rows, and the table tells the word apart from its negation.
        let disagree: Vec<&StatusDates> = rows
            .iter()
            .filter(|(id, _)| from_sql.contains(id) != from_domain.contains(id))
            .map(|(_, dates)| dates)
            .collect();
        assert!(
            disagree.is_empty(),
            "{word:?}: SQL and domain disagree on {disagree:#?}"
        );
        assert!(
            !from_domain.is_empty() && from_domain.len() < rows.len(),
            "{word:?} picks {} of {} cases: the table does not test it",
            from_domain.len(),
            rows.len()
        );
    }
}

/// A fresh database of the backend, with nothing of the app running on it.
async fn database(backend: Backend) -> Option<(String, TestDatabase)> {
    match backend {
        Backend::Sqlite => Some(TestDatabase::sqlite()),
        Backend::Postgres => TestDatabase::postgres(),
    }
}

both_backends! { start = database;
    async fn status_words_and_their_sql_twins_agree((url, _database)) {
        tokio::task::spawn_blocking(move || twins_agree(&url)).await.expect("the check ran");
    }
}
