-- Tickets (complaints, requests): per-type workflows, automatic assignment, SLA deadlines,
-- and a full history of every change.

CREATE TABLE ticket_types (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ticket_types_name ON ticket_types (lower(name));

CREATE TABLE ticket_statuses (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type_id   uuid NOT NULL REFERENCES ticket_types (id) ON DELETE CASCADE,
    key       text NOT NULL,
    name      text NOT NULL,
    color     text NOT NULL CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
    initial   boolean NOT NULL DEFAULT false,
    final     boolean NOT NULL DEFAULT false,
    position  integer NOT NULL DEFAULT 0,
    UNIQUE (type_id, key)
);

-- Allowed moves; `permission` (a permission key) restricts who may make them, NULL = anyone
-- who may work tickets.
CREATE TABLE ticket_transitions (
    from_status  uuid NOT NULL REFERENCES ticket_statuses (id) ON DELETE CASCADE,
    to_status    uuid NOT NULL REFERENCES ticket_statuses (id) ON DELETE CASCADE,
    name         text NOT NULL,
    permission   text,
    PRIMARY KEY (from_status, to_status)
);

-- Category (or any ancestor) → team, then a person in the team.
CREATE TABLE assignment_rules (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type_id       uuid NOT NULL REFERENCES ticket_types (id) ON DELETE CASCADE,
    category_id   uuid REFERENCES categories (id) ON DELETE CASCADE,
    team_id       uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    strategy      text NOT NULL CHECK (strategy IN ('round_robin', 'least_loaded', 'team_only')),
    last_user_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    position      integer NOT NULL DEFAULT 0
);

-- Time to resolve, by category and/or priority (the most specific match wins).
CREATE TABLE sla_policies (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    category_id      uuid REFERENCES categories (id) ON DELETE CASCADE,
    priority         text CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    resolve_minutes  integer NOT NULL CHECK (resolve_minutes > 0)
);

CREATE TABLE tickets (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number            bigserial UNIQUE,
    type_id           uuid NOT NULL REFERENCES ticket_types (id),
    status_id         uuid NOT NULL REFERENCES ticket_statuses (id),
    category_id       uuid REFERENCES categories (id),
    priority          text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    subject           text NOT NULL,
    description       text NOT NULL DEFAULT '',
    customer_id       uuid REFERENCES customers (id),
    interaction_id    uuid REFERENCES interactions (id),
    assignee_user_id  uuid REFERENCES users (id),
    assignee_team_id  uuid REFERENCES teams (id),
    due_at            timestamptz,
    created_by        uuid REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    closed_at         timestamptz,
    search_text       text NOT NULL DEFAULT ''
);
CREATE INDEX tickets_register ON tickets (status_id, due_at);
CREATE INDEX tickets_assignee ON tickets (assignee_user_id) WHERE closed_at IS NULL;
CREATE INDEX tickets_team ON tickets (assignee_team_id) WHERE closed_at IS NULL;
CREATE INDEX tickets_customer ON tickets (customer_id);
CREATE INDEX tickets_search ON tickets USING gin (search_text public.gin_trgm_ops);

-- Every change, comment and internal note, in order.
CREATE TABLE ticket_events (
    id         bigserial PRIMARY KEY,
    ticket_id  uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   uuid,
    kind       text NOT NULL CHECK (kind IN ('created', 'status', 'assigned', 'comment', 'note', 'updated')),
    body       text NOT NULL DEFAULT '',
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
