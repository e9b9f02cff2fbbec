//! WAV reading (any PCM/float/G.711 WAV converted to 8 kHz mono) and incremental writing.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

/// Reads a WAV file and converts it to 8 kHz mono 16-bit samples.
pub fn read_wav_8k_mono(path: &Path) -> io::Result<Vec<i16>> {
    let data = std::fs::read(path)?;
    decode_wav_8k_mono(&data).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unsupported WAV: {}", path.display()),
        )
    })
}

/// Decodes WAV bytes to 8 kHz mono; `None` if the format is not supported or malformed.
pub fn decode_wav_8k_mono(data: &[u8]) -> Option<Vec<i16>> {
    if data.len() < 12 || &data[0..4] != b"RIFF" || &data[8..12] != b"WAVE" {
        return None;
    }
    let mut off = 12;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    let mut samples_bytes: Option<&[u8]> = None;
    while off + 8 <= data.len() {
        let id = &data[off..off + 4];
        let len = u32::from_le_bytes(data[off + 4..off + 8].try_into().ok()?) as usize;
        let body_start = off + 8;
        // Files written while still recording may declare a larger chunk than present.
        let body_end = body_start.saturating_add(len).min(data.len());
        let body = &data[body_start..body_end];
        if id == b"fmt " && body.len() >= 16 {
            let mut tag = u16::from_le_bytes([body[0], body[1]]);
            let channels = u16::from_le_bytes([body[2], body[3]]);
            let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
            let bits = u16::from_le_bytes([body[14], body[15]]);
            if tag == 0xFFFE && body.len() >= 26 {
                tag = u16::from_le_bytes([body[24], body[25]]);
            }
            fmt = Some((tag, channels, rate, bits));
        } else if id == b"data" {
            samples_bytes = Some(body);
            break;
        }
        off = body_start.saturating_add(len).saturating_add(len & 1);
    }
    let (tag, channels, rate, bits) = fmt?;
    let bytes = samples_bytes?;
    if channels == 0 || channels > 8 || rate == 0 || rate > 384_000 {
        return None;
    }
    let width = match (tag, bits) {
        (1, 8) | (6, 8) | (7, 8) => 1,
        (1, 16) => 2,
        (1, 24) => 3,
        (1, 32) | (3, 32) => 4,
        _ => return None,
    };
    let frame = width * channels as usize;
    let mut mono = Vec::with_capacity(bytes.len() / frame);
    for f in bytes.chunks_exact(frame) {
        let mut acc: f32 = 0.0;
        for c in f.chunks_exact(width) {
            let v = match (tag, width) {
                (1, 1) => (c[0] as f32 - 128.0) / 128.0,
                (6, 1) => super::g711::alaw_to_linear(c[0]) as f32 / 32768.0,
                (7, 1) => super::g711::ulaw_to_linear(c[0]) as f32 / 32768.0,
                (1, 2) => i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0,
                (1, 3) => (i32::from_le_bytes([0, c[0], c[1], c[2]]) >> 8) as f32 / 8_388_608.0,
                (1, 4) => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32 / 2_147_483_648.0,
                (3, 4) => f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                _ => 0.0,
            };
            acc += if v.is_finite() { v } else { 0.0 };
        }
        mono.push(acc / channels as f32);
    }
    Some(resample_to_8k(&mono, rate))
}

/// Linear-interpolation resampler with a simple moving-average anti-alias for downsampling.
fn resample_to_8k(input: &[f32], rate: u32) -> Vec<i16> {
    let to_i16 = |v: f32| (v.clamp(-1.0, 1.0) * 32767.0) as i16;
    if rate == 8000 {
        return input.iter().map(|&v| to_i16(v)).collect();
    }
    let ratio = rate as f64 / 8000.0;
    // Box filter over roughly one output period to limit aliasing when downsampling.
    let smoothed: Vec<f32> = if ratio > 1.5 {
        let w = (ratio.floor() as usize).max(1);
        let mut out = Vec::with_capacity(input.len());
        let mut sum = 0.0f32;
        for i in 0..input.len() {
            sum += input[i];
            if i >= w {
                sum -= input[i - w];
            }
            out.push(sum / w.min(i + 1) as f32);
        }
        out
    } else {
        input.to_vec()
    };
    let n_out = (input.len() as f64 / ratio) as usize;
    let mut out = Vec::with_capacity(n_out);
    for i in 0..n_out {
        let pos = i as f64 * ratio;
        let idx = pos as usize;
        let frac = (pos - idx as f64) as f32;
        let a = smoothed.get(idx).copied().unwrap_or(0.0);
        let b = smoothed.get(idx + 1).copied().unwrap_or(a);
        out.push(to_i16(a + (b - a) * frac));
    }
    out
}

