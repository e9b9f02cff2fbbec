-- IVR flows built by the tenant: every save is a new version; one version is published and
-- new calls run it (calls in progress keep the version they started with).
CREATE TABLE ivr_flows (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL,
    is_default         boolean NOT NULL DEFAULT false,
    published_version  integer,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ivr_flows_name ON ivr_flows (lower(name));
CREATE UNIQUE INDEX ivr_flows_one_default ON ivr_flows (is_default) WHERE is_default;

CREATE TABLE ivr_flow_versions (
    flow_id     uuid NOT NULL REFERENCES ivr_flows (id) ON DELETE CASCADE,
    version     integer NOT NULL CHECK (version >= 1),
    graph       jsonb NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (flow_id, version)
);

-- Which flow answers which of the tenant's numbers (numbers without a row use the default).
CREATE TABLE ivr_did_flows (
    did      text PRIMARY KEY,
    flow_id  uuid NOT NULL REFERENCES ivr_flows (id) ON DELETE CASCADE
);

-- Callers who asked to be called back, or hung up waiting (the missed-calls list).
CREATE TABLE missed_calls (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number      text NOT NULL,
    did         text NOT NULL DEFAULT '',
    reason      text NOT NULL CHECK (reason IN ('callback_request', 'abandoned', 'voicemail')),
    call_id     uuid,
    vars        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    handled_at  timestamptz
);
CREATE INDEX missed_calls_open ON missed_calls (created_at DESC) WHERE handled_at IS NULL;
