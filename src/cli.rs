//! The command line: `user add` (the same rules as the setup page, without a browser) and
//! `notify` (one expiry-notice pass, for cron).

use std::io::Read;

use crate::auth::password;
use crate::config::{Settings, UserCommand};
use crate::domain::{AccountName, DisplayName, Email, NewPassword, Username, time};
use crate::notify::Notifier;
use crate::store::{DatabaseUrl, Store, StoreError, users};

pub fn run_user_command(settings: &Settings, command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Add {
            account,
            username,
            display_name,
            email,
            role,
            password_stdin: _,
        } => {
            let account = AccountName::parse(&account).map_err(|e| e.message)?;
            let username = Username::parse(&username).map_err(|e| e.message)?;
            let display_name =
                DisplayName::parse(display_name.as_deref().unwrap_or(username.as_str()))
                    .map_err(|e| e.message)?;
            let email =
                Email::parse_optional(email.as_deref().unwrap_or("")).map_err(|e| e.message)?;
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            // One trailing newline is how `echo` and here-strings end the password, not part of it.
            let typed = input.strip_suffix('\n').unwrap_or(&input);
            let typed = typed.strip_suffix('\r').unwrap_or(typed);
            let password = NewPassword::parse(typed, None).map_err(|e| e.message)?;
            let password_hash = password::hash(password.expose()).map_err(|e| e.to_string())?;

            let url = DatabaseUrl::parse(&settings.database_url).map_err(|e| e.to_string())?;
            let store = Store::open(&url, 1).map_err(|e| e.to_string())?;
            let new = users::NewUser {
                account,
                username,
                display_name,
                email,
                password_hash,
                role,
            };
            let user = store
                .run_blocking(|conn| users::add_user(conn, new))
                .map_err(|e| match e {
                    StoreError::Taken(_) => "that username is already taken".to_owned(),
                    other => other.to_string(),
                })?;
            println!(
                "added {} ({}) to account {}",
                user.username,
                user.role.label(),
                user.account_name
            );
            Ok(())
        }
    }
}

/// One notice pass, as a cron job runs it; prints what it did.
pub fn run_notify(settings: &Settings) -> Result<(), String> {
    let notifier = Notifier::from_settings(settings).map_err(|e| e.to_string())?;
    let url = DatabaseUrl::parse(&settings.database_url).map_err(|e| e.to_string())?;
    let store = Store::open(&url, 1).map_err(|e| e.to_string())?;
    let report = notifier
        .run_pass(&store, time::now())
        .map_err(|e| e.to_string())?;
    println!("notify: {report}");
    Ok(())
}
