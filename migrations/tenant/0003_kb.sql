-- Knowledge base: a category tree, articles with every version kept, a review workflow, and
-- full-text search (tsvector) with a word list for typo-tolerant matching.

CREATE TABLE kb_categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id   uuid REFERENCES kb_categories (id) ON DELETE RESTRICT,
    name        text NOT NULL,
    position    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX kb_categories_name ON kb_categories (coalesce(parent_id, '00000000-0000-0000-0000-000000000000'), lower(name));

CREATE TABLE kb_articles (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    category_id      uuid NOT NULL REFERENCES kb_categories (id) ON DELETE RESTRICT,
    title            text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'review', 'published', 'archived')),
    current_version  integer NOT NULL DEFAULT 1,
    author_id        uuid REFERENCES users (id),
    reviewed_by      uuid REFERENCES users (id),
    published_at     timestamptz,
    views            bigint NOT NULL DEFAULT 0,
    search           tsvector NOT NULL DEFAULT ''::tsvector,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kb_articles_search ON kb_articles USING gin (search);
CREATE INDEX kb_articles_category ON kb_articles (category_id);

CREATE TABLE kb_article_versions (
    article_id  uuid NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    version     integer NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    author_id   uuid REFERENCES users (id),
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, version)
);

-- Every word seen in the knowledge base, for "did you mean" expansion of misspelt queries.
CREATE TABLE kb_words (
    word  text PRIMARY KEY
);
CREATE INDEX kb_words_trgm ON kb_words USING gin (word public.gin_trgm_ops);

-- Articles used to answer an interaction.
CREATE TABLE interaction_articles (
    interaction_id  uuid NOT NULL REFERENCES interactions (id) ON DELETE CASCADE,
    article_id      uuid NOT NULL REFERENCES kb_articles (id),
    version         integer NOT NULL,
    attached_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (interaction_id, article_id)
);
