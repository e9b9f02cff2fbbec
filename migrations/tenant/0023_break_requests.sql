-- Breaks that need approval (issue 17): choosing a reason code with `needs_approval` files a
-- request instead of changing the agent's state; a supervisor (`supervise`) approves (the
-- agent then enters that state through the ACD) or denies it; the agent may cancel it while
-- it is pending. At most one pending request per agent.
CREATE TABLE break_requests (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason_id     uuid NOT NULL REFERENCES reason_codes (id) ON DELETE CASCADE,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'approved', 'denied', 'cancelled')),
    requested_at  timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    decided_by    uuid REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX break_requests_one_pending ON break_requests (agent_id) WHERE status = 'pending';
CREATE INDEX break_requests_recent ON break_requests (requested_at DESC);
