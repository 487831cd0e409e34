//! Seeds a database for the benchmark and the fuzz pass: an account "Bench" whose policy allows
//! COUNT tokens, an administrator `bench` (password PASSWORD), and that many tokens. Prints the
//! one live administrator token, in clear, on standard output.
//!
//! cargo run --release --example seed -- DATABASE_URL COUNT PASSWORD

use chrono::{NaiveDateTime, TimeDelta};
use diesel::RunQueryDsl;
use personal_tokens::auth::password;
use personal_tokens::domain::expiry::ExpiryChoice;
use personal_tokens::domain::secret::PlainToken;
use personal_tokens::domain::time;
use personal_tokens::domain::tokens::{NewTokenInput, NewTokenRequest};
use personal_tokens::domain::users::{NewUser, NewUserInput};
use personal_tokens::store::tokens;
use personal_tokens::store::{DatabaseUrl, Store, users};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: seed DATABASE_URL COUNT PASSWORD")?;
    let count: u32 = args.next().ok_or("COUNT missing")?.parse()?;
    let admin_password = args.next().ok_or("PASSWORD missing")?;

    let store = Store::open(&DatabaseUrl::parse(&url)?, 2)?;
    let new = NewUser::parse(&NewUserInput {
        account: "Bench",
        username: "bench",
        display_name: "Bench Admin",
        display_name_required: true,
        email: "",
        role: "admin",
        password: &admin_password,
        password_confirm: None,
        blank_password_is_generated: false,
        kind: "",
    })
    .map_err(|errors| format!("{errors:?}"))?;
    let hash = password::hash(new.password_text())?;
    let admin = store.run_blocking(|conn| users::add_user(conn, &new, &hash, time::now()))?;
    // Room for a few more, within the highest limit a policy may set.
    store.run_blocking(|conn| {
        tokens::set_max_tokens(conn, &admin.account_id, (count + 10).min(10_000))
    })?;

    // One token through the product's own path, so the printed one is real and usable; the
    // rest in multi-row inserts, so 100,000 seed in seconds rather than hours of per-token
    // limit checks.
    let secret = PlainToken::generate();
    let input = NewTokenInput {
        name: "seed-main".into(),
        description: "seeded for the benchmark".into(),
        expiry: Ok(ExpiryChoice::Days(365)),
        role: "admin".into(),
        allowed_ips: String::new(),
        access: String::new(),
        scopes: Vec::new(),
    };
    let now = time::now();
    let request = NewTokenRequest::parse(&input, admin.role, now)
        .map_err(|errors| format!("the first token was refused: {errors:?}"))?;
    let outcome = store.run_blocking(|conn| {
        tokens::create_token(conn, &admin, &admin, &request, &secret, now, None)
    })?;
    if let Err(refusal) = outcome {
        return Err(format!("the first token was refused: {}", refusal.message()).into());
    }
    let postgres = url.starts_with("postgres");
    let mut n = 1;
    while n < count {
        let batch_end = (n + BATCH).min(count);
        let rows: Vec<String> = (n..batch_end)
            .map(|n| seeded_row(n, &admin, postgres, now))
            .collect();
        let sql = format!(
            "INSERT INTO tokens (id, account_id, issuer_id, name, description, role, digest, \
             last_four, created_at, expires_at, deleted_at, deleted_by) VALUES {}",
            rows.join(", ")
        );
        store.run_blocking(|conn| {
            diesel::sql_query(sql)
                .execute(conn)
                .map_err(personal_tokens::store::StoreError::from)
        })?;
        n = batch_end;
    }
    if postgres {
        // What autovacuum would do within a minute of such an insert: without statistics the
        // planner guesses, and the benchmark would time its guesses.
        store.run_blocking(|conn| {
            diesel::sql_query("VACUUM ANALYZE tokens")
                .execute(conn)
                .map_err(personal_tokens::store::StoreError::from)
        })?;
    }
    println!("{}", secret.expose());
    Ok(())
}

const BATCH: u32 = 1000;

/// Token `n`: created over the past year, a mix of roles, one in ten deleted and one in ten
/// expired, so filters and pages have real work to do.
fn seeded_row(
    n: u32,
    admin: &personal_tokens::domain::User,
    postgres: bool,
    now: NaiveDateTime,
) -> String {
    let stamp = |t: NaiveDateTime| format!("'{}'", t.format("%Y-%m-%d %H:%M:%S%.6f"));
    let created = now - TimeDelta::seconds(i64::from(n) * 300);
    let expires = if n % 10 == 3 {
        created + TimeDelta::days(1)
    } else {
        now + TimeDelta::days(30 + i64::from(n % 300))
    };
    let (deleted_at, deleted_by) = if n % 10 == 7 {
        (
            stamp(created + TimeDelta::hours(1)),
            format!("'{}'", admin.id),
        )
    } else {
        ("NULL".to_owned(), "NULL".to_owned())
    };
    let digest: String = PlainToken::generate()
        .digest()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let digest = if postgres {
        format!("'\\x{digest}'::bytea")
    } else {
        format!("X'{digest}'")
    };
    let role = ["admin", "engineer", "read_only"][n as usize % 3];
    format!(
        "('{}', '{}', '{}', 'seed-{n:06}', 'seeded for the benchmark', '{role}', {digest}, '{:04}', {}, {}, {deleted_at}, {deleted_by})",
        personal_tokens::domain::TokenId::generate(),
        admin.account_id,
        admin.id,
        n % 10_000,
        stamp(created),
        stamp(expires),
    )
}
