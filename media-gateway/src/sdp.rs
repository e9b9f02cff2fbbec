//! SDP offer/answer (RFC 3264) for one audio stream: PCMU, PCMA and telephone-event.

use crate::media::g711::G711;
use std::net::{IpAddr, SocketAddr};

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `a=sendrecv` (default).
    SendRecv,
    /// `a=sendonly`: the offerer puts us on hold.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    fn attr(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction we answer with (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether we may send media when the remote side announced this direction.
    pub fn remote_receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

/// What we accepted from an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedOffer {
    /// Where the remote party wants its RTP (before symmetric-RTP latching).
    pub remote_rtp: SocketAddr,
    /// The codec chosen (first G.711 in the offer's preference order).
    pub codec: G711,
    /// The payload type the offer uses for telephone-event at 8 kHz, if any.
    pub telephone_event: Option<u8>,
    /// The offer's direction.
    pub direction: Direction,
    /// Index of the accepted m-line; other m-lines are refused with port 0.
    pub m_index: usize,
    /// All m-lines of the offer as `(media, proto, formats)` to mirror them in the answer.
    pub m_lines: Vec<(String, String, String)>,
}

/// Why an offer cannot be accepted (→ 488 Not Acceptable Here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdpError {
    /// Not parseable SDP.
    Malformed(&'static str),
    /// No audio stream with PCMU or PCMA over RTP/AVP.
    NoCommonCodec,
}

