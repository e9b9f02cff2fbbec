-- Tenant SIP trunks, "bring your own carrier" (`backend/src/trunks.rs`, `routes/trunks.rs`,
-- the API bodies and the gateways' Redis copy in `hotline_wire::trunks`).
--
-- `password` is kept as given: the media gateway must answer the carrier's digest
-- challenges (REGISTER and INVITE), for which a hash of our own choosing is useless — digest
-- needs the password or the carrier's HA1, which depends on the carrier's realm, known only
-- when it challenges. The platform has no secret-key mechanism to encrypt it with (and the
-- gateways' Redis copy must hold it readable anyway); it never leaves the API (write-only,
-- `has_password`) nor reaches the audit log. See docs/security.md.
--
-- The trunk's inbound numbers are rows of `platform.dids` with `trunk_id` = the trunk's id
-- (platform migration 0009), unique platform-wide.
CREATE TABLE trunks (
    id                uuid PRIMARY KEY,
    name              text NOT NULL,
    enabled           boolean NOT NULL DEFAULT true,
    mode              text NOT NULL CHECK (mode IN ('register', 'ip')),
    host              text NOT NULL,
    port              integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    outbound_proxy    text,
    username          text NOT NULL DEFAULT '',
    auth_username     text,
    password          text NOT NULL DEFAULT '',
    register_expires  integer NOT NULL DEFAULT 300,
    allowed_ips       text[] NOT NULL DEFAULT '{}',
    codecs            text[] NOT NULL,
    callee_format     text NOT NULL DEFAULT 'e164'
                      CHECK (callee_format IN ('e164', 'digits', 'national')),
    country_code      text NOT NULL DEFAULT '',
    national_prefix   text NOT NULL DEFAULT '',
    caller_id_fixed   text,
    caller_id_same_format boolean NOT NULL DEFAULT false,
    -- The tenant's outbound calls leave through this trunk: at most one (saving another
    -- with `outbound` clears it here).
    outbound          boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX trunks_name ON trunks (lower(name));
CREATE UNIQUE INDEX trunks_one_outbound ON trunks ((true)) WHERE outbound;
