-- A page of the token list is read from the index alone (account or issuer, newest first, the
-- id breaking ties), so a deep page skips index entries rather than whole rows.
CREATE INDEX idx_tokens_account_created_id ON tokens(account_id, created_at, id);
CREATE INDEX idx_tokens_issuer_created_id ON tokens(issuer_id, created_at, id);
-- The role filter, the one the list offers that narrows an account most, in the same order.
CREATE INDEX idx_tokens_account_role_created_id ON tokens(account_id, role, created_at, id);
DROP INDEX idx_tokens_account_created;
DROP INDEX idx_tokens_issuer_created;
