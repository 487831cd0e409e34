DROP TABLE server_secrets;
DROP TABLE audit_events;
DROP TABLE tokens;
DROP TABLE account_policies;
DROP TABLE users;
DROP TABLE accounts;
