-- Destinations a tenant's server-side requests (IVR HTTP lookups, SSO) may reach although
-- the outbound policy refuses them (private, loopback… addresses): granted by a platform
-- operator only (`PUT /platform/tenants/{id}/outbound-allow`). Entries are addresses, CIDR
-- blocks or host names with an optional port, checked by `outbound::AllowEntry::parse`.
ALTER TABLE platform.tenants ADD COLUMN outbound_allow text[] NOT NULL DEFAULT '{}';
