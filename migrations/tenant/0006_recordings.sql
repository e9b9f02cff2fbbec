-- Call recordings written by the media gateways, indexed from their `recording_finished`
-- events (the gateway never touches Postgres). One row per recorded call; the file lives on
-- the gateway host's recordings directory (shared storage in production).
CREATE TABLE recordings (
    call_id      uuid PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    duration_ms  bigint NOT NULL CHECK (duration_ms >= 0),
    path         text NOT NULL,
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    indexed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recordings_started ON recordings (started_at DESC);
