-- A bottle writes the shared file with its own SQLite, which stores a value of up to a gigabyte, where
-- better-sqlite3 reads at most 2^29 - 24 bytes of one: such a row failed every read of it, the
-- operator's list and every write's sweep among them. The sweep closes a pending row with a column
-- larger than any writer of the plane stores (1 MiB, src/core/limits.ts MAX_COLUMN_BYTES) as it
-- closes one with a blob id or slug; octet_length reads only the record header. The WHERE below is
-- src/queue/unreadable-rows.ts UNANSWERABLE_PROPOSAL, term for term, or the sweep cannot use it.
-- Writing proposals needs SQLite 3.43 or newer (octet_length) from here on.
DROP INDEX proposals_pending_mistyped;
CREATE INDEX proposals_pending_unanswerable ON proposals (seq)
  WHERE state = 'pending' AND (typeof(id) != 'text' OR typeof(slug) != 'text' OR
    coalesce(octet_length(id), 0) > 1048576 OR
    coalesce(octet_length(slug), 0) > 1048576 OR
    coalesce(octet_length(kind), 0) > 1048576 OR
    coalesce(octet_length(origin), 0) > 1048576 OR
    coalesce(octet_length(target), 0) > 1048576 OR
    coalesce(octet_length(payload), 0) > 1048576 OR
    coalesce(octet_length(justification), 0) > 1048576 OR
    coalesce(octet_length(current_file), 0) > 1048576 OR
    coalesce(octet_length(current_file_hash), 0) > 1048576 OR
    coalesce(octet_length(idempotency_key), 0) > 1048576 OR
    coalesce(octet_length(state), 0) > 1048576 OR
    coalesce(octet_length(created_at), 0) > 1048576 OR
    coalesce(octet_length(expires_at), 0) > 1048576 OR
    coalesce(octet_length(updated_at), 0) > 1048576 OR
    coalesce(octet_length(seal), 0) > 1048576);
