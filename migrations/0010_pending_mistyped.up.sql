-- Only raw SQL stores a blob in a proposal's id or slug (the library binds text), and no lookup by
-- id or slug ever finds such a row, so nobody could answer it. Every write's sweep closes these
-- rows; this index keeps that look a seek on an empty index instead of a walk of every pending row.
CREATE INDEX proposals_pending_mistyped ON proposals (seq)
  WHERE state = 'pending' AND (typeof(id) != 'text' OR typeof(slug) != 'text');
