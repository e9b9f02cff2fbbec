-- CRM: the customer template, customers with their phone numbers, the category tree and
-- interactions.

-- The customer profile template the tenant admin edits. Values live in customers.fields
-- under each field's key, so deactivating a field loses no value.
CREATE TABLE customer_fields (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key         text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    label       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN
                  ('text', 'number', 'date', 'choice', 'multi_choice', 'phone', 'email', 'address')),
    required    boolean NOT NULL DEFAULT false,
    options     text[] NOT NULL DEFAULT '{}',
    position    integer NOT NULL DEFAULT 0,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX customer_fields_key ON customer_fields (key);

CREATE TABLE customers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL,
    fields       jsonb NOT NULL DEFAULT '{}',
    -- Name, numbers and field values in one lower-case text, for trigram search.
    search_text  text NOT NULL DEFAULT '',
    -- Set when merged into another customer; such rows are kept for history, not listed.
    merged_into  uuid REFERENCES customers (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_search ON customers USING gin (search_text public.gin_trgm_ops);
CREATE INDEX customers_name ON customers (lower(name));

CREATE TABLE customer_phones (
    customer_id  uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    number       text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
    label        text NOT NULL DEFAULT '',
    PRIMARY KEY (customer_id, number)
);
-- Screen pop: caller number → customer.
CREATE INDEX customer_phones_number ON customer_phones (number);

-- Categories of requests: a tree of any depth (Complaint › Water › Leak).
CREATE TABLE categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id   uuid REFERENCES categories (id) ON DELETE RESTRICT,
    name        text NOT NULL,
    position    integer NOT NULL DEFAULT 0,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX categories_name ON categories (coalesce(parent_id, '00000000-0000-0000-0000-000000000000'), lower(name));

-- Every contact with a customer: calls (later e-mail and SMS) and manual notes.
CREATE TABLE interactions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id  uuid REFERENCES customers (id),
    channel      text NOT NULL CHECK (channel IN ('call', 'email', 'sms', 'manual')),
    direction    text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    category_id  uuid REFERENCES categories (id),
    notes        text NOT NULL DEFAULT '',
    agent_id     uuid REFERENCES users (id),
    call_id      text,
    phone        text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_customer ON interactions (customer_id, created_at DESC);
