//! Reading `Authorization: Bearer <token>` (or Gcore's `APIKey <token>`) into a token digest. Shape and checksum are checked
//! here, before any database work, so a mistyped token costs nothing; the presented token is
//! hashed at once and never reaches a log. The extractor that looks the digest up and answers
//! with the API's errors is `api::caller`. May import `domain` and actix's request types, never
//! `web`, `api` or `app`.

use actix_web::http::header::{AUTHORIZATION, HeaderMap};

use crate::domain::secret::{self, TokenDigest, TokenFormatError};

/// Why a request carries no usable bearer credential. Each message says what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    Missing,
    Unreadable,
    NoCredentials,
    WrongScheme,
    NotAToken,
    Checksum,
}

impl BearerError {
    /// What the client should fix, for the error body.
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "Send the token as `Authorization: Bearer <token>`.",
            Self::Unreadable => "The Authorization header is not readable text.",
            Self::NoCredentials => "The Authorization header must be `Bearer <token>`.",
            Self::WrongScheme => "The Authorization scheme must be Bearer (or APIKey).",
            Self::NotAToken => "The token is not a personal token (ptk_…).",
            Self::Checksum => "The token's checksum does not match: it was mistyped or cut short.",
        }
    }
}

impl std::fmt::Display for BearerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for BearerError {}

/// The digest of the well-formed token in the request's `Authorization` header.
pub fn presented_digest(headers: &HeaderMap) -> Result<TokenDigest, BearerError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or(BearerError::Missing)?
        .to_str()
        .map_err(|_| BearerError::Unreadable)?;
    let (scheme, credentials) = value.split_once(' ').ok_or(BearerError::NoCredentials)?;
    // `APIKey` as well, for clients written for Gcore's scheme (`Authorization: APIKey <token>`).
    if !scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("apikey") {
        return Err(BearerError::WrongScheme);
    }
    let credentials = credentials.trim();
    secret::check_format(credentials).map_err(|error| match error {
        TokenFormatError::Shape => BearerError::NotAToken,
        TokenFormatError::Checksum => BearerError::Checksum,
    })?;
    Ok(TokenDigest::of(credentials))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn refuses_what_is_not_a_bearer_token() {
        let refusal = |map: &HeaderMap| presented_digest(map).err();
        assert_eq!(refusal(&HeaderMap::new()), Some(BearerError::Missing));
        assert_eq!(
            refusal(&headers("Basic abc")),
            Some(BearerError::WrongScheme)
        );
        assert_eq!(
            refusal(&headers("Bearer")),
            Some(BearerError::NoCredentials)
        );
        assert_eq!(
            refusal(&headers("Bearer ghp_abc")),
            Some(BearerError::NotAToken)
        );
    }

    #[test]
    fn takes_the_bearer_and_apikey_schemes_alike() {
        let token = crate::domain::secret::PlainToken::generate();
        let digest =
            |scheme: &str| presented_digest(&headers(&format!("{scheme} {}", token.expose())));
        assert_eq!(digest("Bearer").unwrap(), token.digest());
        assert_eq!(digest("APIKey").unwrap(), token.digest());
        assert_eq!(digest("apikey").unwrap(), token.digest());
        assert_eq!(digest("Token").unwrap_err(), BearerError::WrongScheme);
    }
}
