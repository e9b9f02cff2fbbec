-- Outbound call rules (`dial_policy.rs`), set by platform operators
-- (`PUT /platform/tenants/{id}/outbound-calls`); tenants can only narrow them further.
--
-- `trial`: a trial tenant places at most `dial_policy::TRIAL_LINES` outbound calls at once and
-- `dial_policy::TRIAL_CALLS_PER_DAY` a day. New tenants (sign-ups) are trial; the tenants that
-- exist when this migration runs were set up before trials existed and are not.
ALTER TABLE platform.tenants ADD COLUMN trial boolean NOT NULL DEFAULT false;
ALTER TABLE platform.tenants ALTER COLUMN trial SET DEFAULT true;
-- Country calling codes (digits, like '994', '1', '48') the tenant may call. NULL: the
-- tenant's own country (its CRM country code) only.
ALTER TABLE platform.tenants ADD COLUMN outbound_countries text[];
-- Number prefixes (E.164, like '+99490') refused on top of the built-in premium list.
ALTER TABLE platform.tenants ADD COLUMN outbound_blocked_prefixes text[] NOT NULL DEFAULT '{}';
-- Outbound calls in progress at once; NULL: the platform default.
ALTER TABLE platform.tenants ADD COLUMN max_outbound_calls integer
    CHECK (max_outbound_calls BETWEEN 0 AND 100000);
