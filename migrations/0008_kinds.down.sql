-- Proposals of launcher kinds stay; without their records only the launcher that registered a
-- kind can answer them again, as before this migration.
DROP TABLE kinds;
