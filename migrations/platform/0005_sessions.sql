-- Sessions an operator (or their owner) can list and revoke one by one.
--
-- `id`: a public handle for a session (the token's hash stays the key and is never shown).
-- `last_seen_at` / `last_seen_ip`: when and from where the session was last used, written at
-- most once a minute (`auth::from_session`). Sessions that exist when this runs start unseen.
ALTER TABLE platform.sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE platform.sessions ADD CONSTRAINT sessions_id UNIQUE (id);
ALTER TABLE platform.sessions ADD COLUMN last_seen_at timestamptz;
ALTER TABLE platform.sessions ADD COLUMN last_seen_ip text;

-- The operators' audit keeps the browser as well as the address (tenant audit logs keep the
-- address; the user agent of a tenant user's sign-in is on the session).
ALTER TABLE platform.audit ADD COLUMN user_agent text;
