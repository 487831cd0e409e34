DROP INDEX idx_users_account_external;
ALTER TABLE users DROP COLUMN removed_at;
ALTER TABLE users DROP COLUMN updated_at;
ALTER TABLE users DROP COLUMN scim_document;
ALTER TABLE users DROP COLUMN external_id;
ALTER TABLE users DROP COLUMN kind;
