-- Internal calls (one employee's phone to another's, `direction = 'internal'`): the CDR row of
-- the called side records whom it rang (`callee_user_id`) beside the caller (`agent_id`).
ALTER TABLE cdrs DROP CONSTRAINT cdrs_direction_check;
ALTER TABLE cdrs ADD CONSTRAINT cdrs_direction_check
    CHECK (direction IN ('inbound', 'outbound', 'internal'));
ALTER TABLE cdrs ADD COLUMN callee_user_id uuid;
