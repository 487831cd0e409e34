DROP INDEX idx_audit_account_actor_created;
DROP INDEX idx_audit_account_kind_created;
ALTER TABLE users DROP COLUMN session_epoch;
ALTER TABLE users DROP COLUMN email_notices;
ALTER TABLE users DROP COLUMN email;
