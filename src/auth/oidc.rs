//! Signing in through the company's OpenID Connect provider: the authorization code flow with
//! PKCE (S256), `state` and `nonce`, by the `openidconnect` crate. Discovery happens on first
//! use (and again after a failure), so a provider that is down does not stop the server. The
//! ID token's signature, issuer, audience, expiry and nonce are verified by the crate. The
//! provider's refresh token is kept sealed (`Sealer`) and used by the re-check to ask whether the
//! person still stands (`Oidc::recheck`).

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreGenderClaim,
    CoreProviderMetadata,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    SubjectIdentifier, TokenResponse, UserInfoClaims, UserInfoError, reqwest,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::sealed::Sealer;
use crate::domain::Role;
use crate::domain::sso::{RoleMap, SsoPerson};

/// What the key that seals the provider's refresh tokens is derived from the session key for.
pub const REFRESH_SEAL: &str = "sso refresh token";

/// The provider's settings, checked at start.
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Where the provider sends people back: `PUBLIC_URL/login/sso/callback`.
    pub redirect: String,
    pub role_claim: String,
    pub role_map: RoleMap,
    /// The re-check is on: ask for `offline_access` and keep the refresh token. Off, neither
    /// (some providers refuse `offline_access` to people without an offline role).
    pub offline: bool,
}

/// Why a sign-in through the provider failed, in words for the person and the log (no secret in
/// either).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached, or answered something that is not OpenID Connect.
    #[error("the identity provider is not answering as it should: {0}")]
    Unavailable(String),
    /// The provider refused (an error in the redirect, a code it no longer honours).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The ID token failed verification (signature, issuer, audience, expiry, nonce).
    #[error("the identity provider's answer did not verify: {0}")]
    Invalid(String),
}

/// What a sign-in keeps between the redirect to the provider and the way back: in the
/// encrypted session cookie, once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Every claim of a user-info answer, to read the configured role claim from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AnyClaims {
    #[serde(flatten)]
    claims: HashMap<String, Value>,
}

impl AdditionalClaims for AnyClaims {}

/// A finished sign-in: the person, and the provider's refresh token, sealed, when it gave one.
pub struct Finished {
    pub person: SsoPerson,
    pub sealed_refresh: Option<String>,
}

/// What the provider says of a person at a re-check.
#[derive(Debug)]
pub enum Standing {
    /// The grant is gone (`invalid_grant`) or user-info refuses the person's fresh access token
    /// (401): they are no longer someone the provider vouches for.
    Revoked(&'static str),
    /// Still vouched for. `role` is what their groups map to now, when the provider said.
    Current { role: Option<Role> },
    /// The stored token does not open here (another session key, another client): nothing can
    /// be asked with it.
    Unreadable,
}

/// A re-check's outcome, and the refresh token the provider rotated to (sealed), which must be
/// kept whatever came after it: the old one is spent.
#[derive(Debug)]
pub struct Answer {
    pub standing: Result<Standing, OidcError>,
    pub rotated: Option<String>,
}

impl Answer {
    fn of(standing: Result<Standing, OidcError>) -> Self {
        Self {
            standing,
            rotated: None,
        }
    }
}

/// The client as discovery leaves it: authorization endpoint set, token and user-info endpoints
/// where the provider has them.
type ConfiguredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub struct Oidc {
    settings: OidcSettings,
    http: reqwest::Client,
    metadata: OnceCell<CoreProviderMetadata>,
    sealer: Sealer,
}

impl Oidc {
    pub fn new(settings: OidcSettings, sealer: Sealer) -> Result<Self, String> {
        IssuerUrl::new(settings.issuer.clone())
            .map_err(|e| format!("OIDC_ISSUER `{}` is not a URL: {e}", settings.issuer))?;
        RedirectUrl::new(settings.redirect.clone())
            .map_err(|e| format!("the SSO callback `{}` is not a URL: {e}", settings.redirect))?;
        let http = reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send us anywhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client for OIDC: {e}"))?;
        Ok(Self {
            settings,
            http,
            metadata: OnceCell::new(),
            sealer,
        })
    }

    /// A refresh token belongs to one person, at one provider, for one client: sealed for them
    /// alone. Under another client id it does not open, rather than come back `invalid_grant`.
    fn bound_to(&self, subject: &str) -> String {
        format!(
            "{}\n{}\n{subject}",
            self.settings.issuer, self.settings.client_id
        )
    }

