DROP TABLE services;
ALTER TABLE tokens DROP COLUMN scopes;
