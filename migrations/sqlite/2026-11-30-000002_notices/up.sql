-- Notices (product.md §6): a token expiring (kind 'expiry', window 7 or 1 days), reported leaked
-- ('leaked', detail: where it was found) or used from a new address ('new_ip', detail: the
-- address). The unique key is the claim: whichever pass inserts the row for (token, kind,
-- window, detail, recipient) first made the notice, on any number of instances at once; every
-- other insert fails on it and does nothing. The e-mail columns track delivery, which happens
-- only after the claim has committed.
CREATE TABLE notices (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    token_id TEXT NOT NULL REFERENCES tokens(id),
    recipient_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL DEFAULT 'expiry' CHECK (kind IN ('expiry', 'leaked', 'new_ip')),
    window_days INTEGER NOT NULL CHECK (window_days IN (0, 1, 7)),
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    -- 'none' (no e-mail due: no SMTP, no address, or e-mails off), 'pending', 'sent', 'failed'.
    email_status TEXT NOT NULL CHECK (email_status IN ('none', 'pending', 'sent', 'failed')),
    email_to TEXT,
    email_attempts INTEGER NOT NULL DEFAULT 0,
    email_next_attempt_at TIMESTAMP,
    -- A pass that takes a pending e-mail leases it until then, so two passes never send it both.
    email_leased_until TIMESTAMP,
    email_error TEXT,
    email_sent_at TIMESTAMP
);
CREATE UNIQUE INDEX idx_notices_claim ON notices(token_id, kind, window_days, detail, recipient_id);
CREATE INDEX idx_notices_recipient_created ON notices(recipient_id, created_at);
CREATE INDEX idx_notices_email_due ON notices(email_status, email_next_attempt_at);
