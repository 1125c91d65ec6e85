-- A waiting process reads only its bottle's events (a seek on slug, then the ids after its
-- cursor) instead of every bottle's. Pruning walks the ids from the oldest row, so the ts index
-- it used goes: every event insert keeps writing one index, not two.
CREATE INDEX events_slug_id ON events (slug, id);
DROP INDEX events_ts;
-- No query reads the answered proposals by bottle; the index cost a page write on every answer
-- and another on every archive.
DROP INDEX proposals_answered;
