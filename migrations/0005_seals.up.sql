-- Seals make a decision unforgeable by anyone who can write this file (every sidecar can): a
-- bottle MACs what it writes with its own key, the host signs what it writes with its private key.
-- Rows written before this migration have none and are shown as unsealed.
ALTER TABLE proposals ADD COLUMN seal TEXT;
ALTER TABLE responses ADD COLUMN seal TEXT;

-- Structured facts about an entry (a decision's reviewed and final payload hashes, both diffs of
-- a modify), as JSON text. The hash chain covers it only when it is not NULL, so every entry
-- written before this column existed still verifies unchanged.
ALTER TABLE audit_entries ADD COLUMN detail TEXT;
