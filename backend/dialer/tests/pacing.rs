//! Predictive pacing on simulated traffic keeps abandons under the limit and agents busier
//! than progressive dialling; calling hours follow the contact's time zone.

use chrono::{NaiveTime, TimeZone, Utc};
use hotline_dialer::{sim, window::CallingHours, Mode};

fn traffic(seed: u64) -> sim::Traffic {
    sim::Traffic {
        agents: 20,
        answer_rate: 0.3,
        handle_secs: 150.0,
        wrap_secs: 10.0,
        hours: 4.0,
        max_lines: 120,
        seed,
    }
}

#[test]
fn predictive_keeps_abandons_under_3_percent_and_beats_progressive_occupancy() {
    for seed in 1..=3 {
        let t = traffic(seed);
        let prog = sim::run(Mode::Progressive, &t);
        let pred = sim::run(Mode::Predictive { max_abandon: 0.03 }, &t);
        assert_eq!(prog.abandoned, 0, "progressive never abandons");
        assert!(
            pred.abandon_rate <= 0.03,
            "seed {seed}: abandon rate {:.2} %",
            pred.abandon_rate * 100.0
        );
        assert!(
            pred.occupancy > prog.occupancy + 0.05,
            "seed {seed}: predictive {:.1} % vs progressive {:.1} %",
            pred.occupancy * 100.0,
            prog.occupancy * 100.0
        );
        assert!(pred.connects_per_agent_hour > prog.connects_per_agent_hour);
    }
}

#[test]
fn a_stricter_limit_gives_fewer_abandons_and_other_traffic_stays_under_3_percent() {
    let t = traffic(7);
    let loose = sim::run(Mode::Predictive { max_abandon: 0.05 }, &t);
    let strict = sim::run(Mode::Predictive { max_abandon: 0.01 }, &t);
    assert!(
        strict.abandon_rate < loose.abandon_rate,
        "1 % limit {:.2} %, 5 % limit {:.2} %",
        strict.abandon_rate * 100.0,
        loose.abandon_rate * 100.0
    );
    for (agents, answer_rate, handle_secs) in [(10, 0.25, 120.0), (50, 0.2, 240.0)] {
        let t = sim::Traffic {
            agents,
            answer_rate,
            handle_secs,
            max_lines: agents * 6,
            ..traffic(11)
        };
        let pred = sim::run(Mode::Predictive { max_abandon: 0.03 }, &t);
        let prog = sim::run(Mode::Progressive, &t);
        assert!(
            pred.abandon_rate <= 0.03,
            "{agents} agents: {:.2} %",
            pred.abandon_rate * 100.0
        );
        assert!(pred.occupancy > prog.occupancy, "{agents} agents");
    }
}

#[test]
fn a_contact_where_it_is_22h_waits_until_its_morning() {
    let hours = CallingHours::weekdays(
        NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
    );
    // Tuesday 2026-11-24 18:00 UTC = 22:00 in Baku (UTC+4), 19:00 in Warsaw (UTC+1).
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 18, 0, 0).unwrap();
    assert!(!hours.is_open("Asia/Baku", now));
    assert!(hours.is_open("Europe/Warsaw", now));
    // Baku opens Wednesday 09:00 local = 05:00 UTC.
    assert_eq!(
        hours.next_open("Asia/Baku", now),
        Some(Utc.with_ymd_and_hms(2026, 11, 25, 5, 0, 0).unwrap())
    );
    // Friday 22:00 in Shanghai → Monday 09:00 local (01:00 UTC).
    let fri = Utc.with_ymd_and_hms(2026, 11, 27, 14, 0, 0).unwrap();
    assert_eq!(
        hours.next_open("Asia/Shanghai", fri),
        Some(Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).unwrap())
    );
    assert!(!hours.is_open("Not/AZone", now));
}
