-- A token's story: suspension, the link from a secret being rotated out to the token that
-- replaced it (deleting the new one ends both), and requests per token and day. Counts are
-- added in batches from memory, never one write per request.
ALTER TABLE tokens ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE tokens ADD COLUMN replaced_by TEXT;
CREATE INDEX idx_tokens_replaced_by ON tokens(replaced_by);

CREATE TABLE token_activity (
    token_id TEXT NOT NULL REFERENCES tokens(id),
    day DATE NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (token_id, day)
);
