-- A bottle's newest entries (audit list --bottle X --limit N) walk this index backwards instead of
-- sorting the bottle's whole history by seq.
CREATE INDEX audit_slug_seq ON audit_entries (slug, seq);
