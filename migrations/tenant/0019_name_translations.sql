-- Translations of tenant-defined names (like dynamic content for field options): a
-- language code (az, en, pl, ru, zh) → the name in that language. The SPA shows the one for
-- the user's language and falls back to `name`. Validated by the API (routes/crm.rs,
-- routes/tickets.rs: `validate::Check::translations`).
ALTER TABLE categories
    ADD COLUMN name_i18n jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(name_i18n) = 'object');
ALTER TABLE ticket_types
    ADD COLUMN name_i18n jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(name_i18n) = 'object');
-- A workflow's statuses are rows of ticket_statuses: their labels are translated there.
ALTER TABLE ticket_statuses
    ADD COLUMN name_i18n jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(name_i18n) = 'object');
