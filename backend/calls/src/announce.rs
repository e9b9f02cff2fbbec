//! Position-in-queue and estimated-wait announcements, decided: a waiting caller's place in
//! line, their estimated wait, the words that say both, when one is due, and which intervals
//! a queue may choose. The shell (`backend/src/announce.rs`) reads the ACD and the queues,
//! and performs.

use hotline_wire::api::{ANNOUNCE_MAX_SECS, ANNOUNCE_MIN_SECS};

/// What is wrong with a queue's announcement settings, if anything: the interval is 0 (off)
/// or [`ANNOUNCE_MIN_SECS`]..=[`ANNOUNCE_MAX_SECS`], and there is one whenever an announcement
/// is on.
pub fn interval_problem(position: bool, wait: bool, every_secs: i32) -> Option<String> {
    if every_secs != 0 && !(ANNOUNCE_MIN_SECS..=ANNOUNCE_MAX_SECS).contains(&every_secs) {
        Some(format!(
            "must be 0 (off) or between {ANNOUNCE_MIN_SECS} and {ANNOUNCE_MAX_SECS}"
        ))
    } else if every_secs == 0 && (position || wait) {
        Some(format!(
            "choose how often callers hear the announcements \
             ({ANNOUNCE_MIN_SECS}–{ANNOUNCE_MAX_SECS} s)"
        ))
    } else {
        None
    }
}

/// The callers of one queue not yet with an agent, `(id, priority, arrival seq)`, with their
/// place in line, 1 first: higher priority first, then arrival order — the order the ACD
/// offers them in.
pub fn places<K>(mut line: Vec<(K, u64, u64)>) -> Vec<(K, usize)> {
    line.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    line.into_iter()
        .enumerate()
        .map(|(i, (id, _, _))| (id, i + 1))
        .collect()
}

/// Estimated wait in seconds of the caller at `position` (1 = next) when `agents` serve the
/// queue and a call takes `handle_secs` (talk plus wrap-up):
///
/// `wait = (⌈position / agents⌉ − ½) × handle_secs`
///
/// The agents take the line `agents` callers at a time, one handle time per round; the round
/// in progress is, on average, half done. `None` without agents: nobody is coming.
pub fn estimate_secs(position: usize, agents: usize, handle_secs: f64) -> Option<u64> {
    if agents == 0 || position == 0 {
        return None;
    }
    let rounds = position.div_ceil(agents) as f64;
    Some(((rounds - 0.5) * handle_secs.max(0.0)).round() as u64)
}

/// The estimate as said: whole minutes, rounded up, at least one.
pub fn spoken_minutes(secs: u64) -> u64 {
    secs.div_ceil(60).max(1)
}

/// Built-in prompts saying `n` (1–999; larger is said as 999) in words: `digit-<d>` for
/// 1–9, `number-<n>` for 10–19 and the tens, `number-hundred`.
pub fn spoken_number(n: u64) -> Vec<String> {
    let n = n.min(999);
    let mut out = Vec::new();
    if n >= 100 {
        out.push(format!("digit-{}", n / 100));
        out.push("number-hundred".to_string());
    }
    match n % 100 {
        0 => {}
        r @ 1..=9 => out.push(format!("digit-{r}")),
        r @ 10..=19 => out.push(format!("number-{r}")),
        r => {
            out.push(format!("number-{}", r / 10 * 10));
            if r % 10 != 0 {
                out.push(format!("digit-{}", r % 10));
            }
        }
    }
    out
}

/// What the caller hears: "You are caller number N" when `position` is given, "Your estimated
/// waiting time is about M minute(s)" when `wait_minutes` is.
pub fn phrases(position: Option<usize>, wait_minutes: Option<u64>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = position {
        out.push("queue-position".to_string());
        out.extend(spoken_number(p as u64));
    }
    if let Some(m) = wait_minutes {
        out.push("queue-wait".to_string());
        out.extend(spoken_number(m));
        out.push(
            if m == 1 {
                "queue-minute"
            } else {
                "queue-minutes"
            }
            .to_string(),
        );
    }
    out
}

