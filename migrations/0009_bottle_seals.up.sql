-- Every sidecar can write this table, so its two writers seal their own columns: the host signs a
-- bottle's registration and retirement (backend, image, started_at, stopped_at), and the sidecar
-- MACs its heartbeat with the bottle's key. A heartbeat never writes the host's columns, and the
-- host reads each half only when its seal verifies.
ALTER TABLE bottles ADD COLUMN registration_seal TEXT;
ALTER TABLE bottles ADD COLUMN heartbeat_seal TEXT;
