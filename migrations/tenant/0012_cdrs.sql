-- Call detail records: one row per call leg (an inbound caller, an agent's phone leg, an
-- outbound call placed for a transfer or callback), kept by the backend from the gateways'
-- events and the ACD's. Every write is an idempotent upsert keyed by the call id, so an event
-- handled twice (a consumer that died before acknowledging) changes nothing.
CREATE TABLE cdrs (
    call_id       uuid PRIMARY KEY,
    -- The inbound call an agent or outbound leg serves (NULL for the caller's own leg).
    parent_id     uuid,
    direction     text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    caller        text NOT NULL DEFAULT '',
    -- The dialled number (DID) of an inbound call; the number or extension of an outbound leg.
    callee        text NOT NULL DEFAULT '',
    gateway_id    text NOT NULL DEFAULT '',
    arrived_at    timestamptz NOT NULL,
    answered_at   timestamptz,
    queued_at     timestamptz,
    queue_id      uuid,
    offered_at    timestamptz,
    -- The agent who has (or last had) the call.
    agent_id      uuid,
    connected_at  timestamptz,
    ended_at      timestamptz,
    hangup_cause  text,
    -- What became of it: `answered` (an agent took it), `abandoned` (the caller left while
    -- queued), `ivr` (served by the IVR alone), `voicemail`, `callback_request`, `rejected`,
    -- `failed` (an outbound leg that never answered).
    outcome       text,
    disposition   text,
    wrapup_notes  text,
    transfers     integer NOT NULL DEFAULT 0,
    vars          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX cdrs_arrived ON cdrs (arrived_at DESC);
CREATE INDEX cdrs_agent ON cdrs (agent_id, arrived_at DESC);
CREATE INDEX cdrs_parent ON cdrs (parent_id) WHERE parent_id IS NOT NULL;

-- The call's timeline: every ACD step and agent action (offered, connected, held, unheld,
-- transferred, wrap-up…), for the agent's history and the supervisors' reports.
CREATE TABLE cdr_events (
    id        bigserial PRIMARY KEY,
    call_id   uuid NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    kind      text NOT NULL,
    agent_id  uuid,
    details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX cdr_events_call ON cdr_events (call_id, id);
CREATE INDEX cdr_events_agent ON cdr_events (agent_id, at DESC) WHERE agent_id IS NOT NULL;
