CREATE TABLE notices_new (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    token_id TEXT REFERENCES tokens(id),
    recipient_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL DEFAULT 'expiry' CHECK (kind IN ('expiry', 'leaked', 'new_ip', 'user_deactivated')),
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
    email_sent_at TIMESTAMP,
    subject_id TEXT REFERENCES users(id),
    -- A notice is about a token or about a person.
    CHECK ((token_id IS NULL) <> (subject_id IS NULL))
);
INSERT INTO notices_new (id, account_id, token_id, recipient_id, kind, window_days, detail,
    created_at, read_at, email_status, email_to, email_attempts, email_next_attempt_at,
    email_leased_until, email_error, email_sent_at, subject_id)
SELECT id, account_id, token_id, recipient_id, kind, window_days, detail, created_at, read_at,
    email_status, email_to, email_attempts, email_next_attempt_at, email_leased_until,
    email_error, email_sent_at, subject_id
FROM notices WHERE kind <> 'user_revocation_held';
DROP TABLE notices;
ALTER TABLE notices_new RENAME TO notices;
CREATE UNIQUE INDEX idx_notices_claim ON notices(token_id, kind, window_days, detail, recipient_id);
CREATE INDEX idx_notices_recipient_created ON notices(recipient_id, created_at);
CREATE INDEX idx_notices_email_due ON notices(email_status, email_next_attempt_at);
