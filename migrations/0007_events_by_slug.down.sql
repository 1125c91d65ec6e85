CREATE INDEX events_ts ON events (ts);
DROP INDEX events_slug_id;
