-- Translations of workflow move names (the ticket page's buttons: "Start work", "Approve"),
-- like 0019's for categories, ticket types and statuses: a language code (az, en, pl, ru, zh)
-- → the name in that language; the SPA falls back to `name`. Validated by the ticket-type API
-- (routes/tickets.rs `check_workflow`: `transitions[i].name_i18n`).
ALTER TABLE ticket_transitions
    ADD COLUMN name_i18n jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(name_i18n) = 'object');
