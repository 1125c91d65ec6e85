-- What `bot-bottle import-legacy` has already taken from the pre-SQLite JSON queue directories
-- and JSONL audit logs. The audit log is append-only and hash-chained, so the memory of which
-- legacy line became which entry cannot live in it; this side table makes a second import
-- (or one resumed after an interruption) skip what the first already wrote.
CREATE TABLE legacy_imports (
  -- `proposal:<id>`, `response:<id>` or `audit:<sha256 of the line's content>`.
  source_key  TEXT    PRIMARY KEY,
  source_kind TEXT    NOT NULL CHECK (source_kind IN ('proposal', 'response', 'audit')),
  -- Where it came from, relative to the import root (`queue/acme/processed/<id>.json`,
  -- `audit/egress.jsonl:17`), so an imported row can be traced back to its file.
  source_path TEXT    NOT NULL,
  proposal_id TEXT,
  audit_seq   INTEGER,
  imported_at INTEGER NOT NULL
) WITHOUT ROWID;
