DELETE FROM notices WHERE token_id IS NULL;
CREATE TABLE notices_old (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    token_id TEXT NOT NULL REFERENCES tokens(id),
    recipient_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL DEFAULT 'expiry' CHECK (kind IN ('expiry', 'leaked', 'new_ip')),
    window_days INTEGER NOT NULL CHECK (window_days IN (0, 1, 7)),
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    email_status TEXT NOT NULL CHECK (email_status IN ('none', 'pending', 'sent', 'failed')),
    email_to TEXT,
    email_attempts INTEGER NOT NULL DEFAULT 0,
    email_next_attempt_at TIMESTAMP,
    email_leased_until TIMESTAMP,
    email_error TEXT,
    email_sent_at TIMESTAMP
);
INSERT INTO notices_old SELECT id, account_id, token_id, recipient_id, kind, window_days, detail,
    created_at, read_at, email_status, email_to, email_attempts, email_next_attempt_at,
    email_leased_until, email_error, email_sent_at FROM notices;
DROP TABLE notices;
ALTER TABLE notices_old RENAME TO notices;
CREATE UNIQUE INDEX idx_notices_claim ON notices(token_id, kind, window_days, detail, recipient_id);
CREATE INDEX idx_notices_recipient_created ON notices(recipient_id, created_at);
CREATE INDEX idx_notices_email_due ON notices(email_status, email_next_attempt_at);
