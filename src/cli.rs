//! The command line: `user add` (the same rules as the setup page, without a browser) and
//! `notify` (one expiry-notice pass, for cron).

use std::io::Read;

use crate::auth::password;
use crate::config::{Settings, UserCommand};
use crate::domain::time;
use crate::domain::users::{NewUser, NewUserInput, UserKind};
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
            kind,
            password_stdin,
        } => {
            let joined = |errors: Vec<crate::domain::DomainError>| {
                let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
                messages.join(" ")
            };
            let mut fields = NewUserInput {
                account: &account,
                username: &username,
                display_name: display_name.as_deref().unwrap_or(""),
                display_name_required: false,
                email: email.as_deref().unwrap_or(""),
                role: role.as_str(),
                password: "",
                password_confirm: None,
                // Only for this first check: everything but the password is checked before
                // standard input is read, so a mistyped argument answers at once.
                blank_password_is_generated: true,
                kind: kind.as_str(),
            };
            let checked = NewUser::parse(&fields).map_err(joined)?;
            match (checked.kind, password_stdin) {
                (UserKind::Person, false) => {
                    return Err(
                        "a person needs --password-stdin (passwords never go on the \
                                command line)"
                            .to_owned(),
                    );
                }
                (UserKind::Service, true) => {
                    return Err(
                        "a service account has no password: leave out --password-stdin".to_owned(),
                    );
                }
                _ => {}
            }
            let mut input = String::new();
            // A service account has no password: standard input is not read for one.
            let (new, password_hash) = if checked.kind == UserKind::Service {
                (checked, String::new())
            } else {
                std::io::stdin()
                    .read_to_string(&mut input)
                    .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
                // One trailing newline is how `echo` and here-strings end the password, not part
                // of it.
                let typed = input.strip_suffix('\n').unwrap_or(&input);
                let typed = typed.strip_suffix('\r').unwrap_or(typed);
                fields.password = typed;
                fields.blank_password_is_generated = false;
                let new = NewUser::parse(&fields).map_err(joined)?;
                let hash = password::hash(new.password_text()).map_err(|e| e.to_string())?;
                (new, hash)
            };

            let url = DatabaseUrl::parse(&settings.database_url).map_err(|e| e.to_string())?;
            let store = Store::open(&url, 1).map_err(|e| e.to_string())?;
            let user = store
                .run_blocking(|conn| users::add_user(conn, &new, &password_hash, time::now()))
                .map_err(|e| match e {
                    StoreError::Taken(_) => "that username is already taken".to_owned(),
                    other => other.to_string(),
                })?;
            let what = match user.kind {
                UserKind::Person => "",
                UserKind::Service => "service account ",
            };
            println!(
                "added {what}{} ({}) to account {}",
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
