//! The browser softphone and the desktop's live channel.
//!
//! * [`Phone`]: one WebRTC connection (web-sys `RtcPeerConnection`, the microphone from
//!   `getUserMedia`) to the media gateway, negotiated through `POST /api/v1/agent/softphone`.
//!   It stays up between calls: the backend bridges each accepted call into it. Opening the
//!   desktop again (a reload) makes a new one, and a live call is re-bridged to it. An offered
//!   call on another media gateway makes a new one there while it rings (the leg follows the
//!   call; the backend bridges the call once the new leg is up).
//! * [`events_socket`]: the WebSocket `/api/v1/agent/events` carrying offers (with the
//!   screen-pop data), connected, withdrawn and ended.

use hotline_wire::calls::AgentEvent;
use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcConfiguration,
    RtcIceGatheringState, RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit,
    RtcTrackEvent,
};

use crate::api;

/// How long ICE gathering may take before the offer is sent with what it has (host
/// candidates arrive within milliseconds; a TURN server would add relay ones).
const GATHER_MS: u32 = 2_000;

/// A connected softphone.
pub struct Phone {
    /// The media gateway holding its leg (calls on another gateway need a new leg there).
    pub gateway_id: String,
    pc: RtcPeerConnection,
    mic: MediaStream,
    _ontrack: Closure<dyn FnMut(RtcTrackEvent)>,
}

impl Drop for Phone {
    fn drop(&mut self) {
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
}

impl Phone {
    /// Opens the microphone, negotiates with the gateway and plays what arrives through the
    /// `<audio>` element with id `audio_id`. `gateway`: the gateway the leg must be on (that of
    /// a call offered to the agent); none lets the backend choose.
    pub async fn connect(audio_id: &str, gateway: Option<&str>) -> Result<Phone, String> {
        let window = web_sys::window().ok_or("no window")?;
        let devices = window.navigator().media_devices().map_err(js_err)?;
        let c = MediaStreamConstraints::new();
        c.set_audio(&JsValue::TRUE);
        let mic: MediaStream = JsFuture::from(
            devices
                .get_user_media_with_constraints(&c)
                .map_err(js_err)?,
        )
        .await
        .map_err(js_err)?
        .dyn_into()
        .map_err(js_err)?;
        let pc = RtcPeerConnection::new_with_configuration(&RtcConfiguration::new())
            .map_err(js_err)?;
        for t in mic.get_audio_tracks().iter() {
            let t: MediaStreamTrack = t.dyn_into().map_err(js_err)?;
            pc.add_track_0(&t, &mic);
        }
        let audio_id = audio_id.to_string();
        let ontrack = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |ev: RtcTrackEvent| {
            let stream = ev.streams().get(0).dyn_into::<MediaStream>().ok().or_else(|| {
                // No stream id in the answer: wrap the track in a stream of its own.
                let s = MediaStream::new().ok()?;
                s.add_track(&ev.track());
                Some(s)
            });
            let el = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&audio_id))
                .and_then(|e| e.dyn_into::<web_sys::HtmlMediaElement>().ok());
            if let (Some(el), Some(s)) = (el, stream) {
                el.set_src_object(Some(&s));
                let _ = el.play();
            }
        });
        pc.set_ontrack(Some(ontrack.as_ref().unchecked_ref()));

        let offer = JsFuture::from(pc.create_offer()).await.map_err(js_err)?;
        let sdp = Reflect::get(&offer, &"sdp".into())
            .ok()
            .and_then(|s| s.as_string())
            .ok_or("the browser made no offer")?;
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        init.set_sdp(&sdp);
        JsFuture::from(pc.set_local_description(&init))
            .await
            .map_err(js_err)?;
        let mut waited = 0;
        while pc.ice_gathering_state() != RtcIceGatheringState::Complete && waited < GATHER_MS {
            gloo_timers::future::TimeoutFuture::new(50).await;
            waited += 50;
        }
        let local = pc
            .local_description()
            .map(|d| d.sdp())
            .ok_or("no local description")?;
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
            })?;
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        init.set_sdp(&answer.sdp);
        JsFuture::from(pc.set_remote_description(&init))
            .await
            .map_err(js_err)?;
        // For support (and the end-to-end test): the connection's getStats() in the console.
        let _ = Reflect::set(&window, &"hotlineSoftphone".into(), &pc);
        Ok(Phone {
            gateway_id: answer.gateway_id,
            pc,
            mic,
            _ontrack: ontrack,
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
    let url = format!("{scheme}://{}/api/v1/agent/events", loc.host().map_err(js_err)?);
    let ws = web_sys::WebSocket::new(&url).map_err(js_err)?;
    let onmessage = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
        if let Some(text) = m.data().as_string() {
            match serde_json::from_str::<AgentEvent>(&text) {
                Ok(ev) => on_event(ev),
                Err(e) => web_sys::console::warn_1(&format!("agent event not understood: {e}").into()),
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
