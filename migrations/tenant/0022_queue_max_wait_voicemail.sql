-- What happens when a caller has waited a queue's `max_wait_seconds` (issue 17): before this,
-- a queue without an overflow queue dropped the caller from the ACD and left them hearing
-- music for ever. Now every queue says where they go (backend/src/queue_exit.rs):
--   overflow  → `overflow_queue_id` (the only action that uses it),
--   voicemail → the caller leaves a message (`voicemails` below),
--   callback  → a callback request is registered, `max_wait_prompt` is played, the call ends,
--   hangup    → `max_wait_prompt` is played, the call ends.
-- Every one but overflow writes a missed-calls entry. `voicemail_user_id` is who is told about
-- the queue's new messages (in-app and by e-mail).
ALTER TABLE queues
    ADD COLUMN max_wait_action text NOT NULL DEFAULT 'voicemail'
        CHECK (max_wait_action IN ('overflow', 'voicemail', 'callback', 'hangup')),
    ADD COLUMN max_wait_prompt text
        CHECK (max_wait_prompt IS NULL OR max_wait_prompt ~ '^[a-z0-9_-]{1,64}$'),
    ADD COLUMN voicemail_user_id uuid REFERENCES users (id) ON DELETE SET NULL;
UPDATE queues SET max_wait_action = 'overflow' WHERE overflow_queue_id IS NOT NULL;

-- A caller told "all agents are busy" and hung up on by the queue is a missed call too.
ALTER TABLE missed_calls DROP CONSTRAINT missed_calls_reason_check;
ALTER TABLE missed_calls ADD CONSTRAINT missed_calls_reason_check
    CHECK (reason IN ('callback_request', 'abandoned', 'voicemail', 'max_wait'));

-- Notifications about a new voicemail (to its assignee) and about break requests (to the
-- agent: approved / denied).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('assigned', 'comment', 'sla_warning', 'sla_breached', 'escalated',
                    'voicemail', 'break_decided'));

-- Voicemail messages, indexed from the gateways' `voicemail_recorded` events (the gateway
-- writes the WAV under `<recordings dir>/<tenant id>/voicemail/`; it never touches Postgres).
-- Deleted with their file by the recordings retention setting.
CREATE TABLE voicemails (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    call_id      uuid NOT NULL,
    path         text NOT NULL UNIQUE,
    caller       text NOT NULL,
    did          text NOT NULL DEFAULT '',
    queue_id     uuid REFERENCES queues (id) ON DELETE SET NULL,
    assignee_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    duration_ms  bigint NOT NULL CHECK (duration_ms >= 0),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    handled_at   timestamptz,
    handled_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    callback_call_id uuid
);
CREATE INDEX voicemails_recorded ON voicemails (recorded_at DESC);
CREATE INDEX voicemails_call ON voicemails (call_id);
