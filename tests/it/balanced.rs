//! Three instances of the real binary over one Postgres database, started at the same moment,
//! behind Debian's nginx as a round-robin load balancer (product.md §12): they all come up, a
//! session and the account's limit hold across them, failed sign-ins are throttled as one,
//! API calls add up, and `kill -9` of one under a stream of creates loses no acknowledged token.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::nginx::Nginx;
use crate::smtp::free_port;
use crate::token_helpers::*;

struct Instance {
    child: Child,
    port: u16,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_instance(database_url: &str) -> Instance {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_personal-tokens"))
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .env("NOTICE_INTERVAL", "0")
        .env("WORKERS", "1")
        .env("DB_POOL_SIZE", "4")
        .env("ACTIVITY_FLUSH_MS", "100")
        .env("TRUSTED_PROXIES", "127.0.0.1")
        .env_remove("SESSION_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the binary");
    Instance { child, port }
}

/// Waits until every instance answers /healthz; panics naming the one that never did.
async fn all_up(instances: &mut [Instance]) {
    let started = Instant::now();
    for instance in instances.iter_mut() {
        loop {
            if let Ok(Some(status)) = instance.child.try_wait() {
                panic!(
                    "the instance on port {} died at start: {status}",
                    instance.port
                );
            }
            let up = reqwest::get(format!("http://127.0.0.1:{}/healthz", instance.port)).await;
            if up.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "port {} never came up",
                instance.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn balancer_config(instances: &[Instance], port: u16) -> String {
    let servers: String = instances
        .iter()
        .map(|i| format!("server 127.0.0.1:{} max_fails=0;\n", i.port))
        .collect();
    format!(
        "upstream tokens {{ {servers} }}\n\
         server {{\n\
           listen 127.0.0.1:{port};\n\
           location / {{\n\
             proxy_pass http://tokens;\n\
             proxy_set_header Host $host;\n\
             proxy_set_header X-Forwarded-For $remote_addr;\n\
             proxy_next_upstream error timeout;\n\
           }}\n\
         }}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_behind_nginx_behave_as_one() {
    let Some((database_url, _database)) = TestDatabase::postgres() else {
        return;
    };
    // Started at the same moment over an empty database.
    let mut instances: Vec<Instance> = (0..3).map(|_| start_instance(&database_url)).collect();
    all_up(&mut instances).await;
    let port = free_port();
    let Some(nginx) = Nginx::start(&balancer_config(&instances, port), port) else {
        return;
    };
    let app = Browser {
        address: nginx.url(""),
        client: client(),
    };

    // First run and a session, each request going to the next instance.
    assert_eq!(location(&app.setup_admin().await), "/tokens");
    for _ in 0..6 {
        assert!(
            app.get_html("/tokens").await.contains("Ada Admin"),
            "signed in on every instance"
        );
    }
    let response = post_new_token(
        &app,
        &[("name", "ops"), ("expires_in", "30"), ("role", "admin")],
    )
    .await;
    assert_eq!(location(&response), "/tokens/reveal");
    let admin_token = reveal(&app).await;

    // 100 creates at once over the three: exactly the account's limit of 50 is live.
    let creates = (0..100).map(|n| {
        let body = json!({"name": format!("race-{n}"), "role": "read_only", "expires_in_days": 7});
        call(
            &app,
            Method::POST,
            "/api/v1/tokens",
            Some(&admin_token),
            Some(body),
        )
    });
    let answers = futures_util::future::join_all(creates).await;
    let made = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CREATED)
        .count();
    let refused = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        (made, refused),
        (49, 51),
        "the limit holds across instances"
    );
    let (_, _, listed) = call(
        &app,
        Method::GET,
        "/api/v1/tokens?status=active",
        Some(&admin_token),
        None,
    )
    .await;
    assert_eq!(listed["live_in_account"], 50);

    // API calls spread over the instances add up on the token's page.
    let (_, _, own) = call(
        &app,
        Method::GET,
        "/api/v1/tokens/self",
        Some(&admin_token),
        None,
    )
    .await;
    let id = own["id"].as_str().unwrap().to_owned();
    for _ in 0..30 {
        assert_eq!(me(&app, &admin_token).await.0, StatusCode::OK);
    }
    let started = Instant::now();
    loop {
        let page = app.get_html(&format!("/tokens/{id}")).await;
        // 100 creates, the list, the self read and 30 calls.
        if page.contains("132 requests in the last 90 days") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the counts never added up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Failed sign-ins over the three are throttled as if there were one.
    let stranger = Browser {
        address: nginx.url(""),
        client: client(),
    };
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(
            stranger
                .login("admin", "not the password")
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(
        statuses.contains(&429),
        "throttled across instances: {statuses:?}"
    );

    // kill -9 of one instance under a stream of creates loses no acknowledged token.
    let response = app
        .post_form(
            "/policy",
            "/policy",
            &[("max_lifetime_days", "365"), ("max_tokens", "1000")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let streams = (0..3).map(|stream| {
        let (app, token, answered) = (&app, admin_token.clone(), &answered);
        async move {
            let mut acknowledged = Vec::new();
            for n in 0..15 {
                let body = json!({"name": format!("stream-{stream}-{n}"), "role": "read_only", "expires_in_days": 7});
                let (status, _, made) = call(app, Method::POST, "/api/v1/tokens", Some(&token), Some(body)).await;
                if status == StatusCode::CREATED {
                    acknowledged.push(made["id"].as_str().unwrap().to_owned());
                }
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            acknowledged
        }
    });
    // Killed once the stream is under way, while creates are still coming.
    let killer = async {
        while answered.load(std::sync::atomic::Ordering::SeqCst) < 10 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let _ = instances[1].child.kill();
        let _ = instances[1].child.wait();
        answered.load(std::sync::atomic::Ordering::SeqCst)
    };
    let (acknowledged, killed_at) = tokio::join!(futures_util::future::join_all(streams), killer);
    assert!(
        killed_at < 45,
        "the instance died while creates were still coming"
    );
    let acknowledged: Vec<String> = acknowledged.into_iter().flatten().collect();
    assert!(
        acknowledged.len() >= 30,
        "the other two kept answering: {} of 45",
        acknowledged.len()
    );
    let mut kept = Vec::new();
    for page in 1..=3 {
        let (status, _, listed) = call(
            &app,
            Method::GET,
            &format!("/api/v1/tokens?q=stream-&page={page}"),
            Some(&admin_token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        kept.extend(
            listed["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned()),
        );
    }
    for id in &acknowledged {
        assert!(kept.contains(id), "acknowledged token {id} is kept");
    }
}
