//! A pcap capture of RTP packets carrying audio (G.711, 20 ms each), the form SIPp's
//! `play_pcap_audio` plays: tests and benchmarks give their SIP peers known sounds with it.

use super::g711::G711;

/// The capture (Ethernet frames, IPv4/UDP 127.0.0.1:6000 → :6000) of `samples` (8 kHz) as
/// RTP packets of `codec`, one every 20 ms.
pub fn rtp_pcap(codec: G711, samples: &[i16]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    for (i, chunk) in samples.chunks(160).enumerate() {
        let mut rtp = vec![
            0x80,
            codec.payload_type(),
            0,
            0,
            0,
            0,
            0,
            0,
            0x12,
            0x34,
            0x56,
            0x78,
        ];
        rtp[2..4].copy_from_slice(&(i as u16).to_be_bytes());
        rtp[4..8].copy_from_slice(&((i * 160) as u32).to_be_bytes());
        codec.encode(chunk, &mut rtp);
        let udp_len = 8 + rtp.len();
        let ip_len = 20 + udp_len;
        let mut pkt = vec![0u8; 12];
        pkt.extend_from_slice(&[0x08, 0x00]);
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        let mut sum: u32 = ip
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]) as u32)
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        pkt.extend_from_slice(&ip);
        pkt.extend_from_slice(&6000u16.to_be_bytes());
        pkt.extend_from_slice(&6000u16.to_be_bytes());
        pkt.extend_from_slice(&(udp_len as u16).to_be_bytes());
        pkt.extend_from_slice(&[0, 0]);
        pkt.extend_from_slice(&rtp);
        let usec = i as u64 * 20_000;
        out.extend_from_slice(&((usec / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((usec % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        out.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        out.extend_from_slice(&pkt);
    }
    out
}

/// A sine tone at `freq` Hz, `secs` long, of peak `amplitude`, sampled at 8 kHz.
pub fn tone(freq: f32, secs: f32, amplitude: f32) -> Vec<i16> {
    (0..(secs * 8000.0) as usize)
        .map(|i| ((i as f32 * 2.0 * std::f32::consts::PI * freq / 8000.0).sin() * amplitude) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_packet_per_20_ms_with_the_codecs_payload_type() {
        let pcap = rtp_pcap(G711::Pcma, &tone(400.0, 0.1, 8000.0));
        // Global header, then 5 records of 16 + 14 (Ethernet) + 20 (IP) + 8 (UDP) + 12 + 160.
        assert_eq!(pcap.len(), 24 + 5 * (16 + 14 + 20 + 8 + 12 + 160));
        let first_rtp = 24 + 16 + 14 + 20 + 8;
        assert_eq!(pcap[first_rtp + 1], 8, "PCMA");
    }
}
