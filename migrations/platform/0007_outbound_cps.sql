-- Outbound calls per second (`dial_policy.rs`, "Calls per second"), set by platform operators
-- with the other outbound rules (`PUT /platform/tenants/{id}/outbound-calls`, `max_cps`).
-- NULL: the platform default (`dial_policy::DEFAULT_OUTBOUND_CPS`); a trial tenant gets at
-- most `dial_policy::TRIAL_CPS` whatever is set here. The backend checks it before placing a
-- call and publishes the effective limits to Redis (`{t:<tenant>}:outbound:limits`), where
-- every media gateway enforces them again on each `originate`.
ALTER TABLE platform.tenants ADD COLUMN max_outbound_cps integer
    CHECK (max_outbound_cps BETWEEN 1 AND 10000);
