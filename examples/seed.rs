//! Seeds a database for the benchmark and the fuzz pass: an account "Bench" whose policy allows
//! `--count` tokens, an administrator `bench` (password from `--password`), and that many
//! tokens. Prints one of the tokens, in clear, on standard output.
//!
//! cargo run --release --example seed -- DATABASE_URL COUNT PASSWORD

use personal_tokens::auth::password;
use personal_tokens::domain::expiry::ExpiryChoice;
use personal_tokens::domain::lifecycle::NewTokenInput;
use personal_tokens::domain::token::PlainToken;
use personal_tokens::domain::{AccountName, DisplayName, Role, Username, time};
use personal_tokens::store::tokens::{self, CreateOutcome};
use personal_tokens::store::{DatabaseUrl, Store, users};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: seed DATABASE_URL COUNT PASSWORD")?;
    let count: u32 = args.next().ok_or("COUNT missing")?.parse()?;
    let admin_password = args.next().ok_or("PASSWORD missing")?;

    let store = Store::open(&DatabaseUrl::parse(&url)?, 2)?;
    let admin = store.run_blocking(|conn| {
        users::add_user(
            conn,
            users::NewUser {
                account: AccountName::parse("Bench").expect("valid"),
                username: Username::parse("bench").expect("valid"),
                display_name: DisplayName::parse("Bench Admin").expect("valid"),
                email: None,
                password_hash: password::hash(&admin_password).expect("hash"),
                role: Role::Admin,
            },
        )
    })?;
    store.run_blocking(|conn| tokens::set_max_tokens(conn, &admin.account_id, count + 10))?;

    let mut first = None;
    for n in 0..count {
        let secret = PlainToken::generate();
        let input = NewTokenInput {
            name: format!("seed-{n:05}"),
            description: "seeded for the benchmark".into(),
            expiry: Ok(ExpiryChoice::Days(365)),
            role: "admin".into(),
            allowed_ips: String::new(),
        };
        let outcome = store.run_blocking(|conn| {
            tokens::create_token(conn, &admin, &input, &secret, time::now(), None)
        })?;
        if !matches!(outcome, CreateOutcome::Created(_)) {
            return Err(format!("token {n} was refused").into());
        }
        first.get_or_insert(secret);
    }
    if let Some(token) = first {
        println!("{}", token.expose());
    }
    Ok(())
}
