//! Expiry notices: made exactly once per token, window and person however many passes run at
//! once, in the app and by e-mail through a real SMTP server (aiosmtpd), with time driven
//! through the pass's clock rather than by sleeping.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use personal_tokens::config::Settings;
use personal_tokens::domain::time;
use personal_tokens::notify::{Notifier, PassReport};
use personal_tokens::store::schema::{notices, tokens};
use personal_tokens::store::{DatabaseUrl, Store};

use crate::helpers::*;
use crate::smtp::{SmtpServer, free_port};
use crate::token_helpers::*;

const PUBLIC_URL: &str = "https://tokens.example.com";

fn store(app: &TestApp) -> Store {
    Store::open(&DatabaseUrl::parse(&app.database_url).unwrap(), 2).unwrap()
}

fn notifier(app: &TestApp, smtp_url: Option<String>) -> Notifier {
    let settings = Settings {
        smtp_url: smtp_url.map(Into::into),
        public_url: Some(PUBLIC_URL.into()),
        ..test_settings(&app.database_url)
    };
    Notifier::from_settings(&settings).expect("mail settings parse")
}

/// One pass at `now` on a blocking thread, as the server runs it.
async fn pass(app: &TestApp, notifier: &Notifier, now: NaiveDateTime) -> PassReport {
    let (notifier, store) = (notifier.clone(), store(app));
    tokio::task::spawn_blocking(move || notifier.run_pass(&store, now))
        .await
        .unwrap()
        .expect("the pass runs")
}

/// The administrator, with an address, holds "backup", whose 7-day notice is due; the notifier
/// sends to a port nothing listens on yet (returned, to start the server on later).
async fn mail_server_down_for_backup(app: &TestApp) -> (u16, Notifier, NaiveDateTime) {
    app.setup_admin().await;
    set_email(app, "ada@example.com", true).await;
    plant_token_in_the_past(app, "admin", "backup", 25, "30").await;
    let port = free_port();
    let notifier = notifier(app, Some(format!("smtp://127.0.0.1:{port}")));
    (port, notifier, time::now())
}

/// Two passes at the same moment, each with its own connections.
async fn two_passes(app: &TestApp, notifier: &Notifier, now: NaiveDateTime) -> PassReport {
    let (a, b) = tokio::join!(pass(app, notifier, now), pass(app, notifier, now));
    PassReport {
        made: a.made + b.made,
        sent: a.sent + b.sent,
        failed: a.failed + b.failed,
    }
}

/// (window in days, recipient username) of every notice, sorted.
fn notices_made(app: &TestApp) -> Vec<(i32, String)> {
    use personal_tokens::store::schema::users;
    let mut made: Vec<(i32, String)> = store(app)
        .run_blocking(|conn| {
            Ok(notices::table
                .inner_join(users::table.on(users::id.eq(notices::recipient_id)))
                .select((notices::window_days, users::username))
                .load(conn)?)
        })
        .unwrap();
    made.sort();
    made
}

fn expiry_of(app: &TestApp, name: &str) -> NaiveDateTime {
    let name = name.to_owned();
    store(app)
        .run_blocking(move |conn| {
            Ok(tokens::table
                .filter(tokens::name.eq(name))
                .select(tokens::expires_at)
                .first::<Option<NaiveDateTime>>(conn)?)
        })
        .unwrap()
        .expect("the token expires")
}

async fn set_email(browser: &Browser, email: &str, notices_on: bool) {
    let mut fields = vec![("email", email)];
    if notices_on {
        fields.push(("email_notices", "on"));
    }
    let response = browser.post_form("/settings", "/settings", &fields).await;
    assert_eq!(location(&response), "/settings");
}

