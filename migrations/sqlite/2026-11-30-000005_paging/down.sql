CREATE INDEX idx_tokens_account_created ON tokens(account_id, created_at);
CREATE INDEX idx_tokens_issuer_created ON tokens(issuer_id, created_at);
DROP INDEX idx_tokens_account_created_id;
DROP INDEX idx_tokens_issuer_created_id;
DROP INDEX idx_tokens_account_role_created_id;
