DROP TABLE events;
DROP TRIGGER audit_entries_no_delete;
DROP TRIGGER audit_entries_no_update;
DROP TABLE audit_entries;
DROP TABLE responses;
DROP TABLE proposals;
