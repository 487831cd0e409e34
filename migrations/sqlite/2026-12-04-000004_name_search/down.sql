DROP TRIGGER token_name_search_remove;
DROP TRIGGER token_name_search_rename;
DROP TRIGGER token_name_search_insert;
DROP TABLE token_name_search;
