//! SIP: message helpers over `rsip`, sans-IO transactions (RFC 3261 §17) and the UAS endpoint
//! with its dialogs.

pub mod digest;
pub mod endpoint;
pub mod msg;
pub mod transaction;
