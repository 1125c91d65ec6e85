ALTER TABLE audit_entries DROP COLUMN detail;
ALTER TABLE responses DROP COLUMN seal;
ALTER TABLE proposals DROP COLUMN seal;
