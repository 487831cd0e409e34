//! Process-wide counters behind `GET /metrics` (Prometheus text format). Any layer may count
//! here; it knows neither HTTP nor SQL, only names and numbers. Counting is an atomic add on a
//! child resolved once: bearer outcomes are resolved at start, HTTP series once per worker
//! thread, so no request takes a lock for its metrics.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// What a bearer credential came to. `Forbidden` is a credential that was accepted (counted as
/// `Ok`) and then refused by a route for its role, so `forbidden` is a subset of `ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerOutcome {
    Ok,
    Invalid,
    Expired,
    Deleted,
    Suspended,
    Inactive,
    IpNotAllowed,
    Forbidden,
}

impl BearerOutcome {
    const ALL: [Self; 8] = [
        Self::Ok,
        Self::Invalid,
        Self::Expired,
        Self::Deleted,
        Self::Suspended,
        Self::Inactive,
        Self::IpNotAllowed,
        Self::Forbidden,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Invalid => "invalid",
            Self::Expired => "expired",
            Self::Deleted => "deleted",
            Self::Suspended => "suspended",
            Self::Inactive => "owner_inactive",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::Forbidden => "forbidden",
        }
    }
}

/// A connection pool at the moment of a scrape.
#[derive(Debug, Clone, Copy)]
pub struct PoolReading {
    pub backend: &'static str,
    pub in_use: u32,
    pub idle: u32,
    pub waiting: i64,
    pub max: u32,
}

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
    bearer: [IntCounter; BearerOutcome::ALL.len()],
    pub tokens_created: IntCounter,
    pub tokens_deleted: IntCounter,
    pub notice_passes: IntCounter,
    pub notice_passes_failed: IntCounter,
    pub emails_sent: IntCounter,
    pub emails_failed: IntCounter,
    pub sso_checks: IntCounter,
    pub sso_revoked: IntCounter,
    pub sso_check_failures: IntCounter,
    pub sso_held_back: IntCounter,
    pool_connections: IntGaugeVec,
    pool_waiting: IntGaugeVec,
    pool_max: IntGaugeVec,
}

