-- Core tables of one tenant's schema. Runs with search_path set to that schema only,
-- so every name here is created inside it.

CREATE TABLE roles (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL,
    -- 'admin', 'supervisor' or 'agent' for the built-in roles, whose permissions come from
    -- code (so a new permission reaches them); NULL for custom roles.
    builtin_key  text UNIQUE CHECK (builtin_key IN ('admin', 'supervisor', 'agent')),
    permissions  text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX roles_name ON roles (lower(name));

INSERT INTO roles (name, builtin_key) VALUES
    ('Administrator', 'admin'), ('Supervisor', 'supervisor'), ('Agent', 'agent');

CREATE TABLE teams (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    parent_id   uuid REFERENCES teams (id) ON DELETE RESTRICT,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX teams_name ON teams (coalesce(parent_id, '00000000-0000-0000-0000-000000000000'), lower(name));

CREATE TABLE users (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email                 text NOT NULL,
    name                  text NOT NULL,
    -- NULL for accounts that sign in only by SSO.
    password_hash         text,
    must_change_password  boolean NOT NULL DEFAULT false,
    role_id               uuid NOT NULL REFERENCES roles (id),
    team_id               uuid REFERENCES teams (id) ON DELETE SET NULL,
    extension             text CHECK (extension ~ '^[0-9]{2,8}$'),
    active                boolean NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX users_extension ON users (extension) WHERE extension IS NOT NULL;

CREATE TABLE skills (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX skills_name ON skills (lower(name));

CREATE TABLE user_skills (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill_id  uuid NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    level     smallint NOT NULL CHECK (level BETWEEN 1 AND 10),
    PRIMARY KEY (user_id, skill_id)
);

CREATE TABLE queues (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL,
    strategy           text NOT NULL CHECK (strategy IN
                         ('longest_idle', 'ring_all', 'round_robin', 'fewest_calls', 'skills_based')),
    max_wait_seconds   integer NOT NULL CHECK (max_wait_seconds BETWEEN 0 AND 86400),
    wrap_up_seconds    integer NOT NULL CHECK (wrap_up_seconds BETWEEN 0 AND 3600),
    priority           integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
    overflow_queue_id  uuid REFERENCES queues (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (overflow_queue_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX queues_name ON queues (lower(name));

CREATE TABLE queue_skills (
    queue_id   uuid NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    skill_id   uuid NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    min_level  smallint NOT NULL CHECK (min_level BETWEEN 1 AND 10),
    PRIMARY KEY (queue_id, skill_id)
);

CREATE TABLE reason_codes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('not_ready', 'break')),
    needs_approval  boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX reason_codes_name ON reason_codes (lower(name));

INSERT INTO reason_codes (name, kind, needs_approval) VALUES
    ('Lunch', 'break', false), ('Training', 'not_ready', false), ('Missed call', 'not_ready', false);

-- Keys for integrations. The secret is shown once; only its SHA-256 is kept.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL,
    prefix        text NOT NULL,
    secret_hash   bytea NOT NULL UNIQUE,
    role_id       uuid NOT NULL REFERENCES roles (id),
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

-- Tenant settings by key (e.g. 'sso').
CREATE TABLE settings (
    key         text PRIMARY KEY,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every change and every login: who, when, what, from where.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid,
    actor        text NOT NULL,
    action       text NOT NULL,
    target_type  text,
    target_id    text,
    details      jsonb NOT NULL DEFAULT '{}',
    ip           text,
    request_id   text
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_action ON audit_log (action, at DESC);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at DESC);
