//! WebRTC agent legs, on `str0m` (sans-IO; a tokio UDP socket and timer drive it here).
//!
//! A leg is an agent browser's softphone: made from the browser's SDP offer (through the
//! backend, `POST /webrtc/legs` on [`serve_http`]), ICE-lite with one host candidate on the
//! gateway's media address, DTLS-SRTP, audio in G.711 (PCMU or PCMA — both sides speak it, so
//! no transcoding). It lives across calls: `Bridge { target: "webrtc:<leg>" }` connects a
//! call's audio to it and a later bridge (the next call, or the same call after the browser
//! reloaded and made a new leg) replaces that; `conference` joins it to a room the same way
//! (its "peer" is then the room's mixer, see [`crate::media::conference`]). The leg ends when
//! the browser goes away (ICE disconnected or DTLS closed), on `DELETE /webrtc/legs/<id>`, or
//! after [`IDLE_LIMIT`] without a packet from the browser.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hotline_wire::gateway::GatewayEvent;
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcConfig};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::media::g711;

/// A leg with no packet from the browser for this long is closed.
pub const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// Samples of one 20 ms frame at 8 kHz.
const FRAME: usize = 160;

/// A browser's offer, as the backend forwards it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LegRequest {
    /// Id the backend chose for the leg (new).
    pub leg_id: Uuid,
    /// The agent's tenant.
    pub tenant_id: Uuid,
    /// The agent.
    pub user_id: Uuid,
    /// The browser's SDP offer.
    pub sdp: String,
}

/// Why an offer was refused: an HTTP status and a sentence for the problem document.
pub type Refusal = (u16, String);

/// What the HTTP side asks the gateway core.
pub enum HttpCtl {
    /// Create a leg; the answer SDP or a refusal comes back.
    Offer(LegRequest, oneshot::Sender<Result<String, Refusal>>),
    /// Close a leg; `false` when there is no such leg.
    Close(Uuid, oneshot::Sender<bool>),
}

/// Instructions to a running leg.
pub enum LegCtl {
    /// Exchange audio with a call's media (on its media worker; replaces an earlier bridge).
    Bridge {
        /// The call.
        peer: Uuid,
        /// The agent's audio, to the call.
        tx: mpsc::Sender<Vec<i16>>,
        /// The caller's audio, for the agent.
        rx: mpsc::Receiver<Vec<i16>>,
    },
    /// Leave the bridge (or conference): the agent hears silence until the next one.
    Unbridge,
    /// Hang up the leg.
    Close,
}

/// Checks the offer and answers it: the `Rtc` for the leg's task and the answer SDP.
pub fn answer(offer: &str, local: SocketAddr) -> Result<(Rtc, String), Refusal> {
    if offer.len() > 64 * 1024 {
        return Err((413, "the SDP offer is larger than 64 KiB".into()));
    }
    let parsed =
        SdpOffer::from_sdp_string(offer).map_err(|e| (400, format!("malformed SDP offer: {e}")))?;
    if !offer.lines().any(|l| l.starts_with("m=audio")) {
        return Err((422, "the offer has no audio section".into()));
    }
    let mut rtc = RtcConfig::new()
        .clear_codecs()
        .enable_pcmu(true, false)
        .enable_pcma(true, false)
        .set_ice_lite(true)
        .build(Instant::now());
    let candidate =
        Candidate::host(local, "udp").map_err(|e| (500, format!("no host candidate: {e}")))?;
    rtc.add_local_candidate(candidate);
    let answer = rtc
        .sdp_api()
        .accept_offer(parsed)
        .map_err(|e| (422, format!("offer not acceptable: {e}")))?;
    let sdp = answer.to_sdp_string();
    if !sdp.lines().any(|l| {
        let l = l.to_ascii_uppercase();
        l.starts_with("A=RTPMAP:") && (l.contains("PCMU/8000") || l.contains("PCMA/8000"))
    }) {
        return Err((
            422,
            "no common audio codec: the gateway speaks PCMU and PCMA".into(),
        ));
    }
    Ok((rtc, sdp))
}

/// The bridge to a call, with a little queue of the caller's frames.
struct Bridge {
    peer: Uuid,
    tx: mpsc::Sender<Vec<i16>>,
    rx: mpsc::Receiver<Vec<i16>>,
    queue: VecDeque<Vec<i16>>,
}

