-- A notice for the administrators about a person the identity provider no longer vouches for,
-- kept active because the SSO re-check that heard it was refused most people at once
-- (product.md §11).
ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check
    CHECK (kind IN ('expiry', 'leaked', 'new_ip', 'user_deactivated', 'user_revocation_held'));
