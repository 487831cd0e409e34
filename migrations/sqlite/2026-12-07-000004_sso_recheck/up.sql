-- The re-check of SSO people (product.md §11): the provider's refresh token, sealed with a key
-- derived from the server's session key (AES-256-GCM; never stored in clear); when an instance
-- last claimed the person's check, which is how each person is checked once across every
-- instance; and when the provider last vouched for them (a sign-in, or a check it answered).
ALTER TABLE users ADD COLUMN sso_refresh TEXT;
ALTER TABLE users ADD COLUMN sso_checked_at TIMESTAMP;
ALTER TABLE users ADD COLUMN sso_vouched_at TIMESTAMP;
