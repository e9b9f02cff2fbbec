-- The audit log records the client's user agent beside its address (issue 16, item 7):
-- both come from `auth::RequestMeta` (the address through the trusted-proxy rules of
-- `client_addr.rs`). Rows written before this migration have none.
ALTER TABLE audit_log ADD COLUMN user_agent text;
