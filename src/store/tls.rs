//! How the store reaches Postgres over TLS. `sslmode` in `DATABASE_URL` decides, as libpq's
//! does (`disable`, `prefer`, `require`, `verify-ca`, `verify-full`; `sslrootcert` names the CA
//! file for the last two), with one difference: a URL without `sslmode` whose host is this
//! machine (loopback or a Unix socket) gets no TLS, which there would only cost time on every
//! query. Elsewhere the default stays libpq's `prefer`. The same choice goes to libpq (the pool)
//! and to tokio-postgres (the API's token check).

use std::net::IpAddr;

use diesel_async::AsyncPgConnection;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;
use postgres_openssl::MakeTlsConnector;
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode as PgSslMode;

use super::{StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// `application_name` of the token check's connections, unless the URL names one.
pub const CHECK_APPLICATION_NAME: &str = "personal-tokens token check";

/// libpq gives up on an unreachable host only when told to.
const CONNECT_TIMEOUT_SECS: u32 = 5;

fn bad_url(reason: impl std::fmt::Display) -> StoreError {
    StoreError::BadUrl(format!("DATABASE_URL: {reason}"))
}

/// The URL's `sslmode`, or the default for its host.
pub fn ssl_mode(url: &url::Url) -> StoreResult<SslMode> {
    let given = url
        .query_pairs()
        .find(|(key, _)| key == "sslmode")
        .map(|(_, value)| value.into_owned());
    Ok(match given.as_deref() {
        Some("disable") => SslMode::Disable,
        Some("prefer" | "allow") => SslMode::Prefer,
        Some("require") => SslMode::Require,
        Some("verify-ca") => SslMode::VerifyCa,
        Some("verify-full") => SslMode::VerifyFull,
        Some(other) => return Err(bad_url(format!("unknown sslmode `{other}`"))),
        None if is_this_machine(url) => SslMode::Disable,
        None => SslMode::Prefer,
    })
}

fn is_this_machine(url: &url::Url) -> bool {
    // A `host=` (or `hostaddr=`) parameter overrides the URL's host, as in libpq.
    let given = url
        .query_pairs()
        .filter(|(key, _)| key == "host" || key == "hostaddr")
        .map(|(_, value)| value.into_owned())
        .last();
    let host = given.or_else(|| url.host_str().map(str::to_owned));
    match host.as_deref() {
        None | Some("") | Some("localhost") => true,
        Some(socket_dir) if socket_dir.starts_with('/') => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
    }
}

/// The URL libpq is given: the TLS choice made explicit, and a connect timeout.
pub fn libpq_url(url: &str) -> StoreResult<String> {
    let mut parsed = url::Url::parse(url).map_err(bad_url)?;
    let mode = ssl_mode(&parsed)?;
    let has = |key: &str| parsed.query_pairs().any(|(k, _)| k == key);
    let (has_mode, has_timeout) = (has("sslmode"), has("connect_timeout"));
    {
        let mut query = parsed.query_pairs_mut();
        if !has_mode && mode == SslMode::Disable {
            query.append_pair("sslmode", "disable");
        }
        if !has_timeout {
            query.append_pair("connect_timeout", &CONNECT_TIMEOUT_SECS.to_string());
        }
    }
    Ok(parsed.to_string())
}

/// Where and how the token check connects: tokio-postgres's configuration and TLS connector.
pub struct PgTarget {
    config: tokio_postgres::Config,
    tls: Option<MakeTlsConnector>,
}

impl PgTarget {
    pub fn parse(url: &str) -> StoreResult<Self> {
        let parsed = url::Url::parse(url).map_err(bad_url)?;
        let mode = ssl_mode(&parsed)?;
        let root = parsed
            .query_pairs()
            .find(|(key, _)| key == "sslrootcert")
            .map(|(_, value)| value.into_owned());
        // tokio-postgres refuses what only libpq knows; those two are applied here instead.
        let mut cleaned = parsed.clone();
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(key, _)| key != "sslmode" && key != "sslrootcert")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        cleaned.set_query(None);
        if !kept.is_empty() {
            cleaned.query_pairs_mut().extend_pairs(kept);
        }
        let mut config: tokio_postgres::Config = cleaned.as_str().parse().map_err(bad_url)?;
        if config.get_application_name().is_none() {
            // So an operator can tell these connections from the pool's in pg_stat_activity.
            config.application_name(CHECK_APPLICATION_NAME);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(CONNECT_TIMEOUT_SECS.into()));
        }
        config.ssl_mode(match mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            _ => PgSslMode::Require,
        });
        let tls = match mode {
            SslMode::Disable => None,
            _ => Some(connector(mode, root.as_deref()).map_err(bad_url)?),
        };
        Ok(Self { config, tls })
    }

    pub async fn connect(&self) -> Result<AsyncPgConnection, String> {
        let conn = match &self.tls {
            None => {
                let (client, connection) = self
                    .config
                    .connect(NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
            Some(tls) => {
                let (client, connection) = self
                    .config
                    .connect(tls.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
        };
        conn.map_err(|e| e.to_string())
    }
}

/// libpq's meaning of each mode: `prefer` and `require` encrypt without checking the
/// certificate; `verify-ca` checks it against `sslrootcert` (default
/// `~/.postgresql/root.crt`), `verify-full` the host name as well.
fn connector(mode: SslMode, root: Option<&str>) -> Result<MakeTlsConnector, String> {
    let mut builder = SslConnector::builder(SslMethod::tls()).map_err(|e| e.to_string())?;
    if matches!(mode, SslMode::Prefer | SslMode::Require) {
        builder.set_verify(SslVerifyMode::NONE);
    } else {
        let root = root.map(str::to_owned).unwrap_or_else(|| {
            let home = std::env::var("HOME").unwrap_or_default();
            format!("{home}/.postgresql/root.crt")
        });
        // Only these roots, as libpq trusts only `sslrootcert`: the builder's default store
        // holds every public CA, which would let any publicly certified server pass.
        let pem = std::fs::read(&root).map_err(|e| format!("sslrootcert {root}: {e}"))?;
        let roots = X509::stack_from_pem(&pem).map_err(|e| format!("sslrootcert {root}: {e}"))?;
        let mut store = X509StoreBuilder::new().map_err(|e| e.to_string())?;
        for cert in roots {
            store
                .add_cert(cert)
                .map_err(|e| format!("sslrootcert {root}: {e}"))?;
        }
        builder.set_cert_store(store.build());
    }
    let mut make = MakeTlsConnector::new(builder.build());
    if mode == SslMode::VerifyCa {
        make.set_callback(|config, _| {
            config.set_verify_hostname(false);
            Ok(())
        });
    }
    Ok(make)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> SslMode {
        ssl_mode(&url::Url::parse(url).unwrap()).unwrap()
    }

    #[test]
    fn the_url_decides_and_this_machine_defaults_to_no_tls() {
        assert_eq!(mode("postgres://u@127.0.0.1:5432/db"), SslMode::Disable);
        assert_eq!(mode("postgres://u@localhost/db"), SslMode::Disable);
        assert_eq!(mode("postgres://u@[::1]/db"), SslMode::Disable);
        assert_eq!(
            mode("postgres:///db?host=/var/run/postgresql"),
            SslMode::Disable
        );
        assert_eq!(mode("postgres://u@db.example.com/db"), SslMode::Prefer);
        assert_eq!(mode("postgres:///db?host=db.example.com"), SslMode::Prefer);
        assert_eq!(
            mode("postgres://u@127.0.0.1/db?sslmode=require"),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@db.example.com/db?sslmode=verify-full"),
            SslMode::VerifyFull
        );
        assert!(ssl_mode(&url::Url::parse("postgres://h/db?sslmode=maybe").unwrap()).is_err());
    }

    #[test]
    fn libpq_is_told_the_choice_and_a_timeout() {
        assert_eq!(
            libpq_url("postgres://u@127.0.0.1:5432/db").unwrap(),
            "postgres://u@127.0.0.1:5432/db?sslmode=disable&connect_timeout=5"
        );
        assert_eq!(
            libpq_url("postgres://u@db.example.com/db?sslmode=require&connect_timeout=2").unwrap(),
            "postgres://u@db.example.com/db?sslmode=require&connect_timeout=2"
        );
    }

    #[test]
    fn libpq_only_parameters_are_taken_out_for_tokio_postgres() {
        assert!(PgTarget::parse("postgres://u@127.0.0.1/db?sslmode=disable").is_ok());
        assert!(PgTarget::parse("postgres://u@db.example.com/db?sslmode=require").is_ok());
        let missing = PgTarget::parse("postgres://u@h/db?sslmode=verify-ca&sslrootcert=/nope.crt");
        assert!(missing.is_err_and(|e| e.to_string().contains("/nope.crt")));
    }
}
