//! The client's address, for throttling, last use, allowlists and the audit log. It is the TCP
//! peer, which a client cannot forge with a header, unless that peer is one of the operator's
//! `TRUSTED_PROXIES`: then it is the nearest address in `X-Forwarded-For` that is not itself a
//! trusted proxy (the right-most ones were appended by proxies we trust; anything left of the
//! first untrusted one could have been written by the client). A trusted proxy that sends no
//! `X-Forwarded-For` may send `X-Real-IP` (nginx's habit) instead.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::domain::allowlist::IpAllowlist;

/// The proxies whose `X-Forwarded-For` is believed; empty (the default) believes none. Put in
/// the app's data at start; absent means none.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub IpAllowlist);

/// The client address, or `None` when the connection has no peer address (a test request).
pub fn client_addr(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let trusted = match req.app_data::<TrustedProxies>() {
        Some(TrustedProxies(list)) if !list.is_empty() && list.allows(peer) => list,
        _ => return Some(peer),
    };
    let mut forwarded = req.headers().get_all("x-forwarded-for").peekable();
    if forwarded.peek().is_none() {
        let real = req.headers().get("x-real-ip").and_then(|v| v.to_str().ok());
        return Some(real.and_then(|ip| ip.trim().parse().ok()).unwrap_or(peer));
    }
    let mut nearest = peer;
    for header in forwarded.rev() {
        let Ok(text) = header.to_str() else {
            return Some(nearest);
        };
        for item in text.rsplit(',') {
            let Ok(addr) = item.trim().parse::<IpAddr>() else {
                // Junk in the chain: stop at the last address we could trust.
                return Some(nearest);
            };
            if !trusted.allows(addr) {
                return Some(addr);
            }
            nearest = addr;
        }
    }
    Some(nearest)
}

/// `client_addr` as text for records; "unknown" without a peer address.
pub fn client_ip(req: &HttpRequest) -> String {
    client_addr(req).map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(peer: &str, forwarded: &[&str], trusted: &str) -> HttpRequest {
        let mut req = TestRequest::default()
            .peer_addr(format!("{peer}:4000").parse().unwrap())
            .app_data(TrustedProxies(IpAllowlist::parse(trusted).unwrap()));
        for value in forwarded {
            req = req.append_header(("X-Forwarded-For", *value));
        }
        req.to_http_request()
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let req = request("198.51.100.9", &["203.0.113.7"], "");
        assert_eq!(client_ip(&req), "198.51.100.9");
        let req = request("198.51.100.9", &["203.0.113.7"], "10.0.0.0/8");
        assert_eq!(client_ip(&req), "198.51.100.9");
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_address_counts() {
        let req = request(
            "10.0.0.2",
            &["1.1.1.1, 203.0.113.7, 10.0.0.3"],
            "10.0.0.0/8",
        );
        assert_eq!(
            client_ip(&req),
            "203.0.113.7",
            "a client-written 1.1.1.1 is not believed"
        );
        let req = request("10.0.0.2", &["203.0.113.7", "10.0.0.3"], "10.0.0.0/8");
        assert_eq!(
            client_ip(&req),
            "203.0.113.7",
            "several headers read as one chain"
        );
        let req = request("10.0.0.2", &["junk, 10.0.0.4"], "10.0.0.0/8");
        assert_eq!(client_ip(&req), "10.0.0.4");
        let req = request("10.0.0.2", &[], "10.0.0.0/8");
        assert_eq!(client_ip(&req), "10.0.0.2");
    }

    #[test]
    fn a_trusted_proxy_may_name_the_client_in_x_real_ip() {
        let real = |peer: &str, value: &str, trusted: &str| {
            let req = TestRequest::default()
                .peer_addr(format!("{peer}:4000").parse().unwrap())
                .app_data(TrustedProxies(IpAllowlist::parse(trusted).unwrap()))
                .append_header(("X-Real-IP", value))
                .to_http_request();
            client_ip(&req)
        };
        assert_eq!(real("10.0.0.2", "203.0.113.7", "10.0.0.0/8"), "203.0.113.7");
        assert_eq!(real("10.0.0.2", "junk", "10.0.0.0/8"), "10.0.0.2");
        assert_eq!(
            real("198.51.100.9", "203.0.113.7", "10.0.0.0/8"),
            "198.51.100.9",
            "not from an untrusted peer"
        );
    }
}
