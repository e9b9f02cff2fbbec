-- Callbacks booked for a date and time: by an agent for themself, or by a supervisor for a
-- member of their team (or its sub-teams). At the time, a reminder pops up in the owner's
-- desktop (status `due`) with a button that dials the number.
CREATE TABLE scheduled_callbacks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by  uuid,
    number      text NOT NULL,
    customer_id uuid REFERENCES customers (id) ON DELETE SET NULL,
    due_at      timestamptz NOT NULL,
    note        text NOT NULL DEFAULT '',
    -- scheduled → due (the reminder was shown) → done; or cancelled.
    status      text NOT NULL DEFAULT 'scheduled'
                CHECK (status IN ('scheduled', 'due', 'done', 'cancelled')),
    reminded_at timestamptz,
    done_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduled_callbacks_owner ON scheduled_callbacks (owner_id, due_at)
    WHERE status IN ('scheduled', 'due');