/// Runs one leg until the browser leaves or it is closed. `done` is told the leg's id at the
/// end (so the core forgets it).
#[allow(clippy::too_many_arguments)]
pub async fn run_leg(
    mut rtc: Rtc,
    socket: UdpSocket,
    req: LegRequest,
    mut ctl: mpsc::UnboundedReceiver<LegCtl>,
    events: mpsc::UnboundedSender<GatewayEvent>,
    done: mpsc::UnboundedSender<Uuid>,
    lease: impl Send + 'static,
) {
    let _lease = lease;
    let leg = req.leg_id;
    let local = match socket.local_addr() {
        Ok(a) => a,
        Err(_) => return,
    };
    let mut buf = vec![0u8; 2048];
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut mid: Option<Mid> = None;
    let mut bridge: Option<Bridge> = None;
    let mut inbound: Vec<i16> = Vec::with_capacity(FRAME * 4);
    let mut out_ts: u64 = 0;
    let mut last_packet = Instant::now();
    let mut connected = false;
    let mut rx_frames: u64 = 0;
    let reason = 'run: loop {
        // Everything str0m wants done now, then the time it next needs us.
        let wake = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(t)) => break t,
                Ok(Output::Transmit(t)) => {
                    let _ = socket.send_to(&t.contents, t.destination).await;
                }
                Ok(Output::Event(ev)) => match ev {
                    Event::Connected => {
                        tracing::info!(%leg, "webrtc leg connected");
                        connected = true;
                        let _ = events.send(GatewayEvent::WebrtcConnected {
                            leg_id: leg,
                            tenant_id: req.tenant_id,
                            user_id: req.user_id,
                        });
                    }
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        break 'run "ice_disconnected";
                    }
                    Event::MediaAdded(m) => {
                        tracing::info!(%leg, mid = %m.mid, kind = ?m.kind, "webrtc media added");
                        mid = Some(m.mid);
                    }
                    Event::MediaData(d) => {
                        if rx_frames == 0 {
                            tracing::info!(%leg, codec = ?d.params.spec().codec, "webrtc audio arriving");
                        }
                        rx_frames += 1;
                        let decode: fn(u8) -> i16 = match d.params.spec().codec {
                            Codec::PCMU => g711::ulaw_to_linear,
                            Codec::PCMA => g711::alaw_to_linear,
                            _ => continue,
                        };
                        inbound.extend(d.data.iter().map(|b| decode(*b)));
                        while inbound.len() >= FRAME {
                            let frame: Vec<i16> = inbound.drain(..FRAME).collect();
                            if let Some(b) = &bridge {
                                // A full queue means the call side is slow: drop, never block.
                                let _ = b.tx.try_send(frame);
                            }
                        }
                    }
                    _ => {}
                },
                Err(e) => {
                    tracing::warn!(%leg, error = %e, "webrtc leg failed");
                    break 'run "error";
                }
            }
        };
        if !rtc.is_alive() {
            break 'run "closed";
        }
        let wait = wake.saturating_duration_since(Instant::now());
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                let Ok((n, source)) = r else { continue };
                let Ok(contents) = buf[..n].try_into() else { continue };
                last_packet = Instant::now();
                let input = Input::Receive(
                    Instant::now(),
                    Receive { proto: Protocol::Udp, source, destination: local, contents },
                );
                if let Err(e) = rtc.handle_input(input) {
                    tracing::debug!(%leg, error = %e, "webrtc input refused");
                }
            }
            _ = tokio::time::sleep(wait) => {
                if let Err(e) = rtc.handle_input(Input::Timeout(Instant::now())) {
                    tracing::warn!(%leg, error = %e, "webrtc timeout handling failed");
                    break 'run "error";
                }
            }
            c = ctl.recv() => match c {
                Some(LegCtl::Bridge { peer, tx, rx }) => {
                    let _ = events.send(GatewayEvent::Bridged {
                        call_id: leg,
                        tenant_id: req.tenant_id,
                        peer,
                    });
                    bridge = Some(Bridge { peer, tx, rx, queue: VecDeque::new() });
                }
                Some(LegCtl::Unbridge) => {
                    if let Some(b) = bridge.take() {
                        let _ = events.send(GatewayEvent::BridgeEnded {
                            call_id: leg,
                            tenant_id: req.tenant_id,
                            peer: b.peer,
                        });
                    }
                }
                Some(LegCtl::Close) | None => break 'run "closed_by_gateway",
            },
            _ = tick.tick() => {
                if last_packet.elapsed() > IDLE_LIMIT {
                    break 'run "idle";
                }
                // One frame of the caller (or silence) to the browser every 20 ms.
                let mut frame = vec![0i16; FRAME];
                let mut ended = None;
                if let Some(b) = &mut bridge {
                    loop {
                        match b.rx.try_recv() {
                            Ok(f) => {
                                b.queue.push_back(f);
                                if b.queue.len() > 8 {
                                    b.queue.pop_front();
                                }
                            }
                            Err(mpsc::error::TryRecvError::Empty) => break,
                            Err(mpsc::error::TryRecvError::Disconnected) => {
                                ended = Some(b.peer);
                                break;
                            }
                        }
                    }
                    if let Some(f) = b.queue.pop_front() {
                        let n = f.len().min(FRAME);
                        frame[..n].copy_from_slice(&f[..n]);
                    }
                }
                if let Some(peer) = ended {
                    bridge = None;
                    let _ = events.send(GatewayEvent::BridgeEnded {
                        call_id: leg,
                        tenant_id: req.tenant_id,
                        peer,
                    });
                }
                if let (true, Some(m)) = (connected, mid) {
                    if let Some(w) = rtc.writer(m) {
                        let pt = w
                            .payload_params()
                            .find(|p| p.spec().codec == Codec::PCMU)
                            .or_else(|| w.payload_params().find(|p| p.spec().codec == Codec::PCMA))
                            .map(|p| (p.pt(), p.spec().codec));
                        if let Some((pt, codec)) = pt {
                            let encode: fn(i16) -> u8 = if codec == Codec::PCMU {
                                g711::linear_to_ulaw
                            } else {
                                g711::linear_to_alaw
                            };
                            let bytes: Vec<u8> = frame.iter().map(|s| encode(*s)).collect();
                            let at = MediaTime::new(out_ts, Frequency::EIGHT_KHZ);
                            out_ts += FRAME as u64;
                            if let Err(e) = w.write(pt, Instant::now(), at, bytes) {
                                tracing::warn!(%leg, error = %e, "webrtc write failed");
                            }
                        }
                    }
                }
            }
        }
    };
    rtc.disconnect();
    tracing::info!(%leg, reason, "webrtc leg ended");
    if let Some(b) = bridge {
        let _ = events.send(GatewayEvent::BridgeEnded {
            call_id: leg,
            tenant_id: req.tenant_id,
            peer: b.peer,
        });
    }
    let _ = events.send(GatewayEvent::WebrtcClosed {
        leg_id: leg,
        tenant_id: req.tenant_id,
        user_id: req.user_id,
        reason: reason.into(),
    });
    let _ = done.send(leg);
}

