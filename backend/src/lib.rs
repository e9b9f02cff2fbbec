//! The Hotline API server.
//!
//! Entry points: [`app::state`] connects and migrates, [`app::router`] builds the HTTP
//! application, [`testkit`] spawns a real server on a fresh database for tests.

pub mod agents;
pub mod allow_list;
pub mod announce;
pub mod app;
pub mod auth;
pub mod call_control;
pub mod call_events;
pub mod call_io;
pub mod callback;
pub mod campaigns;
pub mod cdr;
pub mod client_addr;
pub mod config;
pub mod crm;
pub mod crm_import;
pub mod csrf;
pub mod db;
pub mod desk_phones;
pub mod desktop;
pub mod devices;
pub mod dial_policy;
pub mod dispatch;
pub mod error;
pub mod files;
pub mod gateway_sync;
pub mod internal;
pub mod ivr;
pub mod notify;
pub mod numbers;
pub mod openapi;
pub mod outbound;
pub mod password;
pub mod queue_exit;
pub mod ratelimit;
pub mod reminders;
pub mod routes;
pub mod seed;
pub mod sla;
pub mod softphone;
pub mod spa;
pub mod state;
pub mod telemetry;
pub mod tenants;
pub mod testkit;
pub mod text;
pub mod ticket_types;
pub mod trunks;
pub mod validate;
pub mod verify;
pub mod voicemail;
