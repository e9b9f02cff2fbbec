-- The file store's metadata (the bytes live on disk under files_dir/<tenant>/<id>),
-- attachments on tickets and KB articles, saved views of the ticket register, and search of
-- ticket comments.

CREATE TABLE files (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    content_type  text NOT NULL,
    size          bigint NOT NULL CHECK (size >= 0),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A file belongs to one ticket or article; deleting the attachment deletes the file.
CREATE TABLE ticket_attachments (
    ticket_id  uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    file_id    uuid NOT NULL UNIQUE REFERENCES files (id) ON DELETE CASCADE,
    PRIMARY KEY (ticket_id, file_id)
);

CREATE TABLE kb_attachments (
    article_id  uuid NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    file_id     uuid NOT NULL UNIQUE REFERENCES files (id) ON DELETE CASCADE,
    PRIMARY KEY (article_id, file_id)
);

-- Attachments added and removed are part of a ticket's history.
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_kind_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_kind_check
    CHECK (kind IN ('created', 'status', 'assigned', 'comment', 'note', 'updated', 'attached', 'detached'));

-- The register searches comments and notes too.
CREATE INDEX ticket_events_search ON ticket_events USING gin (lower(body) public.gin_trgm_ops)
    WHERE kind IN ('comment', 'note');

-- Named register filters: private to their owner, or shared with the whole tenant.
CREATE TABLE ticket_views (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL,
    shared      boolean NOT NULL DEFAULT false,
    filters     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ticket_views_name ON ticket_views (owner_id, lower(name));
CREATE INDEX ticket_views_shared ON ticket_views (shared) WHERE shared;
