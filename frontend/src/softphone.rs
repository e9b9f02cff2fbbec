//! The browser softphone and the desktop's live channel.
//!
//! * [`Phone`]: one WebRTC connection (web-sys `RtcPeerConnection`, the microphone from
//!   `getUserMedia`) to the media gateway, negotiated through `POST /api/v1/agent/softphone`.
//!   It stays up between calls: the backend bridges each accepted call into it. Opening the
//!   desktop again (a reload) makes a new one, and a live call is re-bridged to it. An offered
//!   call on another media gateway makes a new one there while it rings (the leg follows the
//!   call; the backend bridges the call once the new leg is up).
//!   The microphone is opened for a headset call: echo cancellation on, noise suppression and
//!   automatic gain control off (both pull a steady voice down by up to ~20 dB, so the caller
//!   hears the agent at the level the browser measures). Incoming audio plays through the
//!   page's `<audio>` element; a blocked autoplay is reported ([`Hooks::autoplay_blocked`]) so
//!   the desktop can offer an "Enable sound" button ([`enable_audio`]). A connection that fails
//!   (ICE/DTLS `failed`) is reported to the backend (`POST /agent/softphone/lost`) and to the
//!   desktop ([`Hooks::failed`]).
//! * [`events_socket`]: the WebSocket `/api/v1/agent/events` carrying offers (with the
//!   screen-pop data), connected, withdrawn and ended.

use hotline_wire::calls::AgentEvent;
use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcConfiguration, RtcIceGatheringState,
    RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use crate::api;

/// How long ICE gathering may take before the offer is sent with what it has (host
/// candidates arrive within milliseconds; a TURN server would add relay ones).
const GATHER_MS: u32 = 2_000;

/// What the desktop wants to hear about a phone after it connected.
#[derive(Clone)]
pub struct Hooks {
    /// The browser refused to play the incoming audio without a user gesture: show a button
    /// that calls [`enable_audio`].
    pub autoplay_blocked: std::rc::Rc<dyn Fn()>,
    /// The connection failed (the backend has been told): the phone is dead.
    pub failed: std::rc::Rc<dyn Fn()>,
}

/// Why connecting failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectError {
    /// No usable microphone: the browser's error name (`NotAllowedError` when access is
    /// denied, `NotFoundError` when there is none, `NotReadableError` when it is busy…) and
    /// its message.
    Microphone { name: String, message: String },
    /// Anything else (the gateway, the network, the negotiation), as a sentence.
    Other(String),
}

/// A connected softphone.
pub struct Phone {
    /// The media gateway holding its leg (calls on another gateway need a new leg there).
    pub gateway_id: String,
    pc: RtcPeerConnection,
    mic: MediaStream,
    _ontrack: Closure<dyn FnMut(RtcTrackEvent)>,
    _onstate: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Phone {
    fn drop(&mut self) {
        let _ = Reflect::set(&self.pc, &"onconnectionstatechange".into(), &JsValue::NULL);
        self.pc.close();
        for t in self.mic.get_tracks().iter() {
            if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                t.stop();
            }
        }
    }
}

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

#[derive(serde::Serialize)]
struct Offer {
    sdp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway_id: Option<String>,
}

#[derive(serde::Deserialize)]
struct Answer {
    sdp: String,
    #[serde(default)]
    gateway_id: String,
    #[serde(default)]
    leg_id: Option<uuid::Uuid>,
}

#[derive(serde::Serialize)]
struct LostReport {
    leg_id: uuid::Uuid,
    reason: String,
}

/// The `<audio>` element with id `audio_id` the softphone plays through, created on first use
/// as a child of `<html>`, outside the part of the page the app renders: a re-render of the
/// desktop must never replace it (a new element has no stream, and the agent would hear
/// nothing while the analysers said audio arrives).
fn audio_element(audio_id: &str) -> Option<web_sys::HtmlMediaElement> {
    let doc = web_sys::window()?.document()?;
    if let Some(el) = doc.get_element_by_id(audio_id) {
        return el.dyn_into::<web_sys::HtmlMediaElement>().ok();
    }
    let el = doc.create_element("audio").ok()?;
    el.set_id(audio_id);
    let _ = el.set_attribute("autoplay", "");
    doc.document_element()?.append_child(&el).ok()?;
    el.dyn_into::<web_sys::HtmlMediaElement>().ok()
}

