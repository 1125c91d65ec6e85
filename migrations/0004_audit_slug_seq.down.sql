DROP INDEX audit_slug_seq;
