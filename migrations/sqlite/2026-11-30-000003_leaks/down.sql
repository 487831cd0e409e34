DROP TABLE token_addresses;
ALTER TABLE tokens DROP COLUMN deleted_reason;
ALTER TABLE tokens DROP COLUMN allowed_ips;
