//! Startup and the route table: opens the store, resolves the session key, binds the port, and
//! mounts `web` and `api`. The top of the graph: nothing imports it but `main` and the tests,
//! which start the same `Application` on port 0.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::web::{Data, get};
use actix_web::{App, HttpServer};
use chrono::TimeDelta;
use secrecy::ExposeSecret;

use crate::auth::TrustedProxies;
use crate::auth::scanning::ScanningKeys;
use crate::config::Settings;
use crate::domain::allowlist::IpAllowlist;
use crate::notify::{NoticeTask, Notifier};
use crate::state::AppState;
use crate::store::{DatabaseUrl, Store, StoreError, server_keys};
use crate::{metrics_page, observe, web};

pub const SESSION_COOKIE: &str = "pt_session";
const SESSION_KEY_SECRET: &str = "session_key";
/// A year: a longer interval is no re-check at all, and would not fit the clock's arithmetic.
const MAX_RECHECK_SECONDS: u64 = 366 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("SESSION_KEY {0}")]
    SessionKey(String),
    #[error(transparent)]
    Mail(#[from] crate::notify::MailError),
    #[error("TRUSTED_PROXIES: {0}")]
    TrustedProxies(String),
    #[error("SECRET_SCANNING_KEYS: {0}")]
    ScanningKeys(String),
    /// OIDC settings that are incomplete or cannot be read: one line saying which.
    #[error("{0}")]
    Sso(String),
}

/// Single sign-on from the `OIDC_*` settings: all of issuer, client id, client secret and
/// account, or none of them. The provider's refresh tokens are sealed under a key derived from
/// `session_key`.
fn sso(
    settings: &Settings,
    address: &SocketAddr,
    session_key: &Key,
) -> Result<Option<crate::state::Sso>, StartError> {
    use crate::auth::oidc::{Oidc, OidcSettings};
    use crate::auth::sealed::Sealer;
    let (issuer, id, secret, account) = (
        &settings.oidc_issuer,
        &settings.oidc_client_id,
        &settings.oidc_client_secret,
        &settings.oidc_account,
    );
    let (Some(issuer), Some(id), Some(secret), Some(account)) = (issuer, id, secret, account)
    else {
        if issuer.is_some() || id.is_some() || secret.is_some() || account.is_some() {
            return Err(StartError::Sso(
                "OIDC: set all of OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and \
                 OIDC_ACCOUNT, or none"
                    .into(),
            ));
        }
        return Ok(None);
    };
    let role_map =
        crate::domain::sso::RoleMap::parse(&settings.oidc_role_map).map_err(StartError::Sso)?;
    if settings.oidc_recheck > MAX_RECHECK_SECONDS {
        return Err(StartError::Sso(format!(
            "OIDC_RECHECK: at most {MAX_RECHECK_SECONDS} seconds (a year); 0 turns the re-check off"
        )));
    }
    let account = crate::domain::AccountName::parse(account)
        .map_err(|e| StartError::Sso(format!("OIDC_ACCOUNT: {}", e.message)))?;
    let public = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let oidc = Oidc::new(
        OidcSettings {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: id.clone(),
            client_secret: secret.clone(),
            redirect: format!("{}/login/sso/callback", public.trim_end_matches('/')),
            role_claim: settings.oidc_role_claim.clone(),
            role_map,
            offline: settings.oidc_recheck > 0,
        },
        Sealer::new(session_key.master(), crate::auth::oidc::REFRESH_SEAL),
    )
    .map_err(StartError::Sso)?;
    Ok(Some(crate::state::Sso {
        oidc,
        account,
        only: settings.oidc_only,
    }))
}

pub struct Application {
    address: SocketAddr,
    server: Server,
    state: Data<AppState>,
    metrics: Option<(SocketAddr, ServerHandle)>,
    notices: Option<NoticeTask>,
}

