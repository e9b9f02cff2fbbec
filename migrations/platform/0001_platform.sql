-- The platform schema: everything shared by all tenants. Tenant data never lives here.

CREATE TABLE platform.plans (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    seats        integer NOT NULL CHECK (seats > 0),
    price_cents  integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO platform.plans (id, name, seats, price_cents) VALUES
    ('trial', 'Trial', 10, 0),
    ('team', 'Team', 50, 0),
    ('enterprise', 'Enterprise', 2000, 0);

CREATE TABLE platform.tenants (
    id              uuid PRIMARY KEY,
    slug            text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'),
    name            text NOT NULL,
    -- Always 'tenant_' || the id without dashes: derived, never typed by anyone.
    schema_name     text NOT NULL UNIQUE CHECK (schema_name ~ '^tenant_[0-9a-f]{32}$'),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    plan_id         text NOT NULL DEFAULT 'trial' REFERENCES platform.plans (id),
    -- Highest tenant migration applied to the schema (see the migration runner).
    schema_version  integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Phone numbers (E.164) routed to a tenant. The gateway reads a Redis copy.
CREATE TABLE platform.dids (
    did          text PRIMARY KEY CHECK (did ~ '^\+[1-9][0-9]{6,14}$'),
    tenant_id    uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dids_tenant ON platform.dids (tenant_id);

CREATE TABLE platform.operators (
    id             uuid PRIMARY KEY,
    email          text NOT NULL,
    name           text NOT NULL,
    password_hash  text NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX operators_email ON platform.operators (lower(email));

-- Media gateways registered with the platform (live heartbeats are in Redis).
CREATE TABLE platform.gateways (
    id             text PRIMARY KEY,
    sip_addr       text NOT NULL,
    rtp_ports      text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'draining', 'retired')),
    registered_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz
);

-- Login sessions of tenant users and platform operators. Only a hash of the token is kept.
CREATE TABLE platform.sessions (
    token_hash    bytea PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('user', 'operator')),
    tenant_id     uuid REFERENCES platform.tenants (id) ON DELETE CASCADE,
    subject_id    uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ip            text,
    user_agent    text,
    CHECK ((kind = 'user') = (tenant_id IS NOT NULL))
);
CREATE INDEX sessions_subject ON platform.sessions (tenant_id, subject_id);
CREATE INDEX sessions_expiry ON platform.sessions (expires_at);

-- What platform operators did (tenant admins' actions go to each tenant's own audit_log).
CREATE TABLE platform.audit (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    operator_id  uuid,
    actor        text NOT NULL,
    action       text NOT NULL,
    target_type  text,
    target_id    text,
    details      jsonb NOT NULL DEFAULT '{}',
    ip           text,
    request_id   text
);
CREATE INDEX platform_audit_at ON platform.audit (at DESC);
