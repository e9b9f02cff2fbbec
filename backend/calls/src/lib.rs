//! Hotline call control as pure decisions, in the style of `hotline-acd` and `hotline-flows`:
//! no I/O, no clock, no randomness. The backend's shell (`backend/src/dispatch.rs`,
//! `queue_exit.rs`…) reads the facts, asks here what to do, and performs it.

pub mod offers;
pub mod priority;
pub mod queue_exit;

pub use priority::call_priority;