/// Audio kept in memory between writes to the file (a WAV writer's buffer).
const BUFFER: usize = 64 * 1024;

/// Writes a 16-bit PCM WAV incrementally; the header is rewritten on every [`WavWriter::sync`]
/// so a crash loses at most the audio since the last sync and the file stays playable.
pub struct WavWriter {
    /// Shared with the [`PendingWrite`]s taken from this writer.
    file: Arc<File>,
    /// Bytes not yet written to `file` (capacity [`BUFFER`]).
    buf: Vec<u8>,
    channels: u16,
    data_bytes: u64,
}

impl WavWriter {
    /// Creates the file and writes a header for 8 kHz 16-bit audio with `channels` channels.
    pub fn create(path: &Path, channels: u16) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut w = WavWriter {
            file: Arc::new(File::create(path)?),
            buf: Vec::with_capacity(BUFFER),
            channels,
            data_bytes: 0,
        };
        let header = w.header();
        w.buf.extend_from_slice(&header);
        Ok(w)
    }

    /// Makes room for `n` more bytes in the buffer (writing it out when full) and returns
    /// them, zeroed, for the caller to fill.
    fn reserve(&mut self, n: usize) -> io::Result<&mut [u8]> {
        if self.buf.len() + n > BUFFER {
            self.flush_buf()?;
        }
        let start = self.buf.len();
        self.buf.resize(start + n, 0);
        self.data_bytes += n as u64;
        Ok(&mut self.buf[start..])
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        let r = (&*self.file).write_all(&self.buf);
        self.buf.clear();
        r
    }

    fn header(&self) -> [u8; 44] {
        let rate = 8000u32;
        let block = self.channels * 2;
        let data = self.data_bytes.min(u32::MAX as u64 - 36) as u32;
        let mut h = [0u8; 44];
        h[0..4].copy_from_slice(b"RIFF");
        h[4..8].copy_from_slice(&(36 + data).to_le_bytes());
        h[8..16].copy_from_slice(b"WAVEfmt ");
        h[16..20].copy_from_slice(&16u32.to_le_bytes());
        h[20..22].copy_from_slice(&1u16.to_le_bytes());
        h[22..24].copy_from_slice(&self.channels.to_le_bytes());
        h[24..28].copy_from_slice(&rate.to_le_bytes());
        h[28..32].copy_from_slice(&(rate * block as u32).to_le_bytes());
        h[32..34].copy_from_slice(&block.to_le_bytes());
        h[34..36].copy_from_slice(&16u16.to_le_bytes());
        h[36..40].copy_from_slice(b"data");
        h[40..44].copy_from_slice(&data.to_le_bytes());
        h
    }

    /// Appends interleaved samples (`channels` per frame).
    pub fn write_interleaved(&mut self, samples: &[i16]) -> io::Result<()> {
        for chunk in samples.chunks(BUFFER / 2) {
            let out = self.reserve(chunk.len() * 2)?;
            for (o, s) in out.chunks_exact_mut(2).zip(chunk) {
                o.copy_from_slice(&s.to_le_bytes());
            }
        }
        Ok(())
    }

    /// Appends one stereo frame (left, right; the shorter side sets the length) straight into
    /// the buffer. For 2-channel writers.
    pub fn write_stereo(&mut self, left: &[i16], right: &[i16]) -> io::Result<()> {
        let n = left.len().min(right.len());
        let out = self.reserve(4 * n)?;
        for ((o, l), r) in out.chunks_exact_mut(4).zip(left).zip(right) {
            o[..2].copy_from_slice(&l.to_le_bytes());
            o[2..].copy_from_slice(&r.to_le_bytes());
        }
        Ok(())
    }

    /// Flushes audio and rewrites the header sizes (in place, `pwrite`: the file position
    /// stays at the end).
    pub fn sync(&mut self) -> io::Result<()> {
        self.take_pending().write()
    }

    /// What [`WavWriter::sync`] would write — the buffered audio and the header as of now —
    /// for another thread to write; pending writes of one file must be written in order.
    pub fn take_pending(&mut self) -> PendingWrite {
        PendingWrite {
            file: self.file.clone(),
            data: std::mem::replace(&mut self.buf, Vec::with_capacity(BUFFER)),
            header: self.header(),
        }
    }

    /// Final sync; returns (duration in ms, file size in bytes).
    pub fn finish(mut self) -> io::Result<(u64, u64)> {
        self.sync()?;
        let frames = self.data_bytes / (self.channels as u64 * 2);
        Ok((frames * 1000 / 8000, self.data_bytes + 44))
    }
}

