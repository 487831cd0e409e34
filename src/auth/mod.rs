//! Who is calling, as mechanisms with their own error types: passwords (argon2id), the browser
//! session, CSRF tokens, reading a bearer credential into a digest. May import `domain`, `store`
//! and actix's request types; never `web`, `api` or `app`, whose extractors build on these.

pub mod bearer;
pub mod csrf;
pub mod password;
pub mod session;

/// The client address for throttling, last use and the audit log: the TCP peer, which a client
/// cannot forge with a header. (Behind a proxy this is the proxy; see the README.)
pub fn client_ip(req: &actix_web::HttpRequest) -> String {
    req.peer_addr()
        .map(|addr| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
