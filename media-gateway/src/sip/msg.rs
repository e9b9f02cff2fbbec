//! Thin helpers over `rsip` messages: header lookup by name (including compact forms), header
//! parameters, URIs, and response building.

use bytes::Bytes;
use rsip::{Header, Headers, SipMessage};

/// Largest SIP message accepted on any transport.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Parses one SIP message; `None` for anything not parseable (the datagram is dropped).
///
/// `rsip`'s tokenizer is wrapped in `catch_unwind` as a second line of defence: hostile input
/// must never take the gateway down.
///
/// A header section with bytes that are not UTF-8 (a display name in Latin-1, say) or with
/// control characters (NUL…) is parsed with those bytes replaced by U+FFFD and the control
/// characters (but CR, LF, tab) removed, so such a call is answered like any other rather than
/// dropped, and no NUL reaches anything downstream (the body is left as it is).
pub fn parse(data: &[u8]) -> Option<SipMessage> {
    if data.len() > MAX_MESSAGE || data.len() < 16 {
        return None;
    }
    let try_parse = |bytes: Vec<u8>| {
        std::panic::catch_unwind(move || SipMessage::try_from(bytes.as_slice()).ok())
            .ok()
            .flatten()
    };
    let head_len = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(data.len());
    let head = &data[..head_len];
    let control = |c: char| c.is_control() && !matches!(c, '\r' | '\n' | '\t');
    match std::str::from_utf8(head) {
        Ok(h) if !h.contains(control) => return try_parse(data.to_vec()),
        _ => {}
    }
    let cleaned: String = String::from_utf8_lossy(head)
        .chars()
        .filter(|c| !control(*c))
        .collect();
    let mut owned = cleaned.into_bytes();
    owned.extend_from_slice(&data[head_len..]);
    try_parse(owned)
}

fn canonical(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "v" => "via".into(),
        "f" => "from".into(),
        "t" => "to".into(),
        "i" => "call-id".into(),
        "m" => "contact".into(),
        "c" => "content-type".into(),
        "l" => "content-length".into(),
        "k" => "supported".into(),
        _ => lower,
    }
}

/// `(name, value)` of a header as rsip prints it.
pub fn split_header(h: &Header) -> (String, String) {
    let s = h.to_string();
    match s.split_once(':') {
        Some((n, v)) => (n.trim().to_string(), v.trim().to_string()),
        None => (s, String::new()),
    }
}

/// All values of headers called `name` (case-insensitive, compact forms understood), in order.
pub fn header_values(headers: &Headers, name: &str) -> Vec<String> {
    let want = canonical(name);
    headers
        .iter()
        .map(split_header)
        .filter(|(n, _)| canonical(n) == want)
        .map(|(_, v)| v)
        .collect()
}

/// The first value of header `name`.
pub fn header(headers: &Headers, name: &str) -> Option<String> {
    header_values(headers, name).into_iter().next()
}

/// Splits comma-separated header values (Via, Record-Route), ignoring commas inside `<>`/quotes.
pub fn split_list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut cur) = (0i32, false, String::new());
    for ch in value.chars() {
        match ch {
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth -= 1,
            ',' if !quoted && depth <= 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// A `;name=value` parameter of a header value (after the URI's `>` when angle brackets are used).
pub fn param(value: &str, name: &str) -> Option<String> {
    let params = match value.rfind('>') {
        Some(i) => &value[i + 1..],
        None => value,
    };
    params.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The URI of a name-addr (`"Bob" <sip:bob@x>;tag=1` → `sip:bob@x`) or addr-spec.
pub fn uri_of(value: &str) -> String {
    if let (Some(a), Some(b)) = (value.find('<'), value.find('>')) {
        if a < b {
            return value[a + 1..b].trim().to_string();
        }
    }
    value.split(';').next().unwrap_or("").trim().to_string()
}

/// The user part of a SIP/tel URI (`sip:+99412@host;x` → `+99412`).
pub fn uri_user(uri: &str) -> Option<String> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))
        .or_else(|| uri.strip_prefix("tel:"))?;
    let end = rest.find(['@', ';', '?']).unwrap_or(rest.len());
    let user = &rest[..end];
    let user = user.split(':').next().unwrap_or(user);
    (!user.is_empty()).then(|| user.to_string())
}

/// The host part of a SIP URI (`sip:1001@acme.example:5060` → `acme.example`).
pub fn uri_host(uri: &str) -> Option<String> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let rest = rest.split_once('@').map(|(_, h)| h).unwrap_or(rest);
    let end = rest.find([';', '?', '>']).unwrap_or(rest.len());
    let hostport = &rest[..end];
    let host = if let Some(stripped) = hostport.strip_prefix('[') {
        stripped.split(']').next().unwrap_or("")
    } else {
        hostport.split(':').next().unwrap_or("")
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// Normalises a dialled or calling number to E.164: digits with a leading `+`.
/// Visual separators are dropped; anything else (letters) is kept as is.
pub fn to_e164(user: &str) -> String {
    let cleaned: String = user
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
        .collect();
    if cleaned.starts_with('+')
        || !cleaned.chars().all(|c| c.is_ascii_digit())
        || cleaned.is_empty()
    {
        cleaned
    } else {
        format!("+{cleaned}")
    }
}

/// Longest caller or dialled number passed on to the backend (characters).
pub const MAX_USER: usize = 64;

/// A number taken from SIP (a URI's user part) as the backend may store it: control
/// characters (NUL included) removed, at most [`MAX_USER`] characters. Whatever a peer sends
/// in From or the Request-URI, the call goes on with a clean value.
pub fn clean_user(user: &str) -> String {
    user.chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER)
        .collect()
}

