//! Hotline media gateway: a SIP B2BUA (UAS side for trunks and agent phones) on `rsip`, with
//! sans-IO transactions and dialogs, an RTP/G.711 media engine, IVR primitives driven by the
//! backend over Redis Streams (or a built-in default flow), and call recording.
//!
//! Layout: [`sip`] (messages, transactions, endpoint/dialogs), [`sdp`], [`media`] (codecs,
//! RTP, WAV, jitter buffer, the media engine), [`ivr`], [`calls`] (the sans-IO call layer over the
//! endpoint), [`store`] (Redis), [`trunks`] (tenant trunks: admission, dial plan, registration client), [`server`] (the tokio edge that feeds it), [`webrtc`] (browser softphone legs on str0m), [`config`], [`metrics`].

pub mod calls;
pub mod config;
pub mod ivr;
pub mod media;
pub mod metrics;
pub mod sdp;
pub mod server;
pub mod sip;
pub mod store;
pub mod trunks;
pub mod webrtc;
