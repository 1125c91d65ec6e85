-- The kinds a launcher registers, so the operator's tools (other processes) can show, check and
-- answer their proposals. Every sidecar can write this file, so a record counts only with the
-- host's Ed25519 seal over (name, version, sha256(definition)); see src/kinds/kind-records.ts.
-- A changed definition is a new version, never an edit: the newest version is the rule, and a
-- seal over an older one cannot be renumbered to come after it.
CREATE TABLE kinds (
  name        TEXT    NOT NULL,
  version     INTEGER NOT NULL CHECK (version >= 1),
  -- Canonical JSON: name, component, target, modifiable, reasonRequiredToApprove, format,
  -- schema (JSON Schema 2020-12) and description.
  definition  TEXT    NOT NULL,
  seal        TEXT,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (name, version)
) WITHOUT ROWID;

-- Append-only, like the audit log: deleting the newest version would bring an older one back.
CREATE TRIGGER kinds_no_update BEFORE UPDATE ON kinds
BEGIN
  SELECT RAISE(ABORT, 'kinds is append-only: UPDATE is refused; record a new version instead');
END;

CREATE TRIGGER kinds_no_delete BEFORE DELETE ON kinds
BEGIN
  SELECT RAISE(ABORT, 'kinds is append-only: DELETE is refused');
END;

-- INSERT OR REPLACE deletes the row it collides with without firing DELETE triggers.
CREATE TRIGGER kinds_no_replace BEFORE INSERT ON kinds
WHEN EXISTS (SELECT 1 FROM kinds WHERE name = NEW.name AND version = NEW.version)
BEGIN
  SELECT RAISE(ABORT, 'kinds is append-only: an INSERT over an existing version (INSERT OR REPLACE) is refused');
END;
