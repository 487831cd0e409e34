-- People managed from the browser: an optional e-mail for notices, the notices switch, and a
-- session epoch that ends every session of a user when it is bumped (deactivation, a new
-- password): the cookie carries the epoch it was signed in at.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN email_notices BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

-- The audit page filters an account's events by action and by actor, newest first.
CREATE INDEX idx_audit_account_kind_created ON audit_events(account_id, kind, created_at);
CREATE INDEX idx_audit_account_actor_created ON audit_events(account_id, actor_id, created_at);
