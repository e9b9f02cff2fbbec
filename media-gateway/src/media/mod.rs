//! Media: codecs, RTP, WAV files, pcap captures for SIP test peers, the jitter buffer and the per-call media engine.

pub mod amd;
pub mod conference;
pub mod dtmf_send;
pub mod engine;
pub mod g711;
pub mod jitter;
pub mod pcap;
pub mod rtp;
pub mod wav;
