-- Nearest-word lookups for typo correction in KB search (`ORDER BY word <-> $1 LIMIT 1`):
-- a GiST trigram index answers them without scanning every similar word.
CREATE INDEX kb_words_trgm_gist ON kb_words USING gist (word public.gist_trgm_ops);
-- Overdue open tickets (they lead the register): found by due time among open tickets.
CREATE INDEX tickets_open_due ON tickets (due_at) WHERE closed_at IS NULL;
-- Register filters by status and priority, newest first.
CREATE INDEX tickets_status_priority ON tickets (status_id, priority, number DESC);
