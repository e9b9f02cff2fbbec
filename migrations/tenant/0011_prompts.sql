-- IVR prompts uploaded by the tenant: the audio as converted on upload (WAV, 8 kHz mono
-- 16-bit PCM, what the gateways play) and what was uploaded. The gateways read a copy in
-- Redis (`{t:<tenant>}:prompts`, `{t:<tenant>}:prompt:<name>`), never this table.
CREATE TABLE ivr_prompts (
    name             text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    version          integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    audio            bytea NOT NULL,
    sha256           text NOT NULL,
    duration_ms      bigint NOT NULL,
    original_name    text NOT NULL,
    original_format  text NOT NULL,
    original_size    bigint NOT NULL,
    uploaded_by      uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
