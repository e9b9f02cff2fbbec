-- The platform's number pool and tenants' requests for its numbers (`routes/numbers.rs`).
--
-- A number without a tenant (`tenant_id IS NULL`) is in the pool: the operator added it and
-- gave it to no one yet. It routes to nobody: only numbers with a tenant are copied to the
-- gateways' Redis hash `platform:dids` (`gateway_sync.rs`), and every other reader of
-- `platform.dids` asks for one tenant's numbers. `region` is the operator's label (country,
-- city) shown to tenants choosing a number.
ALTER TABLE platform.dids ALTER COLUMN tenant_id DROP NOT NULL;
ALTER TABLE platform.dids ADD COLUMN region text NOT NULL DEFAULT '';
-- When the number was given to its tenant (NULL while in the pool).
ALTER TABLE platform.dids ADD COLUMN assigned_at timestamptz;
UPDATE platform.dids SET assigned_at = created_at WHERE tenant_id IS NOT NULL;
CREATE INDEX dids_free ON platform.dids (did) WHERE tenant_id IS NULL;

-- A tenant's request for a pool number. The operator approves it (the number becomes the
-- tenant's) or rejects it with a reason the tenant sees; the tenant may cancel it while it is
-- pending. No foreign key to `platform.dids`: a request outlives a number the operator
-- deleted (its pending requests are rejected first, with the reason).
CREATE TABLE platform.did_requests (
    id              uuid PRIMARY KEY,
    did             text NOT NULL,
    tenant_id       uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    note            text NOT NULL DEFAULT '',
    -- The operator's reason for a rejection (shown to the tenant).
    reason          text NOT NULL DEFAULT '',
    requested_by    uuid,
    requested_name  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz,
    -- The operator's e-mail, or `system` when the number went elsewhere.
    decided_by      text
);
-- One pending request per number, whoever asked: two tenants racing for a number, the
-- second one's insert fails (answered 409 `number_requested`).
CREATE UNIQUE INDEX did_requests_one_pending ON platform.did_requests (did)
    WHERE status = 'pending';
CREATE INDEX did_requests_tenant ON platform.did_requests (tenant_id, created_at DESC);
