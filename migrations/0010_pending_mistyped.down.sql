-- The sweep still closes such rows without it, by reading every pending row.
DROP INDEX proposals_pending_mistyped;
