-- Customer imports that run in the background (large CSV/XLSX files), with their progress.

CREATE TABLE crm_import_jobs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    format        text NOT NULL CHECK (format IN ('csv', 'xlsx')),
    total         integer NOT NULL CHECK (total >= 0),
    processed     integer NOT NULL DEFAULT 0,
    imported      integer NOT NULL DEFAULT 0,
    failed_count  integer NOT NULL DEFAULT 0,
    -- The first bad rows with their reasons ([{line, errors: [{field, message}]}]).
    failed        jsonb NOT NULL DEFAULT '[]',
    error         text,
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX crm_import_jobs_created ON crm_import_jobs (created_at DESC);
