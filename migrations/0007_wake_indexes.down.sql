CREATE INDEX proposals_answered ON proposals (slug, seq) WHERE state = 'answered';
CREATE INDEX events_ts ON events (ts);
DROP INDEX events_slug_id;
