-- Limits that hold across every instance over one database (product.md §12): one row per key
-- and window, counted in one statement. SQLite serves one process, whose memory suffices; the
-- table exists there too so that one schema serves both backends.
CREATE TABLE throttles (
    key TEXT PRIMARY KEY NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL
);
CREATE INDEX idx_throttles_window_start ON throttles(window_start);
