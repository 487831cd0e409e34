DROP TABLE token_activity;
DROP INDEX idx_tokens_replaced_by;
ALTER TABLE tokens DROP COLUMN replaced_by;
ALTER TABLE tokens DROP COLUMN suspended_at;
