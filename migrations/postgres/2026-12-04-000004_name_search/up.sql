-- The list's name search is a substring match (lower(name) LIKE '%…%'), which no b-tree can
-- serve: over an account of 100,000 tokens it read every row (42–52 ms). A trigram index
-- serves it (about 2 ms). pg_trgm is a trusted extension: a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX idx_tokens_name_trgm ON tokens USING gin (lower(name) gin_trgm_ops);