    /// A refresh token to keep, sealed for `subject`: none while the re-check is off, which
    /// has no use for it.
    fn seal_refresh(&self, refresh: &RefreshToken, subject: &str) -> Option<String> {
        self.settings
            .offline
            .then(|| self.sealer.seal(refresh.secret(), &self.bound_to(subject)))
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// Whether roles follow the provider's groups (`OIDC_ROLE_MAP` is set).
    pub fn decides_roles(&self) -> bool {
        self.settings.role_map.decides_roles()
    }

    async fn metadata(&self) -> Result<&CoreProviderMetadata, OidcError> {
        self.metadata
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.settings.issuer.clone())
                    .map_err(|e| OidcError::Unavailable(e.to_string()))?;
                CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| OidcError::Unavailable(format!("discovery: {}", chain(&e))))
            })
            .await
    }

    async fn client(&self) -> Result<ConfiguredClient, OidcError> {
        let metadata = self.metadata().await?.clone();
        let redirect = RedirectUrl::new(self.settings.redirect.clone())
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(redirect))
    }

    /// Where to send the person, and what to keep until they come back.
    pub async fn begin(&self) -> Result<(String, Pending), OidcError> {
        let supported: Vec<String> = self
            .metadata()
            .await?
            .scopes_supported()
            .map(|scopes| scopes.iter().map(|s| s.as_str().to_owned()).collect())
            .unwrap_or_default();
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        // Only scopes the provider lists: some (Google) refuse an unknown one. `offline_access`
        // asks for the refresh token the re-check uses.
        let offline = self.settings.offline.then_some("offline_access");
        for scope in ["email", "profile", "groups"].into_iter().chain(offline) {
            if supported.iter().any(|s| s == scope) {
                request = request.add_scope(Scope::new(scope.to_owned()));
            }
        }
        // Google lists no `offline_access` and gives a refresh token for this parameter instead.
        if self.settings.offline && self.settings.issuer == "https://accounts.google.com" {
            request = request.add_extra_param("access_type", "offline");
        }
        let (url, state, nonce) = request.url();
        Ok((
            url.to_string(),
            Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
            },
        ))
    }

    /// The person the provider vouches for, after the code was exchanged and the ID token
    /// verified against `pending`'s nonce, and its expiry against the app's clock `now`.
    pub async fn finish(
        &self,
        code: &str,
        pending: &Pending,
        now: NaiveDateTime,
    ) -> Result<Finished, OidcError> {
        let client = self.client().await?;
        let exchange = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()));
        let tokens = exchange
            .request_async(&self.http)
            .await
            .map_err(|e| match &e {
                RequestTokenError::ServerResponse(answer) => {
                    OidcError::Refused(answer.error().to_string())
                }
                _ => OidcError::Unavailable(format!("token endpoint: {}", chain(&e))),
            })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OidcError::Invalid("no ID token in the answer".into()))?;
        let verifier = client
            .id_token_verifier()
            .set_time_fn(move || now.and_utc());
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| OidcError::Invalid(chain(&e)))?;
        // The role claim is the provider's own (groups, roles…): read from the verified token
        // itself, else from the user-info endpoint.
        let mut role_claim = jwt_claim(&id_token.to_string(), &self.settings.role_claim);
        if role_claim.is_none()
            && let Ok(Some(info)) = self
                .user_info(&client, tokens.access_token(), claims.subject())
                .await
        {
            role_claim = info.get(&self.settings.role_claim).cloned();
        }
        let person = SsoPerson::from_claims(
            claims.subject().as_str(),
            claims.email().map(|e| e.as_str()),
            claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
            claims.preferred_username().map(|u| u.as_str()),
            self.settings.role_map.role_from(role_claim.as_ref()),
        );
        let sealed_refresh = tokens
            .refresh_token()
            .and_then(|refresh| self.seal_refresh(refresh, &person.subject));
        Ok(Finished {
            person,
            sealed_refresh,
        })
    }

    /// Asks the provider whether `subject` still stands, with their sealed refresh token: a
    /// refresh grant, then user-info with the fresh access token. Only the provider's own "no"
    /// (`invalid_grant`, or user-info answering 401) is `Revoked`; a provider that is down or
    /// refuses us (a wrong client secret) is an error, and nobody is deactivated for it.
    pub async fn recheck(&self, subject: &str, sealed: &str, now: NaiveDateTime) -> Answer {
        let Some(refresh) = self.sealer.open(sealed, &self.bound_to(subject)) else {
            return Answer::of(Ok(Standing::Unreadable));
        };
        let client = match self.client().await {
            Ok(client) => client,
            Err(error) => return Answer::of(Err(error)),
        };
        let refresh = RefreshToken::new(refresh.expose_secret().to_owned());
        let request = match client.exchange_refresh_token(&refresh) {
            Ok(request) => request,
            Err(e) => {
                let why = format!("no token endpoint: {e}");
                return Answer::of(Err(OidcError::Unavailable(why)));
            }
        };
        let tokens = match request.request_async(&self.http).await {
            Ok(tokens) => tokens,
            Err(RequestTokenError::ServerResponse(answer))
                if *answer.error() == CoreErrorResponseType::InvalidGrant =>
            {
                return Answer::of(Ok(Standing::Revoked(
                    "the provider no longer honours their grant (invalid_grant)",
                )));
            }
            Err(RequestTokenError::ServerResponse(answer)) => {
                return Answer::of(Err(OidcError::Refused(answer.error().to_string())));
            }
            Err(e) => {
                let why = format!("token endpoint: {}", chain(&e));
                return Answer::of(Err(OidcError::Unavailable(why)));
            }
        };
        let subject = SubjectIdentifier::new(subject.to_owned());
        let rotated = tokens
            .refresh_token()
            .filter(|rotated| rotated.secret() != refresh.secret())
            .and_then(|rotated| self.seal_refresh(rotated, subject.as_str()));
        let info = match self
            .user_info(&client, tokens.access_token(), &subject)
            .await
        {
            Ok(info) => info,
            Err(UserInfoRefusal::Refused) => {
                return Answer {
                    standing: Ok(Standing::Revoked(
                        "the provider's user-info refuses them (401)",
                    )),
                    rotated,
                };
            }
            Err(UserInfoRefusal::Failed(why)) => {
                return Answer {
                    standing: Err(OidcError::Unavailable(why)),
                    rotated,
                };
            }
        };
        // The groups as the provider says them now: in a refreshed ID token (Entra and Okta put
        // them there), else in user-info. Said nowhere, the role is left as it is.
        let from_id_token = tokens.id_token().and_then(|id_token| {
            let verifier = client
                .id_token_verifier()
                .set_time_fn(move || now.and_utc());
            // A refreshed ID token carries no nonce of ours (OpenID Connect Core 12.2).
            let claims = id_token
                .claims(&verifier, |_: Option<&Nonce>| Ok(()))
                .ok()?;
            (claims.subject() == &subject)
                .then(|| jwt_claim(&id_token.to_string(), &self.settings.role_claim))
                .flatten()
        });
        let role_claim = from_id_token
            .or_else(|| info.and_then(|info| info.get(&self.settings.role_claim).cloned()));
        let role = role_claim.and_then(|claim| self.settings.role_map.role_from(Some(&claim)));
        Answer {
            standing: Ok(Standing::Current { role }),
            rotated,
        }
    }

    /// The user-info claims for `subject`, or `None` where the provider has no user-info
    /// endpoint.
    async fn user_info(
        &self,
        client: &ConfiguredClient,
        access_token: &AccessToken,
        subject: &SubjectIdentifier,
    ) -> Result<Option<HashMap<String, Value>>, UserInfoRefusal> {
        let Ok(request) = client.user_info(access_token.clone(), Some(subject.clone())) else {
            return Ok(None);
        };
        match request
            .request_async::<AnyClaims, _, CoreGenderClaim>(&self.http)
            .await
        {
            Ok(info) => {
                let info: UserInfoClaims<AnyClaims, CoreGenderClaim> = info;
                Ok(Some(info.additional_claims().claims.clone()))
            }
            Err(UserInfoError::Response(status, _, _)) if status == 401 || status == 403 => {
                Err(UserInfoRefusal::Refused)
            }
            Err(e) => Err(UserInfoRefusal::Failed(format!("user-info: {}", chain(&e)))),
        }
    }
}

/// Why user-info gave no claims.
enum UserInfoRefusal {
    /// 401: the provider's "no".
    Refused,
    Failed(String),
}

/// One claim of a JWT's payload. Only for a token already verified.
fn jwt_claim(jwt: &str, name: &str) -> Option<Value> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: HashMap<String, Value> = serde_json::from_slice(&bytes).ok()?;
    claims.get(name).cloned()
}

/// An error and its causes on one line, for the log and the page.
fn chain(error: &dyn std::error::Error) -> String {
    let mut words = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        words.push_str(": ");
        words.push_str(&inner.to_string());
        cause = inner.source();
    }
    words
}
