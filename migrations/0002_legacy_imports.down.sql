-- The imported proposals and audit entries stay; only the memory of where they came from goes,
-- so importing the same legacy tree again after this would append its audit lines a second time.
DROP TABLE legacy_imports;
