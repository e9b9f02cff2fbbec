-- E-mail verification before outbound calls (`verify.rs`): a tenant made by sign-up (or by an
-- operator) may not call outside numbers until its administrator follows the link e-mailed to
-- them. Tenants that exist when this migration runs count as verified (set up before the
-- check existed); `hotline seed-demo` marks the demo tenant verified.
ALTER TABLE platform.tenants ADD COLUMN email_verified_at timestamptz;
UPDATE platform.tenants SET email_verified_at = now();

-- Links sent: only the SHA-256 of the token is kept. A token is single use (`used_at`) and
-- expires (`expires_at`, 48 h after it was sent).
CREATE TABLE platform.email_verifications (
    token_hash  bytea PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    email       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX email_verifications_tenant ON platform.email_verifications (tenant_id, created_at);
