-- Permissions (product.md §9). NULL is full access, which every earlier token has and keeps;
-- otherwise the scopes, sorted, each after a space (" billing:read tokens:write").
ALTER TABLE tokens ADD COLUMN scopes TEXT;

-- The account's own APIs, each a resource that scopes may name.
CREATE TABLE services (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, name)
);
