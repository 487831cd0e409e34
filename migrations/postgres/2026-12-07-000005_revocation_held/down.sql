DELETE FROM notices WHERE kind = 'user_revocation_held';
ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check
    CHECK (kind IN ('expiry', 'leaked', 'new_ip', 'user_deactivated'));
