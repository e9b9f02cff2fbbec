-- System reasons are real reason codes: the ACD and the softphone put an agent "not ready"
-- with one of these (`builtin_key`), so the agent's state carries a real reason id and the
-- desktop shows the reason translated (catalog key `reason-builtin-<key>`). Built-in codes
-- cannot be deleted, renamed or given another kind (routes/org.rs).
--   missed            the agent did not answer an offer in time
--   rejected          the agent declined an offer (desktop, or "decline" on the desk phone)
--   softphone_lost    the browser softphone's connection ended while the agent was ready
--   phone_unreachable an offer failed on the agent's device (desk phone not registered,
--                     busy or failing; no device at all)
ALTER TABLE reason_codes
    ADD COLUMN builtin_key text UNIQUE
        CHECK (builtin_key IN ('missed', 'rejected', 'softphone_lost', 'phone_unreachable'));

-- 0001 seeded "Missed call" as an ordinary code; it becomes the built-in one (unless the
-- tenant renamed or deleted it, or made it a break: then a new one is added below).
UPDATE reason_codes SET builtin_key = 'missed'
 WHERE lower(name) = 'missed call' AND kind = 'not_ready';

-- A tenant's own code may already use one of the names: the built-in one then gets
-- " (system)" after its name (names are unique, case-insensitively).
INSERT INTO reason_codes (name, kind, needs_approval, builtin_key)
SELECT CASE WHEN EXISTS (SELECT 1 FROM reason_codes r WHERE lower(r.name) = lower(v.name))
            THEN v.name || ' (system)' ELSE v.name END,
       'not_ready', false, v.key
  FROM (VALUES ('Missed call', 'missed'),
               ('Rejected', 'rejected'),
               ('Softphone lost', 'softphone_lost'),
               ('Phone unreachable', 'phone_unreachable')) AS v (name, key)
 WHERE NOT EXISTS (SELECT 1 FROM reason_codes r WHERE r.builtin_key = v.key);
