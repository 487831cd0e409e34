//! The README's nginx recipe, run for real: Debian's nginx in front of a small upstream, with
//! `auth_request` to `/auth/verify`. The upstream must never be reached without a good token,
//! and sees `X-Auth-User` when the token is good.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::nginx::Nginx;
use crate::smtp::free_port;
use crate::token_helpers::with_service;

/// The README's nginx block, for the app at `app_port`, the upstream at `upstream_port`,
/// listening on `port` and asking for `scope`.
fn readme_recipe(app_port: u16, upstream_port: u16, port: u16, scope: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    // The recipe under "Protecting your own services" (the README has other nginx blocks).
    let section = readme
        .find("## Protecting your own services")
        .expect("README has the section");
    let start = section
        + readme[section..]
            .find("```nginx\n")
            .expect("README has an nginx recipe")
        + "```nginx\n".len();
    let block = &readme[start..start + readme[start..].find("```").expect("the block ends")];
    block
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{app_port}"))
        .replace("127.0.0.1:9000", &format!("127.0.0.1:{upstream_port}"))
        .replace("listen 8081;", &format!("listen 127.0.0.1:{port};"))
        .replace("billing:read", scope)
}

/// A tiny HTTP upstream: answers 200 with the `X-Auth-User` and `X-Auth-Role` it was sent, and
/// counts requests.
async fn upstream() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let sent = |header: &str| {
                    text.lines()
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case(header)
                                .then(|| value.trim().to_owned())
                        })
                        .unwrap_or_default()
                };
                let body = format!("hello {} as {}", sent("x-auth-user"), sent("x-auth-role"));
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (port, hits)
}

both_backends! {
    async fn the_readme_nginx_recipe_protects_a_service_with_a_scoped_token(app) {
        app.setup_admin().await;
        with_service(&app, "billing").await;
        let reader = app.with_scoped_token("admin", "billing-reader", "engineer", Some(&["billing:read"])).await;
        let other = app.with_scoped_token("admin", "tokens-reader", "engineer", Some(&["tokens:read"])).await;

        let app_port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
        let (upstream_port, hits) = upstream().await;
        let (read_port, write_port) = (free_port(), free_port());
        let config = readme_recipe(app_port, upstream_port, read_port, "billing:read")
            + &readme_recipe(app_port, upstream_port, write_port, "billing:write");
        let Some(nginx) = Nginx::start(&config, read_port) else { return };
        let write_url = format!("http://127.0.0.1:{write_port}/invoices");
        let client = reqwest::Client::new();
        let get = |url: String, token: Option<String>| {
            let client = client.clone();
            async move {
                let mut request = client.get(url);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                request.send().await.expect("through nginx")
            }
        };

        // No token, a bad one, and one without the scope: the upstream is never reached.
        let response = get(nginx.url("/invoices"), None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{}", nginx.error_log());
        assert_eq!(header(&response, "www-authenticate"), "Bearer");
        let response = get(nginx.url("/invoices"), Some("ptk_not_a_token".into())).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = get(nginx.url("/invoices"), Some(other.clone())).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = get(write_url.clone(), Some(reader.clone())).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "write on a read token");
        assert_eq!(hits.load(Ordering::SeqCst), 0, "the upstream saw none of these");

        // The good token passes, and the upstream learns who is calling.
        let response = get(nginx.url("/invoices"), Some(reader.clone())).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", nginx.error_log());
        assert_eq!(response.text().await.unwrap(), "hello admin as engineer");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // What a client sends of the identity headers is replaced, never passed on.
        let response = client
            .get(nginx.url("/invoices"))
            .bearer_auth(&reader)
            .header("X-Auth-Role", "admin")
            .header("X-Auth-User", "someone-else")
            .send()
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "hello admin as engineer");
        hits.fetch_sub(1, Ordering::SeqCst);
        // A POST is checked too (nginx's subrequest keeps the method, and leaves the body out).
        let response = client.post(nginx.url("/invoices")).bearer_auth(&reader).body("{}").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{}", nginx.error_log());
        let response = client.post(nginx.url("/invoices")).body("{}").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }
}
