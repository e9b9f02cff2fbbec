//! The order in which the ACD offers waiting calls.

/// A call's priority in the ACD, which offers waiting calls highest priority first across
/// every queue (then in arrival order): the queue's own priority (0–100) first — an agent
/// serving several queues takes the higher queue's callers first — then the priority the flow
/// (or a campaign) gives the call within it (0–255).
pub fn call_priority(queue_priority: i32, within: u8) -> u64 {
    queue_priority.clamp(0, 100) as u64 * 1_000 + u64::from(within)
}

#[cfg(test)]
mod tests {
    use super::call_priority;

    #[test]
    fn the_queue_priority_comes_first_then_the_flows() {
        assert!(call_priority(1, 0) > call_priority(0, 255));
        assert!(call_priority(5, 2) > call_priority(5, 1));
        assert_eq!(call_priority(0, 0), 0);
        // Out-of-range queue priorities (the API keeps 0–100) are clamped, never wrap.
        assert_eq!(call_priority(-3, 7), 7);
        assert_eq!(call_priority(1_000, 0), call_priority(100, 0));
    }
}
