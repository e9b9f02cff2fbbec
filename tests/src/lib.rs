//! Shared helpers for Hotline end-to-end tests.

pub mod browser;
pub mod telephony;
