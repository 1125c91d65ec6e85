-- One row per bottle, so proposals and running bottles answer one query. The launcher registers
-- and retires a bottle; its sidecar upserts a heartbeat. A sidecar faces a hostile agent, so
-- nothing here is trusted for a decision: the live routes hash only warns the operator that a
-- proposal was made against another file, and the sidecar re-checks the real file before applying.
CREATE TABLE bottles (
  slug             TEXT    PRIMARY KEY,
  backend          TEXT,
  image            TEXT,
  started_at       INTEGER,
  stopped_at       INTEGER,
  last_heartbeat   INTEGER,
  sidecar_version  TEXT,
  schema_version   INTEGER,
  -- sha256 of the live routes file, and its text when it fits the payload limit (for the
  -- operator's diff against the live file); NULL when the sidecar has no readable routes file.
  live_routes_hash TEXT,
  live_routes      TEXT
) WITHOUT ROWID;