/// Which announcement is due for a call that entered its queue at `enqueued_ms`: the number of
/// whole intervals waited (the first after one interval), `None` before that.
pub fn due_slot(now_ms: u64, enqueued_ms: u64, interval_secs: u64) -> Option<u64> {
    if interval_secs == 0 {
        return None;
    }
    let slot = now_ms.saturating_sub(enqueued_ms) / (interval_secs * 1000);
    (slot >= 1).then_some(slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_priority_first_then_arrival() {
        let line = vec![("a", 0, 1), ("b", 5, 4), ("c", 0, 2), ("f", 5, 3)];
        assert_eq!(places(line), vec![("f", 1), ("b", 2), ("a", 3), ("c", 4)]);
        assert!(places(Vec::<(&str, u64, u64)>::new()).is_empty());
    }

    #[test]
    fn the_interval_is_off_or_within_bounds_and_needed_when_announcing() {
        assert_eq!(interval_problem(false, false, 0), None);
        assert_eq!(interval_problem(true, false, 15), None);
        assert_eq!(interval_problem(true, true, 600), None);
        assert_eq!(
            interval_problem(false, false, 60),
            None,
            "set but off: harmless"
        );
        for (position, wait, every) in [
            (true, false, 14),
            (false, true, 601),
            (false, false, -1),
            (true, true, 0),
        ] {
            assert!(
                interval_problem(position, wait, every).is_some(),
                "{position} {wait} {every}"
            );
        }
    }

    #[test]
    fn the_estimate_counts_rounds_of_the_serving_agents_the_current_one_half_done() {
        assert_eq!(estimate_secs(1, 1, 180.0), Some(90));
        assert_eq!(estimate_secs(2, 1, 180.0), Some(270));
        assert_eq!(estimate_secs(2, 2, 180.0), Some(90));
        assert_eq!(estimate_secs(3, 2, 200.0), Some(300));
        assert_eq!(estimate_secs(1, 0, 180.0), None, "nobody serves the queue");
        assert_eq!(spoken_minutes(90), 2);
        assert_eq!(spoken_minutes(120), 2);
        assert_eq!(spoken_minutes(5), 1, "never zero minutes");
    }

    #[test]
    fn numbers_are_said_in_words() {
        assert_eq!(spoken_number(7), ["digit-7"]);
        assert_eq!(spoken_number(13), ["number-13"]);
        assert_eq!(spoken_number(40), ["number-40"]);
        assert_eq!(spoken_number(42), ["number-40", "digit-2"]);
        assert_eq!(spoken_number(305), ["digit-3", "number-hundred", "digit-5"]);
        assert_eq!(spoken_number(100), ["digit-1", "number-hundred"]);
        assert_eq!(
            spoken_number(5_000),
            ["digit-9", "number-hundred", "number-90", "digit-9"]
        );
    }

    #[test]
    fn the_phrases_are_built_in_prompts_in_order() {
        let all = phrases(Some(21), Some(1));
        assert_eq!(
            all,
            [
                "queue-position",
                "number-20",
                "digit-1",
                "queue-wait",
                "digit-1",
                "queue-minute"
            ]
        );
        assert_eq!(
            phrases(None, Some(3)),
            ["queue-wait", "digit-3", "queue-minutes"]
        );
        assert!(phrases(None, None).is_empty());
        for n in 1..=999 {
            let said = phrases(Some(n), Some(n as u64));
            assert!(
                said.iter()
                    .all(|p| hotline_wire::prompts::is_builtin_prompt(p)),
                "{n}: {said:?}"
            );
        }
    }

    #[test]
    fn one_announcement_per_interval_from_the_first_interval_on() {
        assert_eq!(due_slot(10_000, 0, 15), None);
        assert_eq!(due_slot(15_000, 0, 15), Some(1));
        assert_eq!(due_slot(29_999, 0, 15), Some(1));
        assert_eq!(due_slot(30_000, 0, 15), Some(2));
        assert_eq!(due_slot(30_000, 0, 0), None);
        assert_eq!(due_slot(0, 5_000, 15), None, "clock behind the ACD's");
    }
}
