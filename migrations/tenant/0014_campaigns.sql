-- Outbound campaigns: a recorded-message campaign dials its contacts through a gateway's
-- trunk, plays the tenant's prompt to whoever answers, optionally asks for a DTMF
-- confirmation, and retries busy / unanswered numbers by its rules. Agent campaigns share the
-- tables (their dialer is the next step).
CREATE TABLE campaigns (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('message', 'agent')),
    status              text NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'running', 'paused', 'stopped', 'finished')),
    -- Presented to the called party (E.164).
    caller_id           text NOT NULL,
    -- Message campaigns: the prompt played (tenant or built-in prompt name).
    prompt              text,
    -- When set, the prompt asks for this key; pressing it confirms.
    confirm_digit       text CHECK (confirm_digit ~ '^[0-9*#]$'),
    starts_at           timestamptz,
    ends_at             timestamptz,
    -- Seven entries, Monday first: null (no calls that day) or ["09:00", "20:00"].
    calling_hours       jsonb NOT NULL,
    -- The zone of contacts that have none of their own (IANA name).
    timezone            text NOT NULL DEFAULT 'UTC',
    max_attempts        integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 20),
    retry_interval_secs integer NOT NULL DEFAULT 1800 CHECK (retry_interval_secs BETWEEN 1 AND 604800),
    -- Outcomes that are tried again: any of busy, no_answer, failed.
    retry_on            text[] NOT NULL DEFAULT '{busy,no_answer}',
    ring_timeout_secs   integer NOT NULL DEFAULT 30 CHECK (ring_timeout_secs BETWEEN 5 AND 120),
    max_lines           integer NOT NULL DEFAULT 5 CHECK (max_lines BETWEEN 1 AND 500),
    created_by          uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz
);
CREATE UNIQUE INDEX campaigns_name ON campaigns (lower(name));

-- The people a campaign calls. `status`: pending (waiting for its next attempt at
-- `next_attempt_at`), dialing, then a final one: answered (message played), confirmed,
-- not_confirmed (answered, the confirmation key never pressed), busy, no_answer, failed (the
-- last attempt's outcome when no attempt is left), dnc (on the do-not-call list: skipped).
CREATE TABLE campaign_contacts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id     uuid NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    phone           text NOT NULL,
    name            text NOT NULL DEFAULT '',
    timezone        text,
    customer_id     uuid,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'dialing', 'answered', 'confirmed', 'not_confirmed',
                                      'busy', 'no_answer', 'failed', 'dnc')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_outcome    text,
    dtmf            text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, phone)
);
CREATE INDEX campaign_contacts_due ON campaign_contacts (campaign_id, next_attempt_at)
    WHERE status = 'pending';

-- Every attempt, with the outbound leg's call id (its CDR and recording share it).
-- `outcome`: answered, confirmed, not_confirmed, busy, no_answer, failed, dnc (skipped).
CREATE TABLE campaign_attempts (
    call_id       uuid PRIMARY KEY,
    campaign_id   uuid NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    contact_id    uuid NOT NULL REFERENCES campaign_contacts ON DELETE CASCADE,
    phone         text NOT NULL,
    gateway_id    text NOT NULL DEFAULT '',
    started_at    timestamptz NOT NULL DEFAULT now(),
    answered_at   timestamptz,
    -- When the dialer gave up ringing (ring timeout) and hung up.
    cancelled_at  timestamptz,
    ended_at      timestamptz,
    outcome       text,
    sip_status    integer,
    dtmf          text
);
CREATE INDEX campaign_attempts_open ON campaign_attempts (campaign_id) WHERE ended_at IS NULL;
CREATE INDEX campaign_attempts_hour ON campaign_attempts (campaign_id, started_at);

-- Numbers never to call (outbound) or never to take calls from (inbound), per tenant. The
-- lists are mirrored to Redis, where every gateway checks them on every call.
CREATE TABLE call_blocklist (
    number     text NOT NULL,
    direction  text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    reason     text NOT NULL DEFAULT '',
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (direction, number)
);
