//! RTP (RFC 3550) packet parsing/building, RFC 4733 telephone-events and minimal RTCP.

/// A parsed RTP packet borrowing its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Payload type.
    pub payload_type: u8,
    /// Marker bit.
    pub marker: bool,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Payload without padding.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses a datagram; `None` for anything that is not a well-formed RTP v2 packet.
    pub fn parse(buf: &'a [u8]) -> Option<Self> {
        if buf.len() < 12 || buf[0] >> 6 != 2 {
            return None;
        }
        let padding = buf[0] & 0x20 != 0;
        let extension = buf[0] & 0x10 != 0;
        let csrc = (buf[0] & 0x0F) as usize;
        let pt = buf[1] & 0x7F;
        // RTCP packet types 200-204 share the port when muxed: not RTP.
        if (72..=76).contains(&pt) {
            return None;
        }
        let mut off = 12 + csrc * 4;
        if buf.len() < off {
            return None;
        }
        if extension {
            if buf.len() < off + 4 {
                return None;
            }
            let words = u16::from_be_bytes([buf[off + 2], buf[off + 3]]) as usize;
            off += 4 + words * 4;
            if buf.len() < off {
                return None;
            }
        }
        let mut end = buf.len();
        if padding {
            let pad = *buf.last()? as usize;
            if pad == 0 || end - off < pad {
                return None;
            }
            end -= pad;
        }
        Some(RtpPacket {
            payload_type: pt,
            marker: buf[1] & 0x80 != 0,
            seq: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
            payload: &buf[off..end],
        })
    }
}

/// Writes an RTP packet (no CSRC, no extension) into `out`.
pub fn write_rtp(
    out: &mut Vec<u8>,
    payload_type: u8,
    marker: bool,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
    payload: &[u8],
) {
    out.clear();
    out.push(0x80);
    out.push(payload_type & 0x7F | if marker { 0x80 } else { 0 });
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

/// An RFC 4733 telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0-9 digits, 10 `*`, 11 `#`, 12-15 `A`-`D`.
    pub event: u8,
    /// End bit.
    pub end: bool,
    /// Volume (dBm0, positive).
    pub volume: u8,
    /// Duration in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the 4-byte payload.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        if payload.len() < 4 {
            return None;
        }
        Some(TelephoneEvent {
            event: payload[0],
            end: payload[1] & 0x80 != 0,
            volume: payload[1] & 0x3F,
            duration: u16::from_be_bytes([payload[2], payload[3]]),
        })
    }

    /// Serialises the 4-byte payload.
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (self.volume & 0x3F) | if self.end { 0x80 } else { 0 },
            d[0],
            d[1],
        ]
    }

    /// The DTMF character of the event, if it is a DTMF event.
    pub fn digit(self) -> Option<char> {
        event_to_digit(self.event)
    }
}

/// Maps an RFC 4733 event code to its DTMF character.
pub fn event_to_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some((b'0' + event) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + event - 12) as char),
        _ => None,
    }
}

