-- Each signed-in browser session has a row, named inside its (encrypted) cookie and checked on
-- every page, so signing out ends it everywhere: a copied cookie is refused too (OWASP ASVS
-- V3.3.1). Cookie sessions alone could not do that.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX idx_sessions_user ON sessions(user_id);