/// Latency buckets in seconds: the API answers in well under a millisecond on a local database,
/// a sign-in (argon2id) takes a few hundred.
const SECONDS_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let counter = IntCounter::new(name, help).expect("valid metric name");
    registry
        .register(Box::new(counter.clone()))
        .expect("registered once");
    counter
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route pattern, method and status class.",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response head, by route pattern, method and status class.",
            )
            .buckets(SECONDS_BUCKETS.to_vec()),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let bearer_vec = IntCounterVec::new(
            Opts::new(
                "bearer_checks_total",
                "API credential checks by outcome (forbidden: accepted, then refused for its role).",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let bearer = BearerOutcome::ALL.map(|o| bearer_vec.with_label_values(&[o.label()]));
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections by state (in_use, idle).",
            ),
            &["backend", "state"],
        )
        .expect("valid metric");
        let pool_waiting = IntGaugeVec::new(
            Opts::new(
                "db_pool_waiting",
                "Requests waiting for a database connection.",
            ),
            &["backend"],
        )
        .expect("valid metric");
        let pool_max = IntGaugeVec::new(
            Opts::new("db_pool_max_connections", "The pool's size (DB_POOL_SIZE)."),
            &["backend"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_seconds.clone()),
            Box::new(bearer_vec),
            Box::new(pool_connections.clone()),
            Box::new(pool_waiting.clone()),
            Box::new(pool_max.clone()),
        ] {
            registry.register(collector).expect("registered once");
        }
        Self {
            tokens_created: counter(&registry, "tokens_created_total", "Tokens created."),
            tokens_deleted: counter(
                &registry,
                "tokens_deleted_total",
                "Tokens deleted (by a person, the API, or a leak report).",
            ),
            sso_checks: counter(
                &registry,
                "sso_rechecks_total",
                "SSO people the re-check asked the provider about.",
            ),
            sso_revoked: counter(
                &registry,
                "sso_revocations_total",
                "SSO people deactivated because the provider no longer vouches for them.",
            ),
            sso_check_failures: counter(
                &registry,
                "sso_recheck_failures_total",
                "Re-checks the provider could not answer (retried at the next interval).",
            ),
            sso_held_back: counter(
                &registry,
                "sso_revocations_held_back_total",
                "Revocations the re-check did not act on: the last administrator, or a pass \
                 where most people came back revoked at once.",
            ),
            notice_passes: counter(
                &registry,
                "notice_passes_total",
                "Expiry-notice passes run.",
            ),
            notice_passes_failed: counter(
                &registry,
                "notice_passes_failed_total",
                "Expiry-notice passes that stopped on a database error.",
            ),
            emails_sent: counter(
                &registry,
                "notice_emails_sent_total",
                "Notice e-mails sent.",
            ),
            emails_failed: counter(
                &registry,
                "notice_emails_failed_total",
                "Notice e-mail attempts that failed (retried later).",
            ),
            registry,
            http_requests,
            http_seconds,
            bearer,
            pool_connections,
            pool_waiting,
            pool_max,
        }
    }

    pub fn bearer(&self, outcome: BearerOutcome) {
        self.bearer[outcome as usize].inc();
    }

    /// One answered request. `route` is the matched pattern (never the raw path, whose values
    /// are unbounded); unknown methods count as `OTHER` for the same reason.
    pub fn http(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let method = known_method(method);
        let class = status_class(status);
        // Tests make metrics of their own on threads the global one may also use.
        let owner = std::ptr::from_ref(self) as usize;
        HTTP_SERIES.with(|series| {
            let mut series = series.borrow_mut();
            let children = match series.get_mut(route) {
                Some(children) => children,
                None => series.entry(route.to_owned()).or_default(),
            };
            let child = match children
                .iter()
                .position(|c| c.owner == owner && c.method == method && c.class == class)
            {
                Some(i) => &children[i],
                None => {
                    let labels = [route, method, class];
                    children.push(HttpChild {
                        owner,
                        method,
                        class,
                        count: self.http_requests.with_label_values(&labels),
                        seconds: self.http_seconds.with_label_values(&labels),
                    });
                    children.last().expect("just pushed")
                }
            };
            child.count.inc();
            child.seconds.observe(seconds);
        });
    }

    /// The text a scrape returns, with the pools read at this moment.
    pub fn render(&self, pools: &[PoolReading]) -> String {
        for pool in pools {
            let b = pool.backend;
            self.pool_connections
                .with_label_values(&[b, "in_use"])
                .set(i64::from(pool.in_use));
            self.pool_connections
                .with_label_values(&[b, "idle"])
                .set(i64::from(pool.idle));
            self.pool_waiting.with_label_values(&[b]).set(pool.waiting);
            self.pool_max
                .with_label_values(&[b])
                .set(i64::from(pool.max));
        }
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding of valid metrics cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

struct HttpChild {
    owner: usize,
    method: &'static str,
    class: &'static str,
    count: IntCounter,
    seconds: Histogram,
}

thread_local! {
    /// This worker's resolved HTTP series, by route: a route pattern is looked up in the shared
    /// registry (a lock) only the first time this thread answers it.
    static HTTP_SERIES: RefCell<HashMap<String, Vec<HttpChild>>> = RefCell::new(HashMap::new());
}

fn known_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_series_are_labelled_by_pattern_method_and_class() {
        let metrics = Metrics::new();
        metrics.http("/tokens/{id}", "GET", 200, 0.002);
        metrics.http("/tokens/{id}", "GET", 204, 0.002);
        metrics.http("/tokens/{id}", "BREW", 404, 0.002);
        let text = metrics.render(&[]);
        assert!(
            text.contains(
                r#"http_requests_total{method="GET",route="/tokens/{id}",status="2xx"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"method="OTHER",route="/tokens/{id}",status="4xx"} 1"#));
        assert!(text.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/tokens/{id}",status="2xx",le="0.0025"} 2"#));
    }

    #[test]
    fn bearer_outcomes_and_pools_are_exported() {
        let metrics = Metrics::new();
        metrics.bearer(BearerOutcome::Expired);
        metrics.bearer(BearerOutcome::Expired);
        let text = metrics.render(&[PoolReading {
            backend: "sqlite",
            in_use: 1,
            idle: 3,
            waiting: 0,
            max: 8,
        }]);
        assert!(text.contains(r#"bearer_checks_total{outcome="expired"} 2"#));
        assert!(text.contains(r#"bearer_checks_total{outcome="ok"} 0"#));
        assert!(text.contains(r#"db_pool_connections{backend="sqlite",state="idle"} 3"#));
        assert!(text.contains(r#"db_pool_max_connections{backend="sqlite"} 8"#));
    }
}
