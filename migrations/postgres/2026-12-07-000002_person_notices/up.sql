-- Notices about a person rather than a token (product.md §11): someone deactivated by SCIM,
-- which the account's administrators hear of. `token_id` becomes optional and `subject_id`
-- names the person.
ALTER TABLE notices ALTER COLUMN token_id DROP NOT NULL;
ALTER TABLE notices ADD COLUMN subject_id TEXT REFERENCES users(id);
ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check
    CHECK (kind IN ('expiry', 'leaked', 'new_ip', 'user_deactivated'));
-- A notice is about a token or about a person.
ALTER TABLE notices ADD CONSTRAINT notices_about_check
    CHECK ((token_id IS NULL) <> (subject_id IS NULL));
