//! G.711 µ-law (PCMU) and A-law (PCMA) codecs, ITU-T G.711.

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

/// Encodes one 16-bit linear sample to µ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut s = sample as i32;
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    if s > ULAW_CLIP {
        s = ULAW_CLIP;
    }
    s += ULAW_BIAS;
    let mut exp = 7;
    let mut mask = 0x4000;
    while exp > 0 && (s & mask) == 0 {
        exp -= 1;
        mask >>= 1;
    }
    let mantissa = (s >> (exp + 3)) & 0x0F;
    !((sign | (exp << 4) | mantissa) as u8)
}

/// Decodes one µ-law byte to a 16-bit linear sample.
pub fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte as i32;
    let sign = u & 0x80;
    let exp = (u >> 4) & 0x07;
    let mantissa = u & 0x0F;
    let s = (((mantissa << 3) + ULAW_BIAS) << exp) - ULAW_BIAS;
    (if sign != 0 { -s } else { s }) as i16
}

const ALAW_SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// Encodes one 16-bit linear sample to A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 3;
    let mask = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let seg = ALAW_SEG_END.iter().position(|&end| pcm <= end).unwrap_or(8) as i32;
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let mut aval = seg << 4;
    if seg < 2 {
        aval |= (pcm >> 1) & 0x0F;
    } else {
        aval |= (pcm >> seg) & 0x0F;
    }
    (aval ^ mask) as u8
}

/// Decodes one A-law byte to a 16-bit linear sample.
pub fn alaw_to_linear(byte: u8) -> i16 {
    let a = (byte ^ 0x55) as i32;
    let mut t = (a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

/// The two G.711 laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G711 {
    /// µ-law, static payload type 0.
    Pcmu,
    /// A-law, static payload type 8.
    Pcma,
}

impl G711 {
    /// Static RTP payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            G711::Pcmu => 0,
            G711::Pcma => 8,
        }
    }

    /// SDP encoding name.
    pub fn name(self) -> &'static str {
        match self {
            G711::Pcmu => "PCMU",
            G711::Pcma => "PCMA",
        }
    }

    /// Encodes samples, appending one byte per sample to `out` (table lookups; the same
    /// bytes as [`linear_to_ulaw`] / [`linear_to_alaw`]).
    pub fn encode(self, samples: &[i16], out: &mut Vec<u8>) {
        let t = &TABLES.get_or_init(Tables::new);
        let table = match self {
            G711::Pcmu => &t.ulaw_enc,
            G711::Pcma => &t.alaw_enc,
        };
        out.extend(samples.iter().map(|&s| table[s as u16 as usize]));
    }

    /// Decodes bytes, appending one sample per byte to `out` (table lookups).
    pub fn decode(self, bytes: &[u8], out: &mut Vec<i16>) {
        let t = &TABLES.get_or_init(Tables::new);
        let table = match self {
            G711::Pcmu => &t.ulaw_dec,
            G711::Pcma => &t.alaw_dec,
        };
        out.extend(bytes.iter().map(|&b| table[b as usize]));
    }
}

/// Every sample's code and every code's sample, for both laws (130 KiB, built once).
struct Tables {
    /// Indexed by the sample's bits (`s as u16`).
    ulaw_enc: Box<[u8; 65536]>,
    alaw_enc: Box<[u8; 65536]>,
    ulaw_dec: [i16; 256],
    alaw_dec: [i16; 256],
}

static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();

impl Tables {
    fn new() -> Self {
        let mut ulaw_enc = Box::new([0u8; 65536]);
        let mut alaw_enc = Box::new([0u8; 65536]);
        for i in 0..65536usize {
            let s = i as u16 as i16;
            ulaw_enc[i] = linear_to_ulaw(s);
            alaw_enc[i] = linear_to_alaw(s);
        }
        Tables {
            ulaw_enc,
            alaw_enc,
            ulaw_dec: std::array::from_fn(|b| ulaw_to_linear(b as u8)),
            alaw_dec: std::array::from_fn(|b| alaw_to_linear(b as u8)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(alaw_to_linear(0xD5), 8);
    }

    #[test]
    fn every_code_round_trips() {
        for b in 0..=255u8 {
            // 0x7F is µ-law's negative zero, which re-encodes as positive zero.
            if b != 0x7F {
                assert_eq!(linear_to_ulaw(ulaw_to_linear(b)), b, "ulaw {b:#x}");
            }
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b, "alaw {b:#x}");
        }
    }

    #[test]
    fn tables_match_the_formulas() {
        let samples: Vec<i16> = (i16::MIN..=i16::MAX).collect();
        let bytes: Vec<u8> = (0..=255u8).collect();
        for (law, enc, dec) in [
            (
                G711::Pcmu,
                linear_to_ulaw as fn(i16) -> u8,
                ulaw_to_linear as fn(u8) -> i16,
            ),
            (G711::Pcma, linear_to_alaw, alaw_to_linear),
        ] {
            let mut e = Vec::new();
            law.encode(&samples, &mut e);
            assert!(
                samples.iter().zip(&e).all(|(s, b)| enc(*s) == *b),
                "{law:?}"
            );
            let mut d = Vec::new();
            law.decode(&bytes, &mut d);
            assert!(bytes.iter().zip(&d).all(|(b, s)| dec(*b) == *s), "{law:?}");
        }
    }

    proptest! {
        #[test]
        fn quantisation_error_is_bounded(s in any::<i16>()) {
            let u = ulaw_to_linear(linear_to_ulaw(s)) as i32;
            let a = alaw_to_linear(linear_to_alaw(s)) as i32;
            let tol = (s as i32).abs() / 16 + 40;
            prop_assert!((u - s as i32).abs() <= tol.max(1100), "ulaw {} -> {}", s, u);
            prop_assert!((a - s as i32).abs() <= tol.max(1100), "alaw {} -> {}", s, a);
        }
    }
}