/// Starts playing `el`; `Err(name)` with the browser's error name when it refuses.
async fn play(el: &web_sys::HtmlMediaElement) -> Result<(), String> {
    el.set_muted(false);
    el.set_volume(1.0);
    let promise = el.play().map_err(|e| error_name(&e))?;
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| error_name(&e))
}

fn error_name(e: &JsValue) -> String {
    Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| js_err(e.clone()))
}

/// Plays the incoming audio after the agent clicked "Enable sound" (a user gesture lets the
/// browser allow it). `Err` with the browser's error name if it still refuses.
pub async fn enable_audio(audio_id: &str) -> Result<(), String> {
    let el = audio_element(audio_id).ok_or("no audio element")?;
    play(&el).await
}

impl Phone {
    /// Opens the microphone, negotiates with the gateway and plays what arrives through the
    /// `<audio>` element with id `audio_id`. `gateway`: the gateway the leg must be on (that of
    /// a call offered to the agent); none lets the backend choose.
    pub async fn connect(
        audio_id: &str,
        gateway: Option<&str>,
        hooks: Hooks,
    ) -> Result<Phone, ConnectError> {
        let other = |e: JsValue| ConnectError::Other(js_err(e));
        let window = web_sys::window().ok_or(ConnectError::Other("no window".into()))?;
        let mic_error = |e: JsValue| ConnectError::Microphone {
            name: error_name(&e),
            message: js_err(e),
        };
        let devices = window.navigator().media_devices().map_err(mic_error)?;
        // A headset call: echo cancellation on (an open speaker or a leaky headset), but no
        // noise suppression or automatic gain, which would pull a steady voice down.
        let audio = js_sys::Object::new();
        for (k, v) in [
            ("echoCancellation", true),
            ("noiseSuppression", false),
            ("autoGainControl", false),
        ] {
            let _ = Reflect::set(&audio, &k.into(), &JsValue::from_bool(v));
        }
        let c = MediaStreamConstraints::new();
        c.set_audio(&audio);
        let mic: MediaStream = JsFuture::from(
            devices
                .get_user_media_with_constraints(&c)
                .map_err(mic_error)?,
        )
        .await
        .map_err(mic_error)?
        .dyn_into()
        .map_err(other)?;
        if mic.get_audio_tracks().length() == 0 {
            return Err(ConnectError::Microphone {
                name: "NotFoundError".into(),
                message: "no audio track".into(),
            });
        }
        let pc =
            RtcPeerConnection::new_with_configuration(&RtcConfiguration::new()).map_err(other)?;
        for t in mic.get_audio_tracks().iter() {
            let t: MediaStreamTrack = t.dyn_into().map_err(other)?;
            pc.add_track_0(&t, &mic);
        }
        let audio_id = audio_id.to_string();
        let blocked = hooks.autoplay_blocked.clone();
        let ontrack = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |ev: RtcTrackEvent| {
            let stream = ev
                .streams()
                .get(0)
                .dyn_into::<MediaStream>()
                .ok()
                .or_else(|| {
                    // No stream id in the answer: wrap the track in a stream of its own.
                    let s = MediaStream::new().ok()?;
                    s.add_track(&ev.track());
                    Some(s)
                });
            if let (Some(el), Some(s)) = (audio_element(&audio_id), stream) {
                el.set_src_object(Some(&s));
                el.set_autoplay(true);
                let blocked = blocked.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    match play(&el).await {
                        Ok(()) => {}
                        // No user gesture yet: the agent has to allow it.
                        Err(name) if name == "NotAllowedError" => blocked(),
                        // Replaced by a newer stream meanwhile (AbortError) and the like.
                        Err(name) => web_sys::console::warn_1(
                            &format!("softphone audio did not start: {name}").into(),
                        ),
                    }
                });
            }
        });
        pc.set_ontrack(Some(ontrack.as_ref().unchecked_ref()));

        let offer = JsFuture::from(pc.create_offer()).await.map_err(other)?;
        let sdp = Reflect::get(&offer, &"sdp".into())
            .ok()
            .and_then(|s| s.as_string())
            .ok_or(ConnectError::Other("the browser made no offer".into()))?;
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        init.set_sdp(&sdp);
        JsFuture::from(pc.set_local_description(&init))
            .await
            .map_err(other)?;
        let mut waited = 0;
        while pc.ice_gathering_state() != RtcIceGatheringState::Complete && waited < GATHER_MS {
            gloo_timers::future::TimeoutFuture::new(50).await;
            waited += 50;
        }
        let local = pc
            .local_description()
            .map(|d| d.sdp())
            .ok_or(ConnectError::Other("no local description".into()))?;
        let offer = Offer {
            sdp: local,
            gateway_id: gateway.map(str::to_string),
        };
        let answer: Answer = api::post("/agent/softphone", &offer)
            .await
            .map_err(|e| {
                e.problem()
                    .and_then(|p| {
                        p.detail
                            .clone()
                            .or_else(|| p.errors.first().map(|f| f.message.clone()))
                    })
                    .unwrap_or_else(|| format!("{e:?}"))
            })
            .map_err(ConnectError::Other)?;
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        init.set_sdp(&answer.sdp);
        JsFuture::from(pc.set_remote_description(&init))
            .await
            .map_err(other)?;
        // A connection that fails for good (ICE or DTLS `failed`; `disconnected` may recover)
        // is dead: the backend is told (so a ready agent does not stay ready on it), then the
        // desktop.
        let leg_id = answer.leg_id;
        let pc2 = pc.clone();
        let failed = hooks.failed.clone();
        let onstate = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let state = Reflect::get(&pc2, &"connectionState".into())
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            if state != "failed" {
                return;
            }
            let _ = Reflect::set(&pc2, &"onconnectionstatechange".into(), &JsValue::NULL);
            if let Some(leg_id) = leg_id {
                let report = LostReport {
                    leg_id,
                    reason: state,
                };
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = api::post_empty("/agent/softphone/lost", &report).await;
                });
            }
            failed();
        });
        let _ = Reflect::set(
            &pc,
            &"onconnectionstatechange".into(),
            onstate.as_ref().unchecked_ref(),
        );
        // For support (and the end-to-end test): the connection's getStats() in the console.
        let _ = Reflect::set(&window, &"hotlineSoftphone".into(), &pc);
        Ok(Phone {
            gateway_id: answer.gateway_id,
            pc,
            mic,
            _ontrack: ontrack,
            _onstate: onstate,
        })
    }

    /// Mutes or unmutes the microphone (the caller hears silence).
    pub fn set_muted(&self, muted: bool) {
        for t in self.mic.get_audio_tracks().iter() {
            if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                t.set_enabled(!muted);
            }
        }
    }
}

