//! Shared helpers for Hotline end-to-end tests.
