//! The tenant administrator's first steps (the SPA's home page checklist).

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;
use uuid::Uuid;

/// Which of the five first steps the tenant has done, read from its own data each time.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OnboardingDto {
    /// More than one active user (someone besides the administrator who signed up).
    pub agents_added: bool,
    /// At least one queue.
    pub queue_created: bool,
    /// At least one IVR flow with a published version.
    pub flow_published: bool,
    /// At least one of the tenant's numbers is assigned to a flow.
    pub number_mapped: bool,
    /// At least one call has a call detail record.
    pub first_call: bool,
}

impl OnboardingDto {
    /// How many of the steps are done.
    pub fn done(&self) -> usize {
        [
            self.agents_added,
            self.queue_created,
            self.flow_published,
            self.number_mapped,
            self.first_call,
        ]
        .iter()
        .filter(|d| **d)
        .count()
    }

    /// The number of steps.
    pub const STEPS: usize = 5;
}

/// A queue the signed-in agent serves (they have every skill it requires, at its level).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MyQueueDto {
    pub id: Uuid,
    pub name: String,
}