/// The live channel: calls `on_event` for each event; `on_close` when the socket closes
/// (the caller reconnects). The returned socket must be kept (dropping the closures would
/// silence it), so it comes with them.
pub struct EventSocket {
    ws: web_sys::WebSocket,
    _onmessage: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _onclose: Closure<dyn FnMut(web_sys::CloseEvent)>,
}

impl Drop for EventSocket {
    fn drop(&mut self) {
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

pub fn events_socket(
    on_event: impl Fn(AgentEvent) + 'static,
    on_close: impl Fn() + 'static,
) -> Result<EventSocket, String> {
    let loc = web_sys::window().ok_or("no window")?.location();
    let scheme = if loc.protocol().map_err(js_err)? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let url = format!(
        "{scheme}://{}/api/v1/agent/events",
        loc.host().map_err(js_err)?
    );
    let ws = web_sys::WebSocket::new(&url).map_err(js_err)?;
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
            if let Some(text) = m.data().as_string() {
                match serde_json::from_str::<AgentEvent>(&text) {
                    Ok(ev) => on_event(ev),
                    Err(e) => {
                        web_sys::console::warn_1(&format!("agent event not understood: {e}").into())
                    }
                }
            }
        });
    ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    let onclose = Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |_| on_close());
    ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    Ok(EventSocket {
        ws,
        _onmessage: onmessage,
        _onclose: onclose,
    })
}
