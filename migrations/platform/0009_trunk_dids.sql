-- Tenant SIP trunks' inbound numbers (`backend/src/trunks.rs`, tenant migration 0028).
--
-- A number a tenant's own carrier delivers on one of its trunks is a row of `platform.dids`
-- like the pool's numbers, with the tenant and the trunk (`trunk_id`, a row of the tenant
-- schema's `trunks`): so a number is unique platform-wide (the primary key — a trunk cannot
-- claim a pool number or another tenant's trunk number), it is copied to the gateways'
-- Redis hash `platform:dids` with the tenant, the tenant maps it to a flow in `/ivr/dids`
-- like a pool number, and it may be shown as caller ID (`dial_policy`). Operators cannot
-- release such a number or give it to someone else: the tenant removes it from its trunk.
ALTER TABLE platform.dids ADD COLUMN trunk_id uuid;
ALTER TABLE platform.dids ADD CONSTRAINT dids_trunk_has_tenant
    CHECK (trunk_id IS NULL OR tenant_id IS NOT NULL);
CREATE INDEX dids_trunk ON platform.dids (trunk_id) WHERE trunk_id IS NOT NULL;
