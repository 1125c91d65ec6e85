-- Proposals: one row per question a bottle or the launcher asks; never deleted, only moved
-- through states, so the queue doubles as history.
CREATE TABLE proposals (
  seq               INTEGER PRIMARY KEY,
  id                TEXT    NOT NULL UNIQUE,
  slug              TEXT    NOT NULL,
  kind              TEXT    NOT NULL,
  origin            TEXT    NOT NULL,
  target            TEXT    NOT NULL CHECK (target IN ('operator', 'sidecar')),
  payload           TEXT    NOT NULL,
  justification     TEXT    NOT NULL DEFAULT '',
  current_file      TEXT,
  current_file_hash TEXT,
  idempotency_key   TEXT,
  state             TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'answered', 'archived', 'expired', 'cancelled')),
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER,
  updated_at        INTEGER NOT NULL
);

-- A retried enqueue finds its first attempt instead of adding a duplicate.
CREATE UNIQUE INDEX proposals_idempotency ON proposals (slug, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- The live states are a sliver of the table; partial indexes keep their queries independent
-- of how many archived rows pile up.
CREATE INDEX proposals_pending_fifo ON proposals (target, seq) WHERE state = 'pending';
CREATE INDEX proposals_pending_expiry ON proposals (expires_at) WHERE state = 'pending';
CREATE INDEX proposals_answered ON proposals (slug, seq) WHERE state = 'answered';
CREATE INDEX proposals_slug ON proposals (slug, created_at);

CREATE TABLE responses (
  proposal_id   TEXT    PRIMARY KEY REFERENCES proposals (id),
  status        TEXT    NOT NULL CHECK (status IN ('approved', 'modified', 'rejected')),
  notes         TEXT    NOT NULL DEFAULT '',
  final_payload TEXT,
  responder     TEXT    NOT NULL,
  created_at    INTEGER NOT NULL
);

CREATE TABLE audit_entries (
  seq         INTEGER PRIMARY KEY,
  ts          INTEGER NOT NULL,
  slug        TEXT    NOT NULL,
  component   TEXT    NOT NULL,
  action      TEXT    NOT NULL,
  proposal_id TEXT,
  kind        TEXT,
  status      TEXT,
  notes       TEXT    NOT NULL DEFAULT '',
  actor       TEXT    NOT NULL,
  diff        TEXT    NOT NULL DEFAULT '',
  prev_hash   TEXT    NOT NULL,
  hash        TEXT    NOT NULL UNIQUE
);

CREATE INDEX audit_slug_ts ON audit_entries (slug, ts);
CREATE INDEX audit_ts ON audit_entries (ts);
CREATE INDEX audit_proposal ON audit_entries (proposal_id) WHERE proposal_id IS NOT NULL;

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
  SELECT RAISE(ABORT, 'audit_entries is append-only: UPDATE is refused');
END;

CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
  SELECT RAISE(ABORT, 'audit_entries is append-only: DELETE is refused');
END;

-- Pruning never removes the newest row, so ids (the waiters' cursor) are never reused.
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  ts          INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  proposal_id TEXT    NOT NULL,
  slug        TEXT    NOT NULL,
  target      TEXT    NOT NULL
);

CREATE INDEX events_ts ON events (ts);
