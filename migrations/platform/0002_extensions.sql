-- Trigram matching for fuzzy customer and knowledge-base search. Extensions are per
-- database; tenant code reaches them schema-qualified (public.gin_trgm_ops, public.similarity).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