/// `/metrics` alone on an address of its own, one worker: scrapes are rare and small.
fn metrics_server(
    bind: &str,
    state: &Data<AppState>,
) -> Result<(SocketAddr, ServerHandle), StartError> {
    let bind_error = |source| StartError::Bind {
        address: bind.to_owned(),
        source,
    };
    let listener = TcpListener::bind(bind).map_err(bind_error)?;
    let address = listener.local_addr().map_err(bind_error)?;
    let state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", get().to(metrics_page::metrics_page))
    })
    .workers(1)
    .shutdown_timeout(1)
    // Its own signal handling would stop the whole actix System after its one-second drain,
    // cutting the main server's drain short; `run_until_stopped` stops it instead.
    .disable_signals()
    .listen(listener)
    .map_err(bind_error)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok((address, handle))
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        // Settings that cannot be read stop the start before anything is opened or bound.
        sso(
            &settings,
            &SocketAddr::from(([127, 0, 0, 1], 0)),
            &Key::generate(),
        )?;
        let notifier = Notifier::from_settings(&settings)?;
        let trusted_proxies = IpAllowlist::parse(&settings.trusted_proxies)
            .map(TrustedProxies)
            .map_err(|e| StartError::TrustedProxies(e.message))?;
        let scanning_keys = settings
            .secret_scanning_keys
            .as_deref()
            .map(ScanningKeys::load)
            .transpose()
            .map_err(|e| StartError::ScanningKeys(e.to_string()))?;
        let url = DatabaseUrl::parse(&settings.database_url)?;
        let pool_size = settings.pool_size.max(1);
        let store = {
            let url = url.clone();
            tokio::task::spawn_blocking(move || Store::open(&url, pool_size))
                .await
                .map_err(StoreError::from)??
        };
        tracing::info!(backend = url.backend_name(), database = %url.redacted(), "database ready");
        let session_key = session_key(&settings, &store).await?;

        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartError::Bind {
            address: settings.bind.clone(),
            source,
        })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: settings.bind.clone(),
            source,
        })?;

        let sso = sso(&settings, &address, &session_key)?;
        let state = Data::new(
            AppState::new(store, notifier, scanning_keys)
                .with_public_url(settings.public_url.clone())
                .with_sso(sso),
        );
        let notices = (settings.notice_interval > 0).then(|| {
            let interval = Duration::from_secs(settings.notice_interval);
            let (notifier, store) = (state.notifier.clone(), state.store.clone());
            notifier.spawn(store, state.clock.clone(), interval)
        });
        if settings.oidc_recheck > 0 {
            spawn_sso_recheck(&state, settings.oidc_recheck);
        }
        let flusher = state.clone();
        let every = Duration::from_millis(settings.activity_flush_ms.max(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                flusher.flush_activity().await;
            }
        });
        let secure = settings.secure_cookies;
        let metrics_here = settings.metrics && settings.metrics_bind.is_none();
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            let session =
                SessionMiddleware::builder(CookieSessionStore::default(), session_key.clone())
                    .cookie_name(SESSION_COOKIE.to_owned())
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_secure(secure)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .session_lifecycle(BrowserSession::default())
                    .build();
            // The API authenticates by bearer token only: no session, no setup redirect, so
            // its requests skip both middlewares.
            App::new()
                .app_data(app_state.clone())
                .app_data(trusted_proxies.clone())
                .app_data(web::forms::form_config())
                .configure(|cfg| {
                    if metrics_here {
                        cfg.route("/metrics", get().to(metrics_page::metrics_page));
                    }
                })
                .configure(crate::api::routes)
                .configure(web::probes)
                .service(
                    actix_web::web::scope("")
                        .configure(web::routes)
                        .wrap(from_fn(web::first_run::lead_to_setup))
                        .wrap(session),
                )
                .wrap(web::headers::security_headers())
                .wrap(from_fn(observe::observe))
        })
        .shutdown_timeout(settings.shutdown_timeout)
        .listen(listener)
        .map_err(|source| StartError::Bind {
            address: settings.bind.clone(),
            source,
        })?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        let metrics = match &settings.metrics_bind {
            Some(bind) => Some(metrics_server(bind, &state)?),
            None => None,
        };
        Ok(Self {
            address,
            server: server.run(),
            state,
            metrics,
            notices,
        })
    }

    /// Where `/metrics` has its own listener (`METRICS_BIND`), if it has one.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(address, _)| *address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The app's one clock; tests move it forward instead of sleeping.
    pub fn clock(&self) -> std::sync::Arc<crate::domain::time::Clock> {
        self.state.clock.clone()
    }

    /// Serves until the server stops (a signal, or its handle). SIGTERM drains: no new
    /// connections, requests in flight are answered (for up to `SHUTDOWN_TIMEOUT`), a notice
    /// pass under way finishes, and the request counts still in memory are stored.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        tracing::info!("stopped accepting; finishing background work");
        if let Some((_, handle)) = self.metrics {
            handle.stop(true).await;
        }
        if let Some(notices) = self.notices {
            notices.stop().await;
        }
        self.state.flush_activity().await;
        tracing::info!("stopped");
        served
    }
}

/// The SSO re-check in this instance: it looks for people due at least once a minute (more
/// often when the interval is shorter), and the database decides which instance asks about whom.
fn spawn_sso_recheck(state: &Data<AppState>, every_seconds: u64) {
    let Some(sso) = state.sso.clone() else {
        return;
    };
    let (store, clock) = (state.store.clone(), state.clock.clone());
    let email_enabled = state.notifier.email_enabled();
    // At most a year, checked at start.
    let every = TimeDelta::seconds(every_seconds.min(MAX_RECHECK_SECONDS) as i64);
    let look = Duration::from_secs(every_seconds.min(60));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(look).await;
            let pass =
                crate::auth::sso_recheck::pass(&store, &sso.oidc, every, email_enabled, &clock);
            match pass.await {
                Ok(report) if report == Default::default() => {}
                Ok(report) => tracing::info!(?report, "SSO re-check pass"),
                Err(error) => tracing::warn!(%error, "SSO re-check pass stopped"),
            }
        }
    });
}

async fn session_key(settings: &Settings, store: &Store) -> Result<Key, StartError> {
    let hex = match &settings.session_key {
        Some(configured) => configured.expose_secret().trim().to_owned(),
        None => {
            store
                .run(|conn| {
                    server_keys::get_or_create(
                        conn,
                        SESSION_KEY_SECRET,
                        || to_hex(Key::generate().master()),
                        crate::domain::time::now(),
                    )
                })
                .await?
        }
    };
    let bytes =
        from_hex(&hex).ok_or_else(|| StartError::SessionKey("must be hexadecimal".into()))?;
    Key::try_from(bytes.as_slice())
        .map_err(|_| StartError::SessionKey("must be at least 64 bytes (128 hex digits)".into()))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}
