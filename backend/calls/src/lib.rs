//! Hotline call control as pure decisions, in the style of `hotline-acd` and `hotline-flows`:
//! no I/O, no clock, no randomness. The backend's shell (`backend/src/dispatch.rs`,
//! `queue_exit.rs`…) reads the facts, asks here what to do, and performs it.
//!
//! - [`control`]: one queued call's control as a state machine (its legs, bridges, hold,
//!   consultation, conference, transfer, maximum wait and outcome), with property tests of
//!   its promises. It is the specification the backend's shell is being moved onto: today
//!   `dispatch.rs`, `consult.rs` and `queue_exit.rs` still decide in their own code, and
//!   this machine does not run in the product yet.
//! - [`queue_exit`], [`offers`], [`priority`], [`announce`]: decisions the shell already
//!   takes from here.

pub mod announce;
pub mod control;
pub mod offers;
pub mod priority;
pub mod queue_exit;

pub use priority::call_priority;
