-- Desk phones (issue 18, backend/src/desk_phones.rs): one SIP account per user, for the
-- extension the user had when it was created. Only the digest HA1 is stored —
-- MD5(extension:realm:password), realm = the tenant slug — which is what the media gateway
-- checks a REGISTER against (copied to Redis `{t:<tenant>}:sip:ext:<ext>`); the password is
-- shown once. Changing the user's extension or deactivating the user removes the account.
CREATE TABLE sip_accounts (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    extension   text NOT NULL UNIQUE CHECK (extension ~ '^[0-9]{2,8}$'),
    ha1         text NOT NULL CHECK (ha1 ~ '^[0-9a-f]{32}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    rotated_at  timestamptz NOT NULL DEFAULT now()
);