/// Maps a DTMF character to its RFC 4733 event code.
pub fn digit_to_event(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// Builds a minimal RTCP sender report (RFC 3550 §6.4.1) with no report block.
pub fn rtcp_sender_report(ssrc: u32, ntp: u64, rtp_ts: u32, packets: u32, octets: u32) -> [u8; 28] {
    let mut b = [0u8; 28];
    b[0] = 0x80;
    b[1] = 200;
    b[2..4].copy_from_slice(&6u16.to_be_bytes());
    b[4..8].copy_from_slice(&ssrc.to_be_bytes());
    b[8..16].copy_from_slice(&ntp.to_be_bytes());
    b[16..20].copy_from_slice(&rtp_ts.to_be_bytes());
    b[20..24].copy_from_slice(&packets.to_be_bytes());
    b[24..28].copy_from_slice(&octets.to_be_bytes());
    b
}

/// Receiver statistics of one RTP stream (RFC 3550 §6.4.1 / A.3): packets expected from the
/// sequence numbers versus packets received. A jump of more than 3000 ahead or 100 behind
/// (a restarted sender, e.g. a new SSRC after re-INVITE) starts a new counting segment.
#[derive(Debug, Default, Clone)]
pub struct RecvStats {
    base: u64,
    max: Option<u64>,
    received: u64,
    expected_before: u64,
    received_before: u64,
}

impl RecvStats {
    /// Counts one packet.
    pub fn on_packet(&mut self, seq: u16) {
        let Some(max) = self.max else {
            self.base = seq as u64 + (1 << 16);
            self.max = Some(self.base);
            self.received = 1;
            return;
        };
        let cand = (max & !0xFFFF) | seq as u64;
        let ext = [cand.saturating_sub(1 << 16), cand, cand + (1 << 16)]
            .into_iter()
            .min_by_key(|c| c.abs_diff(max))
            .unwrap_or(cand);
        if ext > max + 3000 || ext + 100 < max {
            self.expected_before += max - self.base + 1;
            self.received_before += self.received;
            self.base = ext;
            self.max = Some(ext);
            self.received = 1;
            return;
        }
        self.max = Some(max.max(ext));
        self.received += 1;
    }

    /// Packets the sequence numbers say were sent.
    pub fn expected(&self) -> u64 {
        self.expected_before + self.max.map(|m| m - self.base + 1).unwrap_or(0)
    }

    /// Packets never received (duplicates do not make this negative).
    pub fn lost(&self) -> u64 {
        self.expected()
            .saturating_sub(self.received_before + self.received)
    }
}

/// Tracks RFC 4733 events of one stream and reports each key press once.
#[derive(Debug, Default)]
pub struct DtmfReceiver {
    last_timestamp: Option<u32>,
}

impl DtmfReceiver {
    /// Feeds one telephone-event packet; returns the digit when a new event starts.
    ///
    /// An event is identified by its RTP timestamp (RFC 4733 §2.5.1.2): retransmitted end
    /// packets and continuation packets of the same event are ignored.
    pub fn on_packet(&mut self, timestamp: u32, payload: &[u8]) -> Option<char> {
        let ev = TelephoneEvent::parse(payload)?;
        if self.last_timestamp == Some(timestamp) {
            return None;
        }
        self.last_timestamp = Some(timestamp);
        ev.digit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn build_then_parse() {
        let mut out = Vec::new();
        write_rtp(&mut out, 0, true, 7, 160, 42, &[1, 2, 3]);
        let p = RtpPacket::parse(&out).unwrap();
        assert_eq!(p.payload_type, 0);
        assert!(p.marker);
        assert_eq!(p.seq, 7);
        assert_eq!(p.timestamp, 160);
        assert_eq!(p.ssrc, 42);
        assert_eq!(p.payload, &[1, 2, 3]);
    }

    #[test]
    fn dtmf_event_reported_once() {
        let mut rx = DtmfReceiver::default();
        let start = TelephoneEvent {
            event: 1,
            end: false,
            volume: 10,
            duration: 160,
        }
        .to_bytes();
        let end = TelephoneEvent {
            event: 1,
            end: true,
            volume: 10,
            duration: 800,
        }
        .to_bytes();
        assert_eq!(rx.on_packet(1000, &start), Some('1'));
        assert_eq!(rx.on_packet(1000, &start), None);
        assert_eq!(rx.on_packet(1000, &end), None);
        assert_eq!(rx.on_packet(1000, &end), None);
        assert_eq!(rx.on_packet(5000, &start), Some('1'));
    }

    #[test]
    fn receiver_stats_count_gaps_wraps_and_restarts() {
        let mut st = RecvStats::default();
        // 65_001..=65_999 (wrapping past 65_535) without the nine multiples of 100 inside.
        for seq in (65_001u32..66_000).filter(|s| s % 100 != 0) {
            st.on_packet(seq as u16);
        }
        assert_eq!(st.expected(), 999);
        assert_eq!(st.lost(), 9);
        // A restarted sender (seq back to 0) is a new segment, not 64k lost packets.
        for seq in 0..500u16 {
            st.on_packet(seq);
        }
        assert_eq!(st.expected(), 1499);
        assert_eq!(st.lost(), 9);
    }

    proptest! {
        #[test]
        fn stats_never_panic(seqs in proptest::collection::vec(any::<u16>(), 0..300)) {
            let mut st = RecvStats::default();
            for s in seqs { st.on_packet(s); }
            prop_assert!(st.lost() <= st.expected());
        }

        #[test]
        fn parse_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = RtpPacket::parse(&buf);
            let _ = TelephoneEvent::parse(&buf);
        }
    }
}
