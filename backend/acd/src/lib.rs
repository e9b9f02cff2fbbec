//! Hotline's ACD (automatic call distribution): which waiting call is offered to which agent.
//!
//! - [`model`]: the rules as a pure state machine (time passed in), property-tested
//!   (`tests/model_props.rs`): no call offered to two agents (but a ring-all's, connected to
//!   one), no agent holding two calls, no call lost, FIFO within a priority, no idle eligible
//!   agent while a call waits.
//! - [`redis_acd`]: the same rules as one Lua script run atomically in Redis over one tenant's
//!   hash-tagged keys (`{t:<tenant>}:acd:*`), so several backend processes share one ACD; the
//!   script is checked against the model on a real Redis (`tests/redis_model.rs`).
//!
//! Strategies: longest idle, round robin, fewest calls, skills (required skills with minimum
//! levels, then best total level, then longest idle), ring-all (every eligible Ready agent
//! rings; the first answer wins and the others' offers are cancelled, the agents Ready again);
//! call priority; ring-no-answer returns the call to the head of its queue and puts the agent
//! in not-ready `missed` (a ring-all's agents stay Ready and ring again); max wait overflows
//! to another queue or voicemail; wrap-up per queue.

pub mod model;
pub mod redis_acd;

pub use model::{AcdError, AgentRec, CallRec, Event, Op, QueueRec};