/// The gateway's HTTP listener for WebRTC signalling (`POST /webrtc/legs`,
/// `DELETE /webrtc/legs/{id}`); answers are JSON, refusals problem+json.
pub async fn serve_http(listener: tokio::net::TcpListener, ctl: mpsc::UnboundedSender<HttpCtl>) {
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::{delete, post};

    fn problem(status: u16, detail: &str) -> Response {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = serde_json::json!({
            "type": "about:blank",
            "title": code.canonical_reason().unwrap_or("error"),
            "status": status,
            "detail": detail,
        });
        (
            code,
            [(axum::http::header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }

    async fn offer(
        State(ctl): State<mpsc::UnboundedSender<HttpCtl>>,
        body: axum::body::Bytes,
    ) -> Response {
        let req: LegRequest = match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return problem(400, &format!("malformed JSON: {e}")),
        };
        let (tx, rx) = oneshot::channel();
        if ctl.send(HttpCtl::Offer(req, tx)).is_err() {
            return problem(503, "the gateway is stopping");
        }
        match rx.await {
            Ok(Ok(sdp)) => axum::Json(serde_json::json!({ "sdp": sdp })).into_response(),
            Ok(Err((status, why))) => problem(status, &why),
            Err(_) => problem(503, "the gateway is stopping"),
        }
    }

    async fn close(
        State(ctl): State<mpsc::UnboundedSender<HttpCtl>>,
        Path(id): Path<String>,
    ) -> Response {
        let Ok(id) = id.parse::<Uuid>() else {
            return problem(400, "the leg id must be a UUID");
        };
        let (tx, rx) = oneshot::channel();
        if ctl.send(HttpCtl::Close(id, tx)).is_err() {
            return problem(503, "the gateway is stopping");
        }
        match rx.await {
            Ok(true) => StatusCode::NO_CONTENT.into_response(),
            _ => problem(404, "no such leg"),
        }
    }

    let app = axum::Router::new()
        .route("/webrtc/legs", post(offer))
        .route("/webrtc/legs/{id}", delete(close))
        .layer(axum::extract::DefaultBodyLimit::max(128 * 1024))
        .with_state(ctl);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "webrtc http listener stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An offer as Chromium makes it for one microphone (ICE/DTLS lines included).
    const CHROME_OFFER: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=msid-semantic: WMS stream\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\n\
c=IN IP4 0.0.0.0\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:abcd\r\n\
a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CC:87:32:BE:DD:8C:66:A5:8E:50:55:EA:8C:D3:B6:5C:09:5E:D6:BC\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sendrecv\r\n\
a=msid:stream track\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=ssrc:1001 cname:x\r\n";

    fn local() -> SocketAddr {
        "127.0.0.1:40000".parse().unwrap()
    }

    #[test]
    fn a_browser_offer_is_answered_in_g711_with_our_host_candidate() {
        let (_, sdp) = answer(CHROME_OFFER, local()).expect("answered");
        assert!(sdp.contains("PCMU/8000"), "{sdp}");
        assert!(!sdp.to_ascii_lowercase().contains("opus"), "{sdp}");
        assert!(sdp.contains("127.0.0.1 40000 typ host"), "{sdp}");
        assert!(sdp.contains("a=fingerprint:"), "{sdp}");
    }

    #[test]
    fn bad_offers_get_precise_refusals() {
        let (status, why) = answer("hello", local()).unwrap_err();
        assert_eq!(status, 400, "{why}");
        assert!(why.contains("malformed SDP"), "{why}");
        let video = CHROME_OFFER
            .replace(
                "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8",
                "m=video 9 UDP/TLS/RTP/SAVPF 96",
            )
            .replace(
                "a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n",
                "a=rtpmap:96 VP8/90000\r\n",
            );
        let (status, why) = answer(&video, local()).unwrap_err();
        assert_eq!(status, 422, "{why}");
        let opus_only = CHROME_OFFER
            .replace(
                "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8",
                "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            )
            .replace("a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n", "");
        let (status, why) = answer(&opus_only, local()).unwrap_err();
        assert_eq!(status, 422, "{why}");
        assert!(why.contains("PCMU"), "{why}");
    }

    /// A browser offer with any one line dropped or mangled is answered or refused with a
    /// 4xx — the parser never panics (it runs in the gateway's core, next to every live call).
    #[test]
    fn mangled_browser_offers_never_panic() {
        let lines: Vec<&str> = CHROME_OFFER
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .collect();
        let mut variants = Vec::new();
        for i in 0..lines.len() {
            let mut dropped = lines.clone();
            dropped.remove(i);
            variants.push(dropped.join("\r\n") + "\r\n");
            for bad in [
                "",
                "x",
                "a=",
                "m=audio",
                "a=fingerprint:sha-256 zz",
                "c=IN IP4 nope",
            ] {
                let mut mangled = lines.clone();
                mangled[i] = bad;
                variants.push(mangled.join("\r\n") + "\r\n");
            }
        }
        for offer in variants {
            let outcome = std::panic::catch_unwind(|| answer(&offer, local()));
            match outcome {
                Ok(Ok(_)) => {}
                Ok(Err((status, why))) => {
                    assert!((400..500).contains(&status), "{status} {why}\n{offer}");
                    assert!(!why.is_empty());
                }
                Err(_) => panic!("answer() panicked on:\n{offer}"),
            }
        }
    }
}
