-- Provisioning (product.md §11). `kind`: a person, or a service account (no password, never
-- signs in). SCIM keeps the provider's `externalId`, what it said of the person's names,
-- addresses and standing (`scim_document`, JSON, read back as sent), when the person last
-- changed (`updated_at`; NULL: never since creation), and `removed_at`: a SCIM delete, after
-- which the person is deactivated, gone from SCIM (404), and still on the users page.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service'));
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN scim_document TEXT;
ALTER TABLE users ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE users ADD COLUMN removed_at TIMESTAMP;
CREATE INDEX idx_users_account_external ON users(account_id, external_id);
