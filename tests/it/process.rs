//! The real binary as an operator runs it: its JSON logs over a whole session hold no secret,
//! and SIGTERM drains (requests in flight are answered, then it exits 0).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;
use crate::token_helpers::*;

/// The binary serving a fresh SQLite file with JSON logs; its standard error is collected.
struct Served {
    child: Child,
    browser: Browser,
    address: String,
    logs: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

fn serve(rust_log: &str, extra: &[(&str, &str)]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_personal-tokens"))
        .envs(extra.iter().copied())
        .env("DATABASE_URL", dir.path().join("app.db"))
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", rust_log)
        .env("NOTICE_INTERVAL", "0")
        .env("WORKERS", "2")
        .env_remove("SESSION_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the binary");
    let stderr = child.stderr.take().unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let (found, address) = mpsc::channel();
    let kept = logs.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let line = line.expect("log lines are UTF-8");
            if let Ok(event) = serde_json::from_str::<Value>(&line)
                && event["message"] == "serving the dashboard"
            {
                let _ = found.send(event["address"].as_str().unwrap_or_default().to_owned());
            }
            kept.lock().unwrap().push(line);
        }
    });
    let address = address
        .recv_timeout(Duration::from_secs(30))
        .expect("the server says where it listens");
    Served {
        child,
        browser: Browser {
            address: format!("http://{address}"),
            client: client(),
        },
        address,
        logs,
        reader: Some(reader),
        _dir: dir,
    }
}

impl Served {
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (at most `limit`) and for its last log line.
    fn exit_status(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.reader.take() {
                    reader.join().unwrap();
                }
                return status;
            }
            assert!(started.elapsed() < limit, "still running after {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every `Set-Cookie` value the response carries.
fn cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            v.split(';')
                .next()?
                .split_once('=')
                .map(|(_, v)| v.to_owned())
        })
        .filter(|v| v.len() > 8)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_name_each_request_and_hold_no_secret() {
    // Arrange: every crate at trace, more than anyone troubleshooting would turn on.
    let mut served = serve("trace", &[]);
    let app = &served.browser;
    let mut secrets: Vec<String> = vec![ADMIN_PASSWORD.to_owned()];
    let setup = app.setup_admin().await;
    secrets.extend(cookies(&setup));

    // Act: a whole session: tokens made, used, refused and deleted, a failed and a good
    // sign-in, a password change.
    let token = create_token(app, "logged", "30", "admin").await;
    secrets.push(token.clone());
    secrets.push(token["ptk_".len()..].to_owned());
    secrets.push(csrf_token_in(&app.get_html("/tokens/new").await));
    let (status, body) = me(app, &token).await;
    assert_eq!(status, 200, "{body}");
    let wrong = format!(
        "{}{}",
        &token[..token.len() - 1],
        if token.ends_with('A') { 'B' } else { 'A' }
    );
    assert_eq!(me(app, &wrong).await.0, 401);
    let other = create_token(app, "deleted-later", "7", "read_only").await;
    secrets.push(other.clone());
    let id = row_id(row(&tokens_html(app, "").await, "deleted-later"));
    let (status, _, _) = call(
        app,
        reqwest::Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me(app, &other).await.0, 401);
    let new_password = "a brand new passphrase 42";
    secrets.push(new_password.to_owned());
    let changed = app
        .post_form(
            "/settings/password",
            "/settings/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", new_password),
                ("new_password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(changed.status(), 303);
    secrets.extend(cookies(&changed));
    app.logout().await;
    let wrong_password = "not the password at all";
    secrets.push(wrong_password.to_owned());
    assert_eq!(app.login("admin", wrong_password).await.status(), 401);
    let signed_in = app.login("admin", new_password).await;
    assert_eq!(signed_in.status(), 303);
    secrets.extend(cookies(&signed_in));
    secrets.push(csrf_token_in(&app.get_html("/tokens").await));
    served.terminate();
    assert!(served.exit_status(Duration::from_secs(30)).success());

    // Assert
    let logs = served.logs();
    let mut answered = 0;
    for line in &logs {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for field in ["timestamp", "level", "target"] {
            assert!(event[field].is_string(), "{field} missing: {line}");
        }
        if event["message"] == "answered" {
            answered += 1;
            assert!(event["request_id"].is_string(), "{line}");
            assert!(
                event["route"].is_string() && event["status"].is_u64(),
                "{line}"
            );
            assert!(event["latency_ms"].is_number(), "{line}");
        }
    }
    assert!(answered >= 20, "one line per request: {answered}");
    let all = logs.join("\n");
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(
            !all.contains(secret.as_str()),
            "a secret is in the logs: {secret}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_lines_keep_the_request_id_when_only_they_are_logged() {
    // Arrange: access lines and warnings only (and the line that says where it listens).
    let served = serve(
        "warn,personal_tokens::access=info,personal_tokens=info,personal_tokens::observe=warn",
        &[],
    );

    // Act
    let answer = served
        .browser
        .client
        .get(served.browser.url("/healthz"))
        .header("X-Request-Id", "lb-7f3a.2")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // Assert: the line is there, with the caller's id, though the request's span is not.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = served.logs().iter().any(|line| {
            serde_json::from_str::<Value>(line).is_ok_and(|event| {
                event["message"] == "answered"
                    && event["request_id"] == "lb-7f3a.2"
                    && event["route"] == "/healthz"
            })
        });
        if found {
            break;
        }
        assert!(Instant::now() < deadline, "{:#?}", served.logs());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_requests_in_flight_then_exits_0() {
    // With /metrics on an address of its own: that listener must not end the drain early.
    let mut served = serve("info", &[("METRICS_BIND", "127.0.0.1:0")]);
    served.browser.setup_admin().await;
    let token = create_token(&served.browser, "drain", "30", "admin").await;
    // No idle keep-alive connection of ours left for the drain to wait on.
    served.browser.client = client();

    // A request whose body is only half sent when the signal comes.
    let body = r#"{"name": "made while stopping", "expires_in_days": 7, "role": "read_only"}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut slow = TcpStream::connect(&served.address).unwrap();
    write!(
        slow,
        "POST /api/v1/tokens HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        served.address,
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    served.terminate();

    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&served.address).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting new connections after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Longer than the metrics listener's own one-second drain.
    std::thread::sleep(Duration::from_secs(2));
    slow.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("made while stopping"));
    let status = served.exit_status(Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    let logs = served.logs().join("\n");
    assert!(logs.contains("\"message\":\"stopped\""), "{logs}");
}
