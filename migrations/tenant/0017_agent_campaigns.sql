-- Agent and survey campaigns. An agent campaign dials for a group of agents (an ACD queue:
-- the agents serving it) in preview, progressive or predictive mode; an answered call is
-- offered to a free agent with the campaign's script (a questionnaire with branching) on
-- their desktop, and the agent's answers are kept on the contact. When no agent is free the
-- called party hears a short message and the call counts as abandoned. A survey campaign
-- asks its questions itself (prompts, one key per answer).
ALTER TABLE campaigns DROP CONSTRAINT campaigns_kind_check;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_kind_check
    CHECK (kind IN ('message', 'agent', 'survey'));
ALTER TABLE campaigns
    ADD COLUMN dial_mode text CHECK (dial_mode IN ('preview', 'progressive', 'predictive')),
    ADD COLUMN queue_id uuid,
    -- Predictive mode keeps abandoned calls under this share of answered calls (percent).
    ADD COLUMN max_abandon_pct real NOT NULL DEFAULT 3 CHECK (max_abandon_pct > 0 AND max_abandon_pct <= 50),
    -- Questions (see hotline_wire::campaigns::ScriptQuestion), in order.
    ADD COLUMN script jsonb NOT NULL DEFAULT '[]',
    -- Heard when an answered call finds no free agent.
    ADD COLUMN no_agent_prompt text,
    -- What to do when answering-machine detection hears a machine: off (no detection),
    -- hang_up, leave_message (the message is played after the machine's greeting).
    ADD COLUMN machine_action text NOT NULL DEFAULT 'off'
        CHECK (machine_action IN ('off', 'hang_up', 'leave_message')),
    -- The campaign works the missed-calls list: every open entry becomes a contact (again
    -- when the number misses again), an answered call marks the entry handled. Such a
    -- campaign runs until it is stopped.
    ADD COLUMN work_missed_calls boolean NOT NULL DEFAULT false;

-- New contact states: previewing (an agent has it on screen in preview mode), abandoned
-- (answered with no agent free, and not retried), machine (an answering machine took it),
-- completed (a survey answered to its end), handled (its missed call was called back
-- another way meanwhile).
ALTER TABLE campaign_contacts DROP CONSTRAINT campaign_contacts_status_check;
ALTER TABLE campaign_contacts ADD CONSTRAINT campaign_contacts_status_check
    CHECK (status IN ('pending', 'previewing', 'dialing', 'answered', 'confirmed', 'not_confirmed',
                      'busy', 'no_answer', 'failed', 'dnc', 'abandoned', 'machine', 'completed',
                      'handled'));
ALTER TABLE campaign_contacts
    -- Script or survey answers: question id -> answer.
    ADD COLUMN answers jsonb NOT NULL DEFAULT '{}',
    -- The agent who talked to the contact last.
    ADD COLUMN agent_id uuid,
    -- Preview mode: the agent who has the contact on screen.
    ADD COLUMN reserved_by uuid,
    -- Taken from the missed-calls list: the entry it calls back.
    ADD COLUMN missed_call_id uuid;

ALTER TABLE campaign_attempts
    -- The agent the answered call was connected to.
    ADD COLUMN agent_id uuid,
    -- Answering-machine detection's decision, when it ran.
    ADD COLUMN amd text;
