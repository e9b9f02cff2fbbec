//! A minimal WebRTC "browser" on str0m for tests: offers PCMU audio to the gateway's
//! `POST /webrtc/legs`, connects (full ICE against the gateway's ICE-lite, DTLS-SRTP), plays
//! given samples and keeps what it hears.

use hotline_gateway::media::g711;
use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};
use uuid::Uuid;

pub struct WebrtcClient {
    rtc: Rtc,
    sock: UdpSocket,
    mid: Mid,
}

impl WebrtcClient {
    /// Creates the leg `leg_id` on the gateway whose signalling listens on `http`.
    pub fn create(http: SocketAddr, leg_id: Uuid, tenant_id: Uuid) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = sock.local_addr().unwrap();
        let mut rtc = RtcConfig::new()
            .clear_codecs()
            .enable_pcmu(true, false)
            .build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        let mut api = rtc.sdp_api();
        let mid = api.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending): (_, SdpPendingOffer) = api.apply().unwrap();
        let body = serde_json::json!({
            "leg_id": leg_id,
            "tenant_id": tenant_id,
            "user_id": Uuid::new_v4(),
            "sdp": offer.to_sdp_string(),
        })
        .to_string();
        let mut s = std::net::TcpStream::connect(http).unwrap();
        write!(
            s,
            "POST /webrtc/legs HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "offer refused: {resp}");
        let json = resp.split_once("\r\n\r\n").map(|x| x.1).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let answer = SdpAnswer::from_sdp_string(v["sdp"].as_str().unwrap()).unwrap();
        rtc.sdp_api().accept_answer(pending, answer).unwrap();
        WebrtcClient { rtc, sock, mid }
    }

    /// Runs for `total`: plays `play` (8 kHz) from the moment DTLS is up, then silence;
    /// returns what arrived, decoded, in arrival order.
    pub fn run(mut self, play: &[i16], total: Duration) -> Vec<i16> {
        let local = self.sock.local_addr().unwrap();
        let start = Instant::now();
        let mut heard = Vec::new();
        let mut buf = vec![0u8; 2048];
        let mut connected = false;
        let mut next_frame = Instant::now();
        let (mut sent, mut ts) = (0usize, 0u64);
        while start.elapsed() < total {
            let wake = loop {
                match self.rtc.poll_output().unwrap() {
                    Output::Timeout(t) => break t,
                    Output::Transmit(t) => {
                        let _ = self.sock.send_to(&t.contents, t.destination);
                    }
                    Output::Event(Event::Connected) => {
                        connected = true;
                        next_frame = Instant::now();
                    }
                    Output::Event(Event::MediaData(d)) => {
                        heard.extend(d.data.iter().map(|b| g711::ulaw_to_linear(*b)));
                    }
                    Output::Event(_) => {}
                }
            };
            let now = Instant::now();
            if connected && now >= next_frame {
                next_frame += Duration::from_millis(20);
                let frame: Vec<u8> = (0..160)
                    .map(|i| g711::linear_to_ulaw(play.get(sent + i).copied().unwrap_or(0)))
                    .collect();
                sent += 160;
                if let Some(w) = self.rtc.writer(self.mid) {
                    let pt = w
                        .payload_params()
                        .find(|p| p.spec().codec == Codec::PCMU)
                        .map(|p| p.pt());
                    if let Some(pt) = pt {
                        let at = MediaTime::new(ts, Frequency::EIGHT_KHZ);
                        let _ = w.write(pt, now, at, frame);
                    }
                }
                ts += 160;
                continue;
            }
            let until = wake.min(next_frame);
            let wait = until
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            self.sock.set_read_timeout(Some(wait)).unwrap();
            if let Ok((n, source)) = self.sock.recv_from(&mut buf) {
                if let Ok(contents) = buf[..n].try_into() {
                    let input = Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: local,
                            contents,
                        },
                    );
                    let _ = self.rtc.handle_input(input);
                }
            }
            if Instant::now() >= wake {
                let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
            }
        }
        assert!(connected, "the WebRTC leg never connected");
        heard
    }
}
