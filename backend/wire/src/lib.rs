//! Wire types shared by the Hotline backend, the media gateway and the Yew SPA.
//!
//! This crate compiles for native targets and for `wasm32-unknown-unknown`; it holds data
//! shapes only — no I/O, no async runtime, no HTTP client. The `openapi` feature adds
//! `utoipa` schemas for the backend's generated OpenAPI document.

pub mod api;
pub mod calls;
pub mod campaigns;
pub mod crm;
pub mod crm_import;
pub mod desk_phones;
pub mod gateway;
pub mod names;
pub mod notifications;
pub mod numbers;
pub mod onboarding;
pub mod permissions;
pub mod prompts;
pub mod sla;
pub mod tickets;
pub mod trunks;
pub mod verify;