/// Parses an offer and picks what we support.
pub fn accept_offer(body: &[u8]) -> Result<AcceptedOffer, SdpError> {
    let text = std::str::from_utf8(body).map_err(|_| SdpError::Malformed("not utf-8"))?;
    if text.len() > 16 * 1024 {
        return Err(SdpError::Malformed("too long"));
    }
    let mut session_conn: Option<IpAddr> = None;
    let mut session_dir = Direction::SendRecv;
    struct M {
        media: String,
        port: u16,
        proto: String,
        fmts: Vec<String>,
        conn: Option<IpAddr>,
        rtpmap: Vec<(u8, String)>,
        dir: Option<Direction>,
    }
    let mut ms: Vec<M> = Vec::new();
    let mut saw_version = false;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let Some((kind, value)) = line.split_once('=') else {
            continue;
        };
        match kind {
            "v" => saw_version = true,
            "c" => {
                let mut it = value.split_whitespace();
                let (_net, _ty, addr) = (it.next(), it.next(), it.next());
                let ip = addr
                    .and_then(|a| a.split('/').next())
                    .and_then(|a| a.parse::<IpAddr>().ok())
                    .ok_or(SdpError::Malformed("bad c= line"))?;
                match ms.last_mut() {
                    Some(m) => m.conn = Some(ip),
                    None => session_conn = Some(ip),
                }
            }
            "m" => {
                let mut it = value.split_whitespace();
                let media = it.next().ok_or(SdpError::Malformed("bad m= line"))?;
                let port = it
                    .next()
                    .and_then(|p| p.split('/').next())
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or(SdpError::Malformed("bad m= port"))?;
                let proto = it.next().ok_or(SdpError::Malformed("bad m= proto"))?;
                ms.push(M {
                    media: media.to_string(),
                    port,
                    proto: proto.to_string(),
                    fmts: it.map(str::to_string).collect(),
                    conn: None,
                    rtpmap: Vec::new(),
                    dir: None,
                });
                if ms.len() > 16 {
                    return Err(SdpError::Malformed("too many m-lines"));
                }
            }
            "a" => {
                let dir = match value {
                    "sendrecv" => Some(Direction::SendRecv),
                    "sendonly" => Some(Direction::SendOnly),
                    "recvonly" => Some(Direction::RecvOnly),
                    "inactive" => Some(Direction::Inactive),
                    _ => None,
                };
                if let Some(d) = dir {
                    match ms.last_mut() {
                        Some(m) => m.dir = Some(d),
                        None => session_dir = d,
                    }
                } else if let Some(rest) = value.strip_prefix("rtpmap:") {
                    if let (Some(m), Some((pt, enc))) = (ms.last_mut(), rest.split_once(' ')) {
                        if let Ok(pt) = pt.trim().parse::<u8>() {
                            m.rtpmap.push((pt, enc.trim().to_ascii_lowercase()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if !saw_version {
        return Err(SdpError::Malformed("no v= line"));
    }
    let m_lines = ms
        .iter()
        .map(|m| (m.media.clone(), m.proto.clone(), m.fmts.join(" ")))
        .collect();
    for (idx, m) in ms.iter().enumerate() {
        if m.media != "audio" || m.port == 0 || m.proto != "RTP/AVP" {
            continue;
        }
        let Some(ip) = m.conn.or(session_conn) else {
            return Err(SdpError::Malformed("no connection address"));
        };
        let encoding = |pt: u8| -> Option<&str> {
            m.rtpmap
                .iter()
                .find(|(p, _)| *p == pt)
                .map(|(_, e)| e.as_str())
        };
        let mut codec = None;
        let mut te = None;
        for f in &m.fmts {
            let Ok(pt) = f.parse::<u8>() else { continue };
            let enc = encoding(pt);
            let c = match (pt, enc) {
                (_, Some(e)) if e.starts_with("pcmu/8000") => Some(G711::Pcmu),
                (_, Some(e)) if e.starts_with("pcma/8000") => Some(G711::Pcma),
                (0, None) => Some(G711::Pcmu),
                (8, None) => Some(G711::Pcma),
                _ => None,
            };
            if codec.is_none() {
                codec = c;
            }
            if te.is_none() && enc.is_some_and(|e| e.starts_with("telephone-event/8000")) {
                te = Some(pt);
            }
        }
        if let Some(codec) = codec {
            return Ok(AcceptedOffer {
                remote_rtp: SocketAddr::new(ip, m.port),
                codec,
                telephone_event: te,
                direction: m.dir.unwrap_or(session_dir),
                m_index: idx,
                m_lines,
            });
        }
    }
    Err(SdpError::NoCommonCodec)
}

/// Builds our answer to an accepted offer.
pub fn build_answer(
    offer: &AcceptedOffer,
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
    version: u64,
    direction: Direction,
) -> String {
    let ipv = if local_ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut s = format!(
        "v=0\r\no=hotline {session_id} {version} IN {ipv} {local_ip}\r\ns=Hotline\r\nc=IN {ipv} {local_ip}\r\nt=0 0\r\n"
    );
    for (idx, (media, proto, fmts)) in offer.m_lines.iter().enumerate() {
        if idx != offer.m_index {
            s.push_str(&format!("m={media} 0 {proto} {fmts}\r\n"));
            continue;
        }
        let pt = offer
            .m_lines
            .get(idx)
            .map(|_| offer.codec.payload_type())
            .unwrap_or(0);
        match offer.telephone_event {
            Some(te) => s.push_str(&format!("m=audio {local_port} RTP/AVP {pt} {te}\r\n")),
            None => s.push_str(&format!("m=audio {local_port} RTP/AVP {pt}\r\n")),
        }
        s.push_str(&format!("a=rtpmap:{pt} {}/8000\r\n", offer.codec.name()));
        if let Some(te) = offer.telephone_event {
            s.push_str(&format!(
                "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n"
            ));
        }
        s.push_str(&format!("a=ptime:20\r\na={}\r\n", direction.attr()));
    }
    s
}

/// Our offer for an outbound call: PCMU, PCMA and telephone-event 101, 20 ms, sendrecv.
pub fn build_offer(local_ip: IpAddr, local_port: u16, session_id: u64, version: u64) -> String {
    build_offer_with(local_ip, local_port, session_id, version, &[])
}

/// Our offer with `codecs` in that order of preference (empty or all duplicates removed:
/// PCMU, PCMA), plus telephone-event 101.
pub fn build_offer_with(
    local_ip: IpAddr,
    local_port: u16,
    session_id: u64,
    version: u64,
    codecs: &[G711],
) -> String {
    let mut list: Vec<G711> = Vec::new();
    for c in codecs {
        if !list.contains(c) {
            list.push(*c);
        }
    }
    if list.is_empty() {
        list = vec![G711::Pcmu, G711::Pcma];
    }
    let ipv = if local_ip.is_ipv4() { "IP4" } else { "IP6" };
    let pts: Vec<String> = list.iter().map(|c| c.payload_type().to_string()).collect();
    let mut s = format!(
        "v=0\r\no=hotline {session_id} {version} IN {ipv} {local_ip}\r\ns=Hotline\r\nc=IN {ipv} {local_ip}\r\nt=0 0\r\n\
         m=audio {local_port} RTP/AVP {} 101\r\n",
        pts.join(" ")
    );
    for c in &list {
        s.push_str(&format!(
            "a=rtpmap:{} {}/8000\r\n",
            c.payload_type(),
            c.name()
        ));
    }
    s.push_str(
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\nm=video 5000 RTP/AVP 96\r\n";

    #[test]
    fn picks_first_g711_and_telephone_event() {
        let o = accept_offer(OFFER.as_bytes()).unwrap();
        assert_eq!(o.codec, G711::Pcma);
        assert_eq!(o.telephone_event, Some(101));
        assert_eq!(o.remote_rtp, "10.0.0.1:4000".parse().unwrap());
        let a = build_answer(
            &o,
            "10.0.0.2".parse().unwrap(),
            20000,
            1,
            1,
            Direction::SendRecv,
        );
        assert!(a.contains("m=audio 20000 RTP/AVP 8 101\r\n"));
        assert!(a.contains("m=video 0 RTP/AVP 96\r\n"));
    }

    #[test]
    fn our_offer_is_acceptable() {
        let o = build_offer("10.0.0.2".parse().unwrap(), 20000, 1, 1);
        let a = accept_offer(o.as_bytes()).unwrap();
        assert_eq!((a.codec, a.telephone_event), (G711::Pcmu, Some(101)));
    }

    #[test]
    fn offer_follows_the_codec_order() {
        let o = build_offer_with("10.0.0.2".parse().unwrap(), 20000, 1, 1, &[G711::Pcma]);
        assert!(o.contains("m=audio 20000 RTP/AVP 8 101\r\n"), "{o}");
        assert!(!o.contains("PCMU"));
        let o = build_offer_with(
            "10.0.0.2".parse().unwrap(),
            20000,
            1,
            1,
            &[G711::Pcma, G711::Pcmu, G711::Pcma],
        );
        assert!(o.contains("RTP/AVP 8 0 101\r\n"), "{o}");
        assert_eq!(accept_offer(o.as_bytes()).unwrap().codec, G711::Pcma);
        assert_eq!(
            build_offer("10.0.0.2".parse().unwrap(), 20000, 1, 1),
            build_offer_with("10.0.0.2".parse().unwrap(), 20000, 1, 1, &[])
        );
    }

    #[test]
    fn rejects_without_g711() {
        let offer =
            "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 18 96\r\na=rtpmap:96 opus/48000/2\r\n";
        assert_eq!(accept_offer(offer.as_bytes()), Err(SdpError::NoCommonCodec));
    }

    #[test]
    fn hold_direction() {
        let offer = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
        let o = accept_offer(offer.as_bytes()).unwrap();
        assert_eq!(o.direction, Direction::SendOnly);
        assert_eq!(o.direction.answer(), Direction::RecvOnly);
    }

    proptest! {
        #[test]
        fn never_panics_on_garbage(body in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = accept_offer(&body);
        }

        #[test]
        fn never_panics_on_sdp_like_text(lines in proptest::collection::vec("[vocmta]=[ -~]{0,40}", 0..30)) {
            let body = lines.join("\r\n");
            if let Ok(o) = accept_offer(body.as_bytes()) {
                let _ = build_answer(&o, "127.0.0.1".parse().unwrap(), 1, 1, 1, Direction::SendRecv);
            }
        }
    }
}
