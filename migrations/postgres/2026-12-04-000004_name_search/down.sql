DROP INDEX idx_tokens_name_trgm;