/// A message's text with quoted-printable undone (soft line breaks joined, `=XX` decoded).
fn decoded(message: &str) -> String {
    let joined = message.replace("=\n", "").replace("=\r\n", "");
    let mut bytes = Vec::new();
    let raw = joined.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (raw[i], hex) {
            (b'=', Some(byte)) => {
                bytes.push(byte);
                i += 3;
            }
            (byte, _) => {
                bytes.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A header's value in a raw message ("" when absent).
fn mail_header(message: &str, name: &str) -> String {
    message
        .lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
        .to_owned()
}

both_backends! {
    async fn each_notice_is_made_and_mailed_once_with_two_passes_at_once(app) {
        let Some(smtp) = SmtpServer::start() else { return };
        app.setup_admin().await;
        set_email(&app, "ada@example.com", true).await;
        let erin = engineer(&app).await;
        set_email(&erin, "erin@example.com", true).await;
        let secret = plant_token_in_the_past(&app, "erin", "nightly deploy", 25, "30").await;
        plant_token_in_the_past(&app, "erin", "far off", 0, "90").await;
        let notifier = notifier(&app, Some(smtp.url()));
        let now = time::now();

        let first = two_passes(&app, &notifier, now).await;
        assert_eq!((first.made, first.sent, first.failed), (2, 2, 0), "{first:?}");
        assert_eq!(notices_made(&app), [(7, "admin".to_owned()), (7, "erin".to_owned())]);
        assert_eq!(pass(&app, &notifier, now + TimeDelta::hours(1)).await, PassReport::default(), "nothing twice");

        // The 1-day window: four days later.
        let later = expiry_of(&app, "nightly deploy") - TimeDelta::hours(20);
        let second = two_passes(&app, &notifier, later).await;
        assert_eq!((second.made, second.sent), (2, 2), "{second:?}");
        assert_eq!(pass(&app, &notifier, later + TimeDelta::hours(2)).await, PassReport::default());
        assert_eq!(notices_made(&app).len(), 4);

        let messages: Vec<String> = smtp.messages().iter().map(|m| decoded(m)).collect();
        assert_eq!(messages.len(), 4, "four e-mails, each once");
        let to_erin: Vec<&String> = messages.iter().filter(|m| mail_header(m, "To").contains("erin@example.com")).collect();
        assert_eq!(to_erin.len(), 2);
        let seven = to_erin.iter().find(|m| mail_header(m, "Subject").contains("7 days")).expect("the 7-day e-mail");
        assert_eq!(mail_header(seven, "Subject"), "Personal token \"nightly deploy\" expires in 7 days");
        assert!(seven.contains(&format!("\"nightly deploy\" (ptk_…{})", &secret[secret.len() - 4..])), "the last four: {seven}");
        assert!(seven.contains("Acme") && seven.contains("UTC"));
        assert!(seven.contains(&format!("{PUBLIC_URL}/tokens?status=all&q=nightly+deploy")), "{seven}");
        assert!(mail_header(seven, "Message-ID").starts_with("<notice."), "{seven}");
        assert!(!mail_header(seven, "Date").is_empty());
        assert!(messages.iter().all(|m| !m.contains(&secret) && !m.contains(&secret[4..])), "never the secret");
    }

    async fn a_token_made_with_three_days_to_live_gets_only_the_one_day_notice(app) {
        app.setup_admin().await;
        let response = post_new_token(&app, &[("name", "short"), ("expires_in", "custom"), ("expires_at", &date_in(3)), ("role", "read_only")]).await;
        assert_eq!(location(&response), "/tokens/reveal");
        let notifier = notifier(&app, None);
        assert_eq!(pass(&app, &notifier, time::now()).await.made, 0, "inside the 7-day window from the start");
        let expires = expiry_of(&app, "short");
        assert_eq!(pass(&app, &notifier, expires - TimeDelta::hours(30)).await.made, 0);
        assert_eq!(pass(&app, &notifier, expires - TimeDelta::hours(12)).await.made, 1);
        assert_eq!(notices_made(&app), [(1, "admin".to_owned())]);

        // A deleted or regenerated token gets no more.
        create_token(&app, "gone", "7", "read_only").await;
        let id = row_id(row(&tokens_html(&app, "?q=gone").await, "gone"));
        post_on(&app, &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(pass(&app, &notifier, time::now() + TimeDelta::days(6) + TimeDelta::hours(12)).await.made, 0);
    }

    async fn e_mails_go_only_to_active_people_who_want_them(app) {
        let Some(smtp) = SmtpServer::start() else { return };
        app.setup_admin().await; // no address: in the app only
        let erin = engineer(&app).await;
        set_email(&erin, "erin@example.com", false).await; // e-mails off
        let frank = add_user_and_sign_in(&app, "Acme", "frank", "Frank Admin", "admin").await;
        set_email(&frank, "frank@example.com", true).await;
        let grace = add_user_and_sign_in(&app, "Acme", "grace", "Grace Admin", "admin").await;
        set_email(&grace, "grace@example.com", true).await;
        add_user_and_sign_in(&app, "Globex", "gus", "Gus Admin", "admin").await;
        let users = app.get_html("/users").await;
        let frank_id = users.split("<tr data-user-id=\"").find(|r| r.contains("@frank<")).map(|r| r[..r.find('"').unwrap()].to_owned()).unwrap();
        post_on(&app, &format!("/users/{frank_id}/deactivate"), &[]).await;
        plant_token_in_the_past(&app, "erin", "erin-ci", 25, "30").await;

        let report = pass(&app, &notifier(&app, Some(smtp.url())), time::now()).await;
        assert_eq!((report.made, report.sent), (3, 1), "{report:?}");
        let made: Vec<String> = notices_made(&app).into_iter().map(|(_, who)| who).collect();
        assert_eq!(made, ["admin", "erin", "grace"], "no notice for the deactivated admin or another account");
        let messages = smtp.messages();
        assert_eq!(messages.len(), 1);
        assert!(mail_header(&messages[0], "To").contains("grace@example.com"));
        assert!(messages[0].contains("administrator of Acme"));

        let page = erin.get_html("/notifications").await;
        assert!(page.contains("Token “erin-ci” expires in 7 days"), "in the app all the same");
        assert!(!page.contains("E-mailed"));
    }

    async fn an_smtp_server_that_is_down_is_retried_later_and_mails_once(app) {
        let (port, notifier, now) = mail_server_down_for_backup(&app).await;
        let down = pass(&app, &notifier, now).await;
        assert_eq!((down.made, down.sent, down.failed), (1, 0, 1));
        let page = app.get_html("/notifications").await;
        assert!(page.contains("E-mail failed"), "the failure shows: {page}");

        let Some(smtp) = SmtpServer::start_on(port) else { return };
        assert_eq!(pass(&app, &notifier, now + TimeDelta::seconds(10)).await.sent, 0, "backing off");
        let up = pass(&app, &notifier, now + TimeDelta::minutes(2)).await;
        assert_eq!((up.sent, up.failed), (1, 0));
        assert_eq!(pass(&app, &notifier, now + TimeDelta::hours(3)).await, PassReport::default());
        assert_eq!(smtp.messages().len(), 1);
        assert!(app.get_html("/notifications").await.contains("E-mailed"));
    }

    async fn a_token_deleted_while_its_warning_waited_for_the_mail_server_gets_no_e_mail(app) {
        let (port, notifier, now) = mail_server_down_for_backup(&app).await;
        let down = pass(&app, &notifier, now).await;
        assert_eq!((down.made, down.failed), (1, 1));

        // Deleted while the mail server was down: "expires in 7 days" would be wrong now.
        let id: String = store(&app)
            .run_blocking(|conn| Ok(tokens::table.filter(tokens::name.eq("backup")).select(tokens::id).first(conn)?))
            .unwrap();
        let deleted = app.post_form(&format!("/tokens/{id}/delete"), &format!("/tokens/{id}/delete"), &[("confirm", "delete")]).await;
        assert_eq!(deleted.status(), reqwest::StatusCode::SEE_OTHER);
        let Some(smtp) = SmtpServer::start_on(port) else { return };
        let up = pass(&app, &notifier, now + TimeDelta::minutes(2)).await;
        assert_eq!((up.sent, up.failed), (0, 0));
        assert!(smtp.messages().is_empty());
        let page = app.get_html("/notifications").await;
        assert!(page.contains("Token “backup” expires in 7 days"), "kept in the app: {page}");
    }

    async fn notifications_page_header_count_and_mark_read(app) {
        app.setup_admin().await;
        assert!(!app.get_html("/tokens").await.contains("class=\"count\""));
        assert!(app.get_html("/notifications").await.contains("No notifications"));
        let notifier = notifier(&app, None);
        plant_token_in_the_past(&app, "admin", "older", 26, "30").await;
        assert_eq!(pass(&app, &notifier, time::now() - TimeDelta::hours(1)).await.made, 1);
        plant_token_in_the_past(&app, "admin", "newer", 29, "30").await;
        assert_eq!(pass(&app, &notifier, time::now()).await.made, 1);

        let list = app.get_html("/tokens").await;
        assert!(list.contains("aria-label=\"2 unread\">2</span>"), "the header counts unread notices");
        let page = app.get_html("/notifications").await;
        let newer = page.find("Token “newer” expires in 1 day").expect("newer listed");
        let older = page.find("Token “older” expires in 7 days").expect("older listed");
        assert!(newer < older, "newest first");
        assert!(page.contains("href=\"/tokens?issuer="), "links to the token in the list");

        let response = app.post_form("/notifications", "/notifications/read", &[]).await;
        assert_eq!(location(&response), "/notifications");
        let page = app.get_html("/notifications").await;
        assert!(flashes(&page).contains(&"2 notifications marked as read.".to_owned()));
        assert!(!page.contains("notice-unread") && !page.contains("class=\"count\""));

        let erin = engineer(&app).await;
        assert!(erin.get_html("/notifications").await.contains("No notifications"), "only your own");
    }

    async fn personal_tokens_notify_processes_at_once_make_each_notice_once(app) {
        let Some(smtp) = SmtpServer::start() else { return };
        app.setup_admin().await;
        set_email(&app, "ada@example.com", true).await;
        let erin = engineer(&app).await;
        set_email(&erin, "erin@example.com", true).await;
        for n in 0..5 {
            plant_token_in_the_past(&app, "erin", &format!("job {n}"), 25, "30").await;
        }
        let run = || {
            std::process::Command::new(env!("CARGO_BIN_EXE_personal-tokens"))
                .arg("notify")
                .env("DATABASE_URL", &app.database_url)
                .env("SMTP_URL", smtp.url())
                .env("PUBLIC_URL", PUBLIC_URL)
                .env("RUST_LOG", "warn")
                .output()
                .expect("notify runs")
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(run);
            let b = s.spawn(run);
            (a.join().unwrap(), b.join().unwrap())
        });
        let mut made = 0;
        for output in [&a, &b] {
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            let line = String::from_utf8_lossy(&output.stdout).to_string();
            assert!(line.starts_with("notify: made "), "{line}");
            made += line["notify: made ".len()..].split(' ').next().unwrap().parse::<usize>().unwrap();
        }
        assert_eq!(made, 10, "five tokens, two people, once each");
        assert_eq!(notices_made(&app).len(), 10);
        assert_eq!(smtp.messages().len(), 10, "each e-mail once");
    }

    async fn every_server_runs_the_pass_on_its_own(app) {
        app.setup_admin().await;
        plant_token_in_the_past(&app, "admin", "cron-less", 25, "30").await;
        // A second server on the same database, with passes every second (the first after a
        // random delay of at most a second).
        let address = start_server(Settings { notice_interval: 1, ..test_settings(&app.database_url) }).await;
        let started = std::time::Instant::now();
        while notices_made(&app).is_empty() {
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "no pass ran");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(notices_made(&app), [(7, "admin".to_owned())]);
        assert!(address.starts_with("http://"));
        assert!(app.get_html("/notifications").await.contains("Token “cron-less” expires in 7 days"));
    }

    async fn an_smtp_url_that_cannot_be_parsed_stops_the_server_at_start(app) {
        for bad in ["smtp//no-scheme", "http://mail.example.com", "smtp://"] {
            let settings = Settings { smtp_url: Some(bad.to_owned().into()), ..test_settings(&app.database_url) };
            let error = personal_tokens::app::Application::build(settings).await.err().expect("refused");
            assert!(error.to_string().contains("SMTP_URL"), "{bad}: {error}");
        }
    }
}

static SMTP_PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

/// The app with SMTP set up on a port the test's own SMTP server then takes.
async fn with_smtp(backend: Backend) -> Option<TestApp> {
    let port = *SMTP_PORT.get_or_init(free_port);
    spawn_app_with(backend, |settings| {
        settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        settings.public_url = Some(PUBLIC_URL.into());
    })
    .await
}

both_backends! { start = with_smtp;
    async fn administrators_hear_in_the_app_and_by_e_mail_when_scim_deactivates_someone(app) {
        let Some(smtp) = SmtpServer::start_on(*SMTP_PORT.get().unwrap()) else { return };
        app.setup_admin().await;
        set_email(&app, "ada@example.com", true).await;
        let erin = engineer(&app).await;
        set_email(&erin, "erin@example.com", true).await;
        let provider = app.with_scoped_token("admin", "okta", "admin", Some(&["users:write"])).await;
        let (status, made, _) = {
            let (status, _, body) = call(&app, reqwest::Method::POST, "/scim/v2/Users", Some(&provider),
                Some(serde_json::json!({"userName": "grace", "displayName": "Grace Hopper"}))).await;
            (status, body, ())
        };
        assert_eq!(status, reqwest::StatusCode::CREATED, "{made}");
        let path = format!("/scim/v2/Users/{}", made["id"].as_str().unwrap());
        let off = serde_json::json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
        assert_eq!(call(&app, reqwest::Method::PATCH, &path, Some(&provider), Some(off)).await.0, reqwest::StatusCode::OK);

        let page = app.get_html("/notifications").await;
        assert!(page.contains("Grace Hopper (@grace) was deactivated by SCIM"), "{page}");
        assert!(page.contains(&format!("href=\"/users/{}\"", made["id"].as_str().unwrap())), "links to their page");
        assert!(!erin.get_html("/notifications").await.contains("was deactivated by SCIM"), "administrators only");

        let report = pass(&app, &notifier(&app, Some(smtp.url())), time::now()).await;
        assert_eq!(report.sent, 1, "{report:?}");
        let messages = smtp.messages();
        assert_eq!(messages.len(), 1);
        assert!(mail_header(&messages[0], "To").contains("ada@example.com"));
        assert!(mail_header(&messages[0], "Subject").contains("was deactivated by SCIM"), "{}", messages[0]);
        let body = decoded(&messages[0]);
        assert!(body.contains(&format!("{PUBLIC_URL}/users/{}", made["id"].as_str().unwrap())), "{body}");
        assert!(!body.contains("ptk_"), "never a secret");

        // Reactivated and deactivated again through a delete: a second notice.
        let on = serde_json::json!({"Operations": [{"op": "replace", "path": "active", "value": true}]});
        assert_eq!(call(&app, reqwest::Method::PATCH, &path, Some(&provider), Some(on)).await.0, reqwest::StatusCode::OK);
        assert_eq!(call(&app, reqwest::Method::DELETE, &path, Some(&provider), None).await.0, reqwest::StatusCode::NO_CONTENT);
        assert_eq!(app.get_html("/notifications").await.matches("was deactivated by SCIM").count(), 2);
    }

    async fn a_service_accounts_expiry_notices_go_to_the_administrators(app) {
        app.setup_admin().await;
        let response = app.post_form("/users/new", "/users/new", &[
            ("kind", "service"), ("username", "nightly"), ("display_name", ""), ("email", ""),
            ("role", "engineer"), ("password", ""),
        ]).await;
        assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
        plant_token_in_the_past(&app, "nightly", "backup job", 25, "30").await;
        let report = pass(&app, &notifier(&app, None), time::now()).await;
        assert!(report.made >= 1, "{report:?}");
        let page = app.get_html("/notifications").await;
        assert!(page.contains("Token “backup job” expires in 7 days"), "{page}");
    }
}
