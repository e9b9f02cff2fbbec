-- SLA business calendar, warnings and escalation; in-app notifications and the e-mail outbox.

-- The calendar business-hours SLAs count in: one row (time zone), weekly working intervals
-- (minutes of the day, local time), and holidays. Default: Mon–Fri 09:00–18:00 UTC.
CREATE TABLE business_calendar (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    time_zone   text NOT NULL DEFAULT 'UTC',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO business_calendar DEFAULT VALUES;

CREATE TABLE business_hours (
    weekday       smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),  -- ISO, 1 = Monday
    start_minute  smallint NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute    smallint NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    CHECK (start_minute < end_minute),
    PRIMARY KEY (weekday, start_minute)
);
INSERT INTO business_hours (weekday, start_minute, end_minute)
    SELECT d, 9 * 60, 18 * 60 FROM generate_series(1, 5) AS d;

CREATE TABLE holidays (
    day        date PRIMARY KEY,
    name       text NOT NULL DEFAULT '',
    -- Repeats every year on the same month and day.
    recurring  boolean NOT NULL DEFAULT false
);

ALTER TABLE sla_policies
    ADD COLUMN business_hours      boolean NOT NULL DEFAULT false,
    ADD COLUMN warn_percent        integer CHECK (warn_percent BETWEEN 1 AND 99),
    ADD COLUMN escalate_team_id    uuid REFERENCES teams (id) ON DELETE SET NULL,
    ADD COLUMN notify_supervisors  boolean NOT NULL DEFAULT false;

-- `sla_stage` is what the SLA job has already acted on ('ok' → 'warning' → 'breached'), so
-- each step happens exactly once; what users see (`sla_state`) is computed on read.
ALTER TABLE tickets
    ADD COLUMN sla_policy_id  uuid REFERENCES sla_policies (id) ON DELETE SET NULL,
    ADD COLUMN warn_at        timestamptz,
    ADD COLUMN sla_stage      text NOT NULL DEFAULT 'ok' CHECK (sla_stage IN ('ok', 'warning', 'breached'));
CREATE INDEX tickets_sla_pending ON tickets (due_at) WHERE closed_at IS NULL AND sla_stage <> 'breached';

CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('assigned', 'comment', 'sla_warning', 'sla_breached', 'escalated')),
    ticket_id   uuid REFERENCES tickets (id) ON DELETE CASCADE,
    text        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE INDEX notifications_mine ON notifications (user_id, (read_at IS NULL), id);

-- E-mails to send, written in the same transaction as their notification and delivered by
-- the background job with retries, so a slow SMTP server never holds up a request.
CREATE TABLE email_outbox (
    id               bigserial PRIMARY KEY,
    notification_id  bigint REFERENCES notifications (id) ON DELETE SET NULL,
    to_address       text NOT NULL,
    subject          text NOT NULL,
    body             text NOT NULL,
    -- Appended to the public URL when sending (e.g. '/tickets/<id>').
    link_path        text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX email_outbox_pending ON email_outbox (next_attempt_at) WHERE status = 'pending';
