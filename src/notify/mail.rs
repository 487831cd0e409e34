//! Sending notice e-mails over SMTP (lettre). `SMTP_URL` is parsed once at start, so a typo
//! stops the server with the reason instead of failing at the first notice.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{SmtpTransport, Transport};
use percent_encoding::percent_decode_str;
use secrecy::ExposeSecret;

/// How long one SMTP conversation may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailError(pub(super) String);

/// A configured SMTP transport with its From address.
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    /// The domain of Message-IDs (the public host).
    id_domain: String,
}

impl Mailer {
    /// `smtp://[user:pass@]host[:port]` (STARTTLS when the server offers it, port 25 by default)
    /// or `smtps://…` (TLS from the first byte, port 465 by default).
    pub fn new(
        smtp_url: &secrecy::SecretString,
        mail_from: &str,
        id_domain: &str,
    ) -> Result<Self, MailError> {
        let bad = |why: &str| MailError(format!("SMTP_URL {why}"));
        let url = url::Url::parse(smtp_url.expose_secret())
            .map_err(|e| bad(&format!("cannot be parsed: {e}")))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("has no host"))?
            .to_owned();
        let tls_parameters =
            || TlsParameters::new(host.clone()).map_err(|e| bad(&format!("TLS: {e}")));
        let (tls, default_port) = match url.scheme() {
            "smtp" => (Tls::Opportunistic(tls_parameters()?), 25),
            "smtps" => (Tls::Wrapper(tls_parameters()?), 465),
            other => return Err(bad(&format!("scheme `{other}:` is not smtp: or smtps:"))),
        };
        let mut builder = SmtpTransport::builder_dangerous(&host)
            .port(url.port().unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if !url.username().is_empty() {
            let decode = |raw: &str| percent_decode_str(raw).decode_utf8_lossy().into_owned();
            builder = builder.credentials(Credentials::new(
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            ));
        }
        let from = mail_from
            .parse::<Mailbox>()
            .map_err(|e| MailError(format!("MAIL_FROM `{mail_from}` is not an address: {e}")))?;
        Ok(Self {
            transport: builder.build(),
            from,
            id_domain: id_domain.to_owned(),
        })
    }

    /// Sends one plain-text message. `message_key` makes the Message-ID, the same for every
    /// attempt at the same notice, so a receiving system can drop a repeat.
    pub fn send(
        &self,
        to: &str,
        subject: &str,
        body: String,
        message_key: &str,
    ) -> Result<(), MailError> {
        let to = to
            .parse::<Mailbox>()
            .map_err(|e| MailError(format!("address {to:?}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{message_key}@{}>", self.id_domain)))
            .date_now()
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError(format!("message: {e}")))?;
        self.transport
            .send(&message)
            .map(drop)
            .map_err(|e| MailError(e.to_string()))
    }
}
