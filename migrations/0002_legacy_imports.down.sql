-- The imported proposals and audit entries stay; only the memory of where they came from goes.
-- Importing the same legacy tree again afterwards still adds nothing: proposals and responses are
-- recognized by id, and an audit line by an entry with exactly its fields already in the log.
DROP TABLE legacy_imports;
