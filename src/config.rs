//! Typed settings: environment variables, with command-line flags over them (clap does both).

use clap::{ArgAction, Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::domain::Role;

#[derive(Debug, Parser)]
#[command(
    name = "personal-tokens",
    version,
    about = "The Personal Tokens dashboard and API"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// A file path or sqlite://PATH for SQLite, postgres://… for Postgres.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "personal-tokens.db",
        global = true
    )]
    pub database_url: String,

    /// Address and port the dashboard listens on.
    #[arg(
        long = "bind",
        env = "BIND_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Key that signs and encrypts session cookies: at least 64 bytes as hex. When absent, one
    /// is generated once and kept in the database, so restarts do not sign anyone out.
    #[arg(long, env = "SESSION_KEY", hide_env_values = true, global = true)]
    pub session_key: Option<SecretString>,

    /// Mark cookies Secure (set this when the dashboard is served over HTTPS).
    #[arg(long, env = "SECURE_COOKIES", default_value = "false", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub secure_cookies: bool,

    /// Largest number of database connections this instance opens.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 8, global = true)]
    pub pool_size: u32,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS", global = true)]
    pub workers: Option<usize>,

    /// SMTP server for expiry notices: smtp://[user:pass@]host:port (STARTTLS when offered) or
    /// smtps://… (TLS from the start). Unset: notices are in the app only.
    #[arg(long, env = "SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<SecretString>,

    /// The From address of notice e-mails (default: personal-tokens@ the PUBLIC_URL host).
    #[arg(long, env = "MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

    /// The address people open the dashboard at, for links in e-mails (default: http://BIND_ADDR).
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR ranges,
    /// comma-separated (default: none, the TCP peer is the client).
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: String,

    /// A file of public keys for GitHub secret-scanning reports, in the JSON shape GitHub
    /// publishes them in. Unset: POST /api/v1/secret-scanning answers 404.
    #[arg(long, env = "SECRET_SCANNING_KEYS", global = true)]
    pub secret_scanning_keys: Option<std::path::PathBuf>,

    /// Milliseconds between writes of the API's request counts (per token and day) from memory
    /// to the database; a crash loses at most this much counting.
    #[arg(long, env = "ACTIVITY_FLUSH_MS", default_value_t = 5000, global = true)]
    pub activity_flush_ms: u64,

    /// Seconds between notice passes inside the server; 0 turns them off (run
    /// `personal-tokens notify` from cron instead).
    #[arg(long, env = "NOTICE_INTERVAL", default_value_t = 300, global = true)]
    pub notice_interval: u64,

    /// Serve `GET /metrics` (Prometheus text format) on the main port.
    #[arg(long, env = "METRICS", default_value = "false", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub metrics: bool,

    /// Serve `GET /metrics` on this address of its own (e.g. 127.0.0.1:9100) instead, so it
    /// need not be reachable where the dashboard is.
    #[arg(long, env = "METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,

    /// `text` (for people) or `json` (one object per line, for a log collector).
    #[arg(
        long,
        env = "LOG_FORMAT",
        default_value = "text",
        value_enum,
        global = true
    )]
    pub log_format: LogFormat,

    /// Seconds a stopping server (SIGTERM) gives requests in flight before it closes them.
    #[arg(long, env = "SHUTDOWN_TIMEOUT", default_value_t = 30, global = true)]
    pub shutdown_timeout: u64,

    /// The OpenID Connect provider people sign in through (its issuer URL; discovery reads
    /// ISSUER/.well-known/openid-configuration). Unset: no single sign-on.
    #[arg(long, env = "OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,

    /// This app's client id at the provider.
    #[arg(long, env = "OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// This app's client secret at the provider.
    #[arg(
        long,
        env = "OIDC_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub oidc_client_secret: Option<SecretString>,

    /// The account people who sign in through the provider belong to (made when new).
    #[arg(long, env = "OIDC_ACCOUNT", global = true)]
    pub oidc_account: Option<String>,

    /// The claim that lists a person's groups.
    #[arg(long, env = "OIDC_ROLE_CLAIM", default_value = "groups", global = true)]
    pub oidc_role_claim: String,

    /// Groups to roles, e.g. `pt-admins=admin,pt-engineers=engineer`; no match: read_only.
    #[arg(long, env = "OIDC_ROLE_MAP", default_value = "", global = true)]
    pub oidc_role_map: String,

    /// Turn password sign-in off for everyone but administrators who have a password.
    #[arg(long, env = "OIDC_ONLY", default_value = "false", action = ArgAction::Set,
          global = true)]
    pub oidc_only: bool,

    /// Seconds between re-checks of each SSO person at the provider (their refresh token); a
    /// person the provider revoked is deactivated. 0: no re-check.
    #[arg(long, env = "OIDC_RECHECK", default_value_t = 3600, global = true)]
    pub oidc_recheck: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Settings {
    /// Defaults for a given database, as tests and embedders start the app.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: "127.0.0.1:8080".into(),
            session_key: None,
            secure_cookies: false,
            pool_size: 8,
            workers: None,
            smtp_url: None,
            mail_from: None,
            public_url: None,
            trusted_proxies: String::new(),
            secret_scanning_keys: None,
            activity_flush_ms: 5000,
            notice_interval: 300,
            metrics: false,
            metrics_bind: None,
            log_format: LogFormat::Text,
            shutdown_timeout: 30,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_account: None,
            oidc_role_claim: "groups".into(),
            oidc_role_map: String::new(),
            oidc_only: false,
            oidc_recheck: 3600,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard and the API (the default).
    Serve,
    /// Run one expiry-notice pass (for cron) and print what it did.
    Notify,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user, creating the account if it is new. The password is read from standard input.
    Add {
        #[arg(long)]
        account: String,
        #[arg(long)]
        username: String,
        /// Shown in the header and the token list (default: the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Where expiry notices go (optional).
        #[arg(long)]
        email: Option<String>,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// `person`, or `service`: a service account, with no password and no e-mail, that never
        /// signs in; administrators make its tokens.
        #[arg(long, default_value = "person", value_parser = ["person", "service"])]
        kind: String,
        /// Read the password from standard input (required for a person: passwords never go on
        /// the command line).
        #[arg(long)]
        password_stdin: bool,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw)
        .ok_or_else(|| format!("unknown role `{raw}`: use admin, engineer or read_only"))
}
