//! Signing in through the company's OpenID Connect provider: the authorization code flow with
//! PKCE (S256), `state` and `nonce`, by the `openidconnect` crate. Discovery happens on first
//! use (and again after a failure), so a provider that is down does not stop the server. The
//! ID token's signature, issuer, audience, expiry and nonce are verified by the crate.

use std::collections::HashMap;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, UserInfoClaims, reqwest,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::domain::sso::{RoleMap, SsoPerson};

/// The provider's settings, checked at start.
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Where the provider sends people back: `PUBLIC_URL/login/sso/callback`.
    pub redirect: String,
    pub role_claim: String,
    pub role_map: RoleMap,
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

pub struct Oidc {
    settings: OidcSettings,
    http: reqwest::Client,
    metadata: OnceCell<CoreProviderMetadata>,
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Result<Self, String> {
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
        })
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
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

    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            EndpointSet,
            EndpointNotSet,
            EndpointNotSet,
            EndpointNotSet,
            EndpointMaybeSet,
            EndpointMaybeSet,
        >,
        OidcError,
    > {
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
        // Only scopes the provider lists: some (Google) refuse an unknown one.
        for scope in ["email", "profile", "groups"] {
            if supported.iter().any(|s| s == scope) {
                request = request.add_scope(Scope::new(scope.to_owned()));
            }
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
    /// verified against `pending`'s nonce.
    pub async fn finish(&self, code: &str, pending: &Pending) -> Result<SsoPerson, OidcError> {
        let client = self.client().await?;
        let exchange = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()));
        let tokens = exchange.request_async(&self.http).await.map_err(|e| {
            use openidconnect::RequestTokenError;
            match &e {
                RequestTokenError::ServerResponse(answer) => {
                    OidcError::Refused(answer.error().to_string())
                }
                _ => OidcError::Unavailable(format!("token endpoint: {}", chain(&e))),
            }
        })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OidcError::Invalid("no ID token in the answer".into()))?;
        let verifier = client.id_token_verifier();
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| OidcError::Invalid(chain(&e)))?;
        // The role claim is the provider's own (groups, roles…): read from the verified token
        // itself, else from the user-info endpoint.
        let mut role_claim = jwt_claim(&id_token.to_string(), &self.settings.role_claim);
        if role_claim.is_none()
            && let Ok(request) = client.user_info(tokens.access_token().clone(), None)
            && let Ok(info) = request
                .request_async::<AnyClaims, _, CoreGenderClaim>(&self.http)
                .await
        {
            let info: UserInfoClaims<AnyClaims, CoreGenderClaim> = info;
            role_claim = info
                .additional_claims()
                .claims
                .get(&self.settings.role_claim)
                .cloned();
        }
        Ok(SsoPerson::from_claims(
            claims.subject().as_str(),
            claims.email().map(|e| e.as_str()),
            claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
            claims.preferred_username().map(|u| u.as_str()),
            self.settings.role_map.role_for(role_claim.as_ref()),
        ))
    }
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
