-- Single sign-on (product.md §11): a person who signs in through the provider is matched by
-- the provider's issuer and `sub`, never by e-mail.
ALTER TABLE users ADD COLUMN sso_issuer TEXT;
ALTER TABLE users ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX idx_users_sso ON users(sso_issuer, sso_subject);
