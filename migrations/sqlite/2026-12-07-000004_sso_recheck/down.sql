ALTER TABLE users DROP COLUMN sso_vouched_at;
ALTER TABLE users DROP COLUMN sso_checked_at;
ALTER TABLE users DROP COLUMN sso_refresh;
