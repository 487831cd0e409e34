DELETE FROM notices WHERE token_id IS NULL;
ALTER TABLE notices DROP CONSTRAINT notices_about_check;
ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check CHECK (kind IN ('expiry', 'leaked', 'new_ip'));
ALTER TABLE notices DROP COLUMN subject_id;
ALTER TABLE notices ALTER COLUMN token_id SET NOT NULL;
