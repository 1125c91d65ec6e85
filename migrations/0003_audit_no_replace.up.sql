-- INSERT OR REPLACE deletes the row it collides with without firing DELETE triggers (unless
-- recursive_triggers is on, which an attacker's connection need not set), so the append-only
-- guard must also refuse an insert that would land on an existing entry.
CREATE TRIGGER audit_entries_no_replace BEFORE INSERT ON audit_entries
WHEN EXISTS (SELECT 1 FROM audit_entries WHERE seq = NEW.seq)
  OR EXISTS (SELECT 1 FROM audit_entries WHERE hash = NEW.hash)
BEGIN
  SELECT RAISE(ABORT, 'audit_entries is append-only: an INSERT over an existing entry (INSERT OR REPLACE) is refused');
END;
