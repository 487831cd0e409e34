-- Leak response: an optional allowlist per token (addresses and CIDR ranges, comma-separated;
-- empty: anywhere), why a token was deleted when nobody deleted it by hand (a secret-scanning
-- report), and the addresses each token was used from (the last 50), for new-address alerts.
ALTER TABLE tokens ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN deleted_reason TEXT;

CREATE TABLE token_addresses (
    token_id TEXT NOT NULL REFERENCES tokens(id),
    ip TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    -- The User-Agent of the last request noted from this address.
    user_agent TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (token_id, ip)
);
CREATE INDEX idx_token_addresses_last_seen ON token_addresses(token_id, last_seen);
