//! Where a caller goes when their queue's maximum wait passes.
//!
//! The ACD knows only two exits at maximum wait: another queue (its id), or leaving the ACD
//! (its word for that is `voicemail`). Each queue's `max_wait_action` says what leaving means —
//! voicemail, a callback request, or a message and hang-up — and the backend acts on the ACD's
//! `overflowed` event with the [`plan`] made here.

use hotline_wire::api::MaxWaitAction;
use uuid::Uuid;

/// The ACD's word for "the call leaves the ACD at maximum wait" (see `hotline_acd::QueueRec`).
pub const LEAVE_ACD: &str = "voicemail";

/// The longest voicemail a queue takes (the IVR's voicemail node chooses its own).
pub const VOICEMAIL_MAX_MS: u32 = 120_000;

/// Built-in prompt played before hanging up after a callback request.
pub const CALLBACK_PROMPT: &str = "callback-promise";
/// Built-in prompt played before hanging up at maximum wait.
pub const HANGUP_PROMPT: &str = "all-busy";

/// What the ACD is told about a queue's maximum wait: empty (no maximum), the overflow queue's
/// id, or [`LEAVE_ACD`]. An overflow whose queue is gone (deleted) leaves the ACD like
/// voicemail, and [`plan`] then takes the message.
pub fn acd_overflow(
    max_wait_seconds: i32,
    action: MaxWaitAction,
    overflow_queue: Option<Uuid>,
) -> String {
    match (max_wait_seconds, action, overflow_queue) {
        (s, _, _) if s <= 0 => String::new(),
        (_, MaxWaitAction::Overflow, Some(q)) => q.to_string(),
        _ => LEAVE_ACD.to_string(),
    }
}

/// What the gateway does with the caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Step {
    /// Beep ("leave a message after the tone") and record.
    RecordVoicemail { max_ms: u32 },
    /// Play the prompt, then hang up.
    PlayThenHangUp { prompt: String },
    /// Hang up at once.
    HangUp,
}

/// What happens to a call that left its queue at maximum wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The missed-calls entry's reason (its CDR outcome too); none for a campaign's call,
    /// which is not a missed inbound call.
    pub missed_reason: Option<&'static str>,
    /// The CDR outcome when no missed-calls entry sets it.
    pub outcome: &'static str,
    pub step: Step,
}

/// The plan for a call whose queue's `max_wait_action` is `action` (with its optional
/// prompt); `campaign` for an outbound campaign's answered call waiting for an agent.
pub fn plan(action: MaxWaitAction, prompt: Option<&str>, campaign: bool) -> Plan {
    if campaign {
        return Plan {
            missed_reason: None,
            outcome: "max_wait",
            step: Step::HangUp,
        };
    }
    let prompt_or = |default: &str| prompt.unwrap_or(default).to_string();
    match action {
        // Overflow only leaves the ACD when its queue is gone: take a message instead.
        MaxWaitAction::Voicemail | MaxWaitAction::Overflow => Plan {
            missed_reason: Some("voicemail"),
            outcome: "voicemail",
            step: Step::RecordVoicemail {
                max_ms: VOICEMAIL_MAX_MS,
            },
        },
        MaxWaitAction::Callback => Plan {
            missed_reason: Some("callback_request"),
            outcome: "callback_request",
            step: Step::PlayThenHangUp {
                prompt: prompt_or(CALLBACK_PROMPT),
            },
        },
        MaxWaitAction::Hangup => Plan {
            missed_reason: Some("max_wait"),
            outcome: "max_wait",
            step: Step::PlayThenHangUp {
                prompt: prompt_or(HANGUP_PROMPT),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_acd_is_told_to_move_or_let_go() {
        let q = Uuid::new_v4();
        assert_eq!(acd_overflow(0, MaxWaitAction::Overflow, Some(q)), "");
        assert_eq!(acd_overflow(0, MaxWaitAction::Voicemail, None), "");
        assert_eq!(
            acd_overflow(30, MaxWaitAction::Overflow, Some(q)),
            q.to_string()
        );
        // The overflow queue was deleted: the caller is not stranded.
        assert_eq!(acd_overflow(30, MaxWaitAction::Overflow, None), LEAVE_ACD);
        for a in [
            MaxWaitAction::Voicemail,
            MaxWaitAction::Callback,
            MaxWaitAction::Hangup,
        ] {
            // A stale overflow queue id does not win over the chosen action.
            assert_eq!(acd_overflow(30, a, Some(q)), LEAVE_ACD);
        }
    }

    #[test]
    fn every_exit_writes_a_missed_call_matching_its_outcome() {
        for a in MaxWaitAction::ALL {
            let p = plan(a, None, false);
            assert_eq!(p.missed_reason, Some(p.outcome), "{a:?}");
            assert!(p.step != Step::HangUp, "{a:?} says something first");
        }
        assert_eq!(
            plan(MaxWaitAction::Voicemail, None, false).step,
            Step::RecordVoicemail {
                max_ms: VOICEMAIL_MAX_MS
            }
        );
        assert_eq!(
            plan(MaxWaitAction::Hangup, None, false).step,
            Step::PlayThenHangUp {
                prompt: HANGUP_PROMPT.into()
            }
        );
        assert_eq!(
            plan(MaxWaitAction::Callback, Some("our-callback"), false),
            Plan {
                missed_reason: Some("callback_request"),
                outcome: "callback_request",
                step: Step::PlayThenHangUp {
                    prompt: "our-callback".into()
                }
            }
        );
        // A campaign's call is not a missed inbound call.
        let c = plan(MaxWaitAction::Voicemail, None, true);
        assert_eq!((c.missed_reason, c.step), (None, Step::HangUp));
    }
}