/// Audio and an updated header taken from a [`WavWriter`] (see [`WavWriter::take_pending`]).
pub struct PendingWrite {
    file: Arc<File>,
    data: Vec<u8>,
    header: [u8; 44],
}

impl PendingWrite {
    /// Appends the audio, then rewrites the header in place (`pwrite`).
    pub fn write(self) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        (&*self.file).write_all(&self.data)?;
        self.file.write_all_at(&self.header, 0)
    }
}

impl Drop for WavWriter {
    /// Writes what is buffered (without the header update), as a `BufWriter` would.
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.flush_buf();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wav_bytes(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        let data_len = (samples.len() * 2) as u32;
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data_len).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * 2 * channels as u32).to_le_bytes());
        v.extend_from_slice(&(2 * channels).to_le_bytes());
        v.extend_from_slice(&16u16.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&data_len.to_le_bytes());
        for s in samples {
            v.extend_from_slice(&s.to_le_bytes());
        }
        v
    }

    #[test]
    fn resamples_22050_to_8000() {
        let samples = vec![1000i16; 22050];
        let out = decode_wav_8k_mono(&wav_bytes(22050, 1, &samples)).unwrap();
        assert!((out.len() as i64 - 8000).abs() <= 2, "{}", out.len());
        assert!(out[100..7900].iter().all(|&s| (s - 1000).abs() < 5));
    }

    #[test]
    fn stereo_is_mixed_down() {
        let samples: Vec<i16> = (0..1600).flat_map(|_| [2000i16, 0]).collect();
        let out = decode_wav_8k_mono(&wav_bytes(8000, 2, &samples)).unwrap();
        assert_eq!(out.len(), 1600);
        assert!(out.iter().all(|&s| (s - 1000).abs() < 3));
    }

    #[test]
    fn writer_output_reads_back() {
        let dir = std::env::temp_dir().join(format!("hotline-wav-{}", fastrand::u64(..)));
        let path = dir.join("x.wav");
        let mut w = WavWriter::create(&path, 2).unwrap();
        w.write_interleaved(&vec![500i16; 16000]).unwrap();
        w.sync().unwrap();
        let (ms, size) = w.finish().unwrap();
        assert_eq!(ms, 1000);
        assert_eq!(size, 32044);
        let back = read_wav_8k_mono(&path).unwrap();
        assert_eq!(back.len(), 8000);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn stereo_frames_interleave_and_every_sync_leaves_a_playable_file() {
        let dir = std::env::temp_dir().join(format!("hotline-wav-{}", fastrand::u64(..)));
        let path = dir.join("s.wav");
        let mut w = WavWriter::create(&path, 2).unwrap();
        let (left, right) = ([100i16; 160], [-7i16; 160]);
        // 150 frames of 640 bytes: more than the buffer holds, so it is written out in between.
        for k in 1..=150u64 {
            w.write_stereo(&left, &right).unwrap();
            if k % 50 == 0 {
                w.sync().unwrap();
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(bytes.len() as u64, 44 + k * 640);
                let data = u32::from_le_bytes(bytes[40..44].try_into().unwrap());
                assert_eq!(data as u64, k * 640);
                assert_eq!(&bytes[44..48], &[100, 0, 0xF9, 0xFF]);
            }
        }
        assert_eq!(w.finish().unwrap(), (3000, 44 + 150 * 640));
        std::fs::remove_dir_all(dir).unwrap();
    }

    proptest! {
        #[test]
        fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode_wav_8k_mono(&data);
            let mut d = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
            d.extend_from_slice(&data);
            let _ = decode_wav_8k_mono(&d);
        }
    }
}
