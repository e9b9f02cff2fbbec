//! Process-wide counters exposed in the Prometheus text format.

use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing or gauge counter.
pub struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Self {
        Counter(AtomicU64::new(0))
    }
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Subtracts `n` (gauges).
    pub fn sub(&self, n: u64) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Calls currently held (gauge).
pub static CALLS_ACTIVE: Counter = Counter::new();
/// INVITEs that created a call, all time.
pub static CALLS_TOTAL: Counter = Counter::new();
/// Calls rejected (404/403/488/503...).
pub static CALLS_REJECTED: Counter = Counter::new();
/// RTP packets received.
pub static RTP_IN: Counter = Counter::new();
/// RTP packets sent.
pub static RTP_OUT: Counter = Counter::new();
/// RTP packets never received (sequence-number gaps), counted when a call ends.
pub static RTP_LOST: Counter = Counter::new();
/// RTP packets the senders' sequence numbers announced, counted when a call ends.
pub static RTP_EXPECTED: Counter = Counter::new();
/// RTP packets that arrived after their playout time.
pub static RTP_LATE: Counter = Counter::new();
/// 20 ms frames concealed with silence by the jitter buffer (late or lost audio).
pub static RTP_CONCEALED: Counter = Counter::new();
/// SIP datagrams/messages dropped as unparseable.
pub static SIP_DROPPED: Counter = Counter::new();
/// RTP ports in use (gauge).
pub static PORTS_USED: Counter = Counter::new();

/// Renders all counters in the Prometheus exposition format.
pub fn render() -> String {
    let rows: [(&str, &str, &str, &Counter); 11] = [
        (
            "hotline_gw_calls_active",
            "gauge",
            "Calls in progress.",
            &CALLS_ACTIVE,
        ),
        (
            "hotline_gw_calls_total",
            "counter",
            "Calls started (rate() gives CPS).",
            &CALLS_TOTAL,
        ),
        (
            "hotline_gw_calls_rejected_total",
            "counter",
            "INVITEs answered with an error.",
            &CALLS_REJECTED,
        ),
        (
            "hotline_gw_rtp_packets_in_total",
            "counter",
            "RTP packets received.",
            &RTP_IN,
        ),
        (
            "hotline_gw_rtp_packets_out_total",
            "counter",
            "RTP packets sent.",
            &RTP_OUT,
        ),
        (
            "hotline_gw_rtp_lost_total",
            "counter",
            "RTP packets lost (sequence gaps, at call end).",
            &RTP_LOST,
        ),
        (
            "hotline_gw_rtp_expected_total",
            "counter",
            "RTP packets expected (at call end).",
            &RTP_EXPECTED,
        ),
        (
            "hotline_gw_rtp_late_total",
            "counter",
            "RTP packets too late for playout.",
            &RTP_LATE,
        ),
        (
            "hotline_gw_rtp_concealed_frames_total",
            "counter",
            "20 ms frames concealed by the jitter buffer.",
            &RTP_CONCEALED,
        ),
        (
            "hotline_gw_sip_dropped_total",
            "counter",
            "Unparseable SIP input dropped.",
            &SIP_DROPPED,
        ),
        (
            "hotline_gw_rtp_ports_used",
            "gauge",
            "RTP ports in use.",
            &PORTS_USED,
        ),
    ];
    let mut s = String::new();
    for (name, kind, help, c) in rows {
        s.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
            c.get()
        ));
    }
    s
}
