CREATE INDEX idx_tokens_account_created_id ON tokens(account_id, created_at, id);
CREATE INDEX idx_tokens_issuer_created_id ON tokens(issuer_id, created_at, id);
CREATE INDEX idx_tokens_account_role_created_id ON tokens(account_id, role, created_at, id);
DROP INDEX idx_tokens_account_list;
DROP INDEX idx_tokens_issuer_list;
DROP INDEX idx_tokens_account_role_list;
DROP INDEX idx_tokens_account_status;
CREATE INDEX idx_tokens_account_status ON tokens(account_id, deleted_at, expires_at);
