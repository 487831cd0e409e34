-- Ids are UUID text and times are UTC without zone, so one diesel schema serves both backends.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'engineer', 'read_only')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX idx_users_account ON users(account_id);

CREATE TABLE account_policies (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts(id),
    max_lifetime_days INTEGER NOT NULL DEFAULT 365,
    allow_never BOOLEAN NOT NULL DEFAULT FALSE,
    max_tokens INTEGER NOT NULL DEFAULT 50,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    issuer_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('admin', 'engineer', 'read_only')),
    digest BLOB NOT NULL,
    last_four TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    last_used_ip TEXT,
    deleted_at TIMESTAMP,
    deleted_by TEXT REFERENCES users(id),
    notified_7d_at TIMESTAMP,
    notified_1d_at TIMESTAMP
);
CREATE UNIQUE INDEX idx_tokens_digest ON tokens(digest);
-- Names are unique among an issuer's live tokens; a deleted token frees its name.
CREATE UNIQUE INDEX idx_tokens_issuer_live_name ON tokens(issuer_id, name) WHERE deleted_at IS NULL;
CREATE INDEX idx_tokens_account_created ON tokens(account_id, created_at);
CREATE INDEX idx_tokens_issuer_created ON tokens(issuer_id, created_at);
CREATE INDEX idx_tokens_account_status ON tokens(account_id, deleted_at, expires_at);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT REFERENCES accounts(id),
    actor_id TEXT REFERENCES users(id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    ip TEXT,
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX idx_audit_account_created ON audit_events(account_id, created_at);
-- Sign-in throttling counts recent failures by username and by IP.
CREATE INDEX idx_audit_kind_subject_created ON audit_events(kind, subject, created_at);
CREATE INDEX idx_audit_kind_ip_created ON audit_events(kind, ip, created_at);

-- Secrets the server makes for itself (the session key), shared by every instance.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