/// The branch parameter of the top Via.
pub fn top_branch(headers: &Headers) -> Option<String> {
    let via = header(headers, "via")?;
    let top = split_list(&via).into_iter().next()?;
    param(&top, "branch").filter(|b| !b.is_empty())
}

/// `(sequence, method)` of the CSeq header.
pub fn cseq(headers: &Headers) -> Option<(u32, String)> {
    let v = header(headers, "cseq")?;
    let mut it = v.split_whitespace();
    let n = it.next()?.parse().ok()?;
    Some((n, it.next()?.to_ascii_uppercase()))
}

/// Random token for tags, branches and nonces.
pub fn random_token(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| CHARS[fastrand::usize(..CHARS.len())] as char)
        .collect()
}

/// Builds a response to `req`, copying Via, From, To (adding `to_tag` if it has none), Call-ID
/// and CSeq, then `extra` headers and the body (with Content-Type when given).
pub fn build_response(
    req: &rsip::Request,
    status: u16,
    to_tag: Option<&str>,
    extra: &[(&str, String)],
    body: Option<(&str, &[u8])>,
) -> Bytes {
    let mut headers = Headers::default();
    for name in ["via", "from", "to", "call-id", "cseq"] {
        for v in header_values(&req.headers, name) {
            let value = if name == "to" && param(&v, "tag").is_none() {
                match to_tag {
                    Some(tag) => format!("{v};tag={tag}"),
                    None => v,
                }
            } else {
                v
            };
            let display = match name {
                "via" => "Via",
                "from" => "From",
                "to" => "To",
                "call-id" => "Call-ID",
                _ => "CSeq",
            };
            headers.push(Header::Other(display.into(), value));
        }
    }
    for (n, v) in extra {
        headers.push(Header::Other((*n).into(), v.clone()));
    }
    let body_bytes = body.map(|(_, b)| b.to_vec()).unwrap_or_default();
    if let Some((ct, _)) = body {
        headers.push(Header::Other("Content-Type".into(), ct.into()));
    }
    headers.push(Header::Other(
        "Content-Length".into(),
        body_bytes.len().to_string(),
    ));
    let resp = rsip::Response {
        status_code: rsip::StatusCode::from(status),
        version: rsip::Version::V2,
        headers,
        body: body_bytes,
    };
    serialize(&SipMessage::Response(resp))
}

/// Serialises a message with rsip's printer.
pub fn serialize(msg: &SipMessage) -> Bytes {
    let head = match msg {
        SipMessage::Request(r) => {
            format!("{} {} {}\r\n{}\r\n", r.method, r.uri, r.version, r.headers)
        }
        SipMessage::Response(r) => format!("{} {}\r\n{}\r\n", r.version, r.status_code, r.headers),
    };
    let mut out = head.into_bytes();
    out.extend_from_slice(msg.body());
    Bytes::from(out)
}

/// Builds a request from parts (`headers` in order; Content-Length is added).
pub fn build_request(
    method: &str,
    uri: &str,
    headers: &[(&str, String)],
    body: Option<(&str, &[u8])>,
) -> Option<Bytes> {
    let uri = rsip::Uri::try_from(uri).ok()?;
    let mut hs = Headers::default();
    for (n, v) in headers {
        hs.push(Header::Other((*n).into(), v.clone()));
    }
    let body_bytes = body.map(|(_, b)| b.to_vec()).unwrap_or_default();
    if let Some((ct, _)) = body {
        hs.push(Header::Other("Content-Type".into(), ct.into()));
    }
    hs.push(Header::Other(
        "Content-Length".into(),
        body_bytes.len().to_string(),
    ));
    let req = rsip::Request {
        method: method.parse::<rsip::Method>().ok()?,
        uri,
        version: rsip::Version::V2,
        headers: hs,
        body: body_bytes,
    };
    Some(serialize(&SipMessage::Request(req)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_with_nul_or_bad_utf8_still_parse() {
        let invite = |from: &[u8]| {
            let mut m = b"INVITE sip:+15550100@127.0.0.1 SIP/2.0\r\n\
                Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\nFrom: "
                .to_vec();
            m.extend_from_slice(from);
            m.extend_from_slice(
                b" <sip:+15550199@127.0.0.1>;tag=1\r\nTo: <sip:+15550100@127.0.0.1>\r\n\
                  Call-ID: x1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
            );
            m
        };
        for name in [&b"\"Bo\0b\""[..], &b"\"B\xe9b \xff\""[..]] {
            let m = parse(&invite(name)).expect("parsed");
            let SipMessage::Request(r) = m else {
                panic!("request")
            };
            let from = header(&r.headers, "from").unwrap();
            assert!(!from.contains('\0'), "{from:?}");
            assert_eq!(uri_user(&uri_of(&from)).as_deref(), Some("+15550199"));
        }
    }

    #[test]
    fn name_addr_helpers() {
        let v = "\"Bob\" <sip:+994125550100@10.0.0.1:5060;transport=udp>;tag=abc";
        assert_eq!(param(v, "tag").as_deref(), Some("abc"));
        assert_eq!(uri_of(v), "sip:+994125550100@10.0.0.1:5060;transport=udp");
        assert_eq!(uri_user(&uri_of(v)).as_deref(), Some("+994125550100"));
        assert_eq!(uri_host(&uri_of(v)).as_deref(), Some("10.0.0.1"));
        assert_eq!(to_e164("994125550100"), "+994125550100");
        assert_eq!(clean_user("+1555\u{0}0100\r"), "+15550100");
        assert_eq!(clean_user(&"9".repeat(10_000)).len(), MAX_USER);
        assert_eq!(to_e164("+1 (555) 010-0000"), "+15550100000");
        assert_eq!(
            split_list("SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b;branch=2").len(),
            2
        );
    }
}
