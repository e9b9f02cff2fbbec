-- Caller IDs a tenant proved it answers (`verify.rs`): the platform calls the number and reads
-- a 6-digit code; the administrator types it within 10 minutes. Only the code's SHA-256 is
-- kept; at most `verify::CODE_ATTEMPTS` wrong codes, then a new call is needed.
-- `verified_at` set: the number may be shown as the caller ID of outbound calls.
CREATE TABLE caller_id_verifications (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number       text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
    code_hash    bytea,
    -- The verification call's leg (its CDR has the same call id).
    call_id      uuid NOT NULL UNIQUE,
    call_status  text NOT NULL DEFAULT 'calling'
                 CHECK (call_status IN ('calling', 'answered', 'finished', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    expires_at   timestamptz NOT NULL,
    verified_at  timestamptz,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX caller_id_verifications_number ON caller_id_verifications (number, created_at);
-- One verified row per number.
CREATE UNIQUE INDEX caller_id_verified_once ON caller_id_verifications (number)
    WHERE verified_at IS NOT NULL;
