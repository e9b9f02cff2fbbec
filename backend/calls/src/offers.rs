//! What a failed offer means: a desk phone's SIP answer, read as the reason the desktop shows
//! and the built-in reason code the agent is set not ready with.

use hotline_wire::gateway as wire;

/// What a desk phone leg that ended before answer says about the phone.
pub fn device_failure(cause: &wire::HangupCause, status: Option<u16>) -> String {
    use wire::HangupCause as C;
    match (cause, status) {
        (C::Rejected, Some(404 | 410 | 480)) => "phone_not_registered".into(),
        (C::Rejected, Some(486 | 600)) => "phone_busy".into(),
        (C::Rejected, Some(603)) => "phone_declined".into(),
        (C::Rejected, Some(408)) | (C::Timeout, _) => "phone_no_answer".into(),
        (C::Rejected, Some(s)) => format!("phone_failed:{s}"),
        _ => "phone_failed".into(),
    }
}

/// The built-in reason code an agent is set not ready with after the failure `why`: the
/// phone said no (busy, declined) is the agent's refusal; anything else is the device.
pub fn failure_reason_code(why: &str) -> &'static str {
    use hotline_wire::api::builtin_reasons as builtin;
    match why {
        "phone_busy" | "phone_declined" => builtin::REJECTED,
        "softphone_lost" => builtin::SOFTPHONE_LOST,
        _ => builtin::PHONE_UNREACHABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_wire::api::builtin_reasons as builtin;
    use wire::HangupCause as C;

    #[test]
    fn a_phones_answer_names_the_failure_and_its_reason_code() {
        assert_eq!(
            device_failure(&C::Rejected, Some(480)),
            "phone_not_registered"
        );
        assert_eq!(device_failure(&C::Rejected, Some(486)), "phone_busy");
        assert_eq!(device_failure(&C::Timeout, None), "phone_no_answer");
        assert_eq!(device_failure(&C::Rejected, Some(500)), "phone_failed:500");
        assert_eq!(failure_reason_code("phone_busy"), builtin::REJECTED);
        assert_eq!(
            failure_reason_code("softphone_lost"),
            builtin::SOFTPHONE_LOST
        );
        assert_eq!(
            failure_reason_code("phone_not_registered"),
            builtin::PHONE_UNREACHABLE
        );
    }
}
