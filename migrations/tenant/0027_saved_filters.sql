-- Saved filters (issue 18): a user's named searches on a list screen (`screen`, e.g.
-- `customers`), kept on the server so they follow the user to any browser. `query` is the
-- screen's own filter values (an object of short strings); only its owner sees or removes one.
CREATE TABLE saved_filters (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    screen     text NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    query      jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, screen, name)
);
