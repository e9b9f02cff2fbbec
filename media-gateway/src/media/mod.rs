//! Media: codecs, RTP, WAV files, the jitter buffer and the per-call media engine.

pub mod amd;
pub mod conference;
pub mod dtmf_send;
pub mod engine;
pub mod g711;
pub mod jitter;
pub mod rtp;
pub mod wav;
