-- Back to the index of blob ids and slugs alone; oversized rows are then read (and fail) again.
DROP INDEX proposals_pending_unanswerable;
CREATE INDEX proposals_pending_mistyped ON proposals (seq)
  WHERE state = 'pending' AND (typeof(id) != 'text' OR typeof(slug) != 'text');
