-- The missed-calls list keeps one open entry per number: a caller who gives up three times
-- is one line with a count, not three agents calling them back. Callbacks are tracked on it.
ALTER TABLE missed_calls
    ADD COLUMN count            integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    ADD COLUMN last_at          timestamptz,
    ADD COLUMN attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN handled_by       uuid,
    ADD COLUMN callback_call_id uuid;
UPDATE missed_calls SET last_at = created_at;
ALTER TABLE missed_calls ALTER COLUMN last_at SET NOT NULL, ALTER COLUMN last_at SET DEFAULT now();

-- Entries already duplicated: the newest open one per number takes the others' count.
WITH ranked AS (
    SELECT id, number, row_number() OVER (PARTITION BY number ORDER BY created_at DESC, id) AS rn,
           count(*) OVER (PARTITION BY number) AS n
      FROM missed_calls WHERE handled_at IS NULL
)
UPDATE missed_calls m SET count = r.n
  FROM ranked r WHERE m.id = r.id AND r.rn = 1 AND r.n > 1;
UPDATE missed_calls m SET handled_at = now()
 WHERE handled_at IS NULL
   AND EXISTS (SELECT 1 FROM missed_calls o
                WHERE o.number = m.number AND o.handled_at IS NULL
                  AND (o.created_at, o.id) > (m.created_at, m.id));

CREATE UNIQUE INDEX missed_calls_one_open ON missed_calls (number) WHERE handled_at IS NULL;
