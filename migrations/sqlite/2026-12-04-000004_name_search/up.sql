-- The list's name search is a substring match (lower(name) LIKE '%…%'), which no b-tree can
-- serve: over an account of 100,000 tokens it read every row (about 35 ms). An FTS5 trigram
-- table finds the candidates; the LIKE still decides, so results do not change.
-- It holds lower(name), the same lower() as the search (Rust's Unicode one, which every
-- connection of the app registers), so every name the LIKE matches is among its candidates.
-- It keeps its own copy of the name and the token's id rather than pointing at tokens' rowid,
-- which a VACUUM may renumber in a table without an INTEGER PRIMARY KEY.
CREATE VIRTUAL TABLE token_name_search USING fts5(
    name,
    token_id UNINDEXED,
    tokenize = 'trigram'
);
INSERT INTO token_name_search (name, token_id) SELECT lower(name), id FROM tokens;
CREATE TRIGGER token_name_search_insert AFTER INSERT ON tokens BEGIN
    INSERT INTO token_name_search (name, token_id) VALUES (lower(new.name), new.id);
END;
-- Tokens are neither renamed nor removed today (a deleted token keeps its row); these keep the
-- index true if that ever changes.
CREATE TRIGGER token_name_search_rename AFTER UPDATE OF name ON tokens BEGIN
    DELETE FROM token_name_search WHERE token_id = old.id;
    INSERT INTO token_name_search (name, token_id) VALUES (lower(new.name), new.id);
END;
CREATE TRIGGER token_name_search_remove AFTER DELETE ON tokens BEGIN
    DELETE FROM token_name_search WHERE token_id = old.id;
END;
