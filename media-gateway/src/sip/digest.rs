//! HTTP digest authentication (RFC 2617 / RFC 3261 §22) verified against a stored HA1.

use md5::{Digest, Md5};
use std::collections::HashMap;

/// Lower-case hex MD5 of `s`.
pub fn md5_hex(s: &str) -> String {
    let out = Md5::digest(s.as_bytes());
    out.iter().map(|b| format!("{b:02x}")).collect()
}

/// HA1 = MD5(username:realm:password), what the backend stores for each extension.
pub fn ha1(username: &str, realm: &str, password: &str) -> String {
    md5_hex(&format!("{username}:{realm}:{password}"))
}

/// The parameters of a `Digest` Authorization header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `username`.
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `uri`.
    pub uri: String,
    /// `response`.
    pub response: String,
    /// `qop` (only `auth` is supported).
    pub qop: Option<String>,
    /// `nc`.
    pub nc: Option<String>,
    /// `cnonce`.
    pub cnonce: Option<String>,
}

/// Parses `Digest username="..", realm="..", ...`; `None` if not a digest header.
pub fn parse_authorization(value: &str) -> Option<Credentials> {
    let rest = value.trim();
    if rest.len() < 7 || !rest[..6].eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut map: HashMap<String, String> = HashMap::new();
    for part in super::msg::split_list(&rest[6..]) {
        if let Some((k, v)) = part.split_once('=') {
            map.insert(
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            );
        }
    }
    Some(Credentials {
        username: map.remove("username")?,
        realm: map.remove("realm")?,
        nonce: map.remove("nonce")?,
        uri: map.remove("uri")?,
        response: map.remove("response")?,
        qop: map.remove("qop"),
        nc: map.remove("nc"),
        cnonce: map.remove("cnonce"),
    })
}

/// Checks the response of `creds` for `method` against the stored HA1.
pub fn verify(creds: &Credentials, method: &str, ha1: &str) -> bool {
    let ha2 = md5_hex(&format!("{method}:{}", creds.uri));
    let expected = match (&creds.qop, &creds.nc, &creds.cnonce) {
        (Some(q), Some(nc), Some(cn)) if q.eq_ignore_ascii_case("auth") => {
            md5_hex(&format!("{ha1}:{}:{nc}:{cn}:auth:{ha2}", creds.nonce))
        }
        (None, _, _) => md5_hex(&format!("{ha1}:{}:{ha2}", creds.nonce)),
        _ => return false,
    };
    expected.eq_ignore_ascii_case(&creds.response)
}

/// A stateless nonce `"<unix time>.<mac>"` bound to `secret` (no server-side nonce table, so
/// retransmissions and a restart of the call layer need no state).
pub fn make_nonce(secret: &str, unix_time: i64) -> String {
    format!(
        "{unix_time}.{}",
        &md5_hex(&format!("{secret}:{unix_time}"))[..16]
    )
}

/// Whether `nonce` was made by [`make_nonce`] with `secret` less than five minutes before `now`.
pub fn nonce_fresh(secret: &str, nonce: &str, now: i64) -> bool {
    nonce.split_once('.').is_some_and(|(ts, mac)| {
        ts.parse::<i64>().is_ok_and(|t| {
            (0..300).contains(&(now - t))
                && mac.len() == 16
                && md5_hex(&format!("{secret}:{t}")).starts_with(mac)
        })
    })
}

/// A `WWW-Authenticate` challenge value.
pub fn challenge(realm: &str, nonce: &str) -> String {
    format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"")
}

/// A `WWW-Authenticate` / `Proxy-Authenticate` challenge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `qop` options offered.
    pub qop: Option<String>,
    /// `opaque`, echoed back.
    pub opaque: Option<String>,
}

/// Parses a digest challenge; `None` for other schemes or missing realm/nonce.
pub fn parse_challenge(value: &str) -> Option<Challenge> {
    let rest = value.trim();
    if rest.len() < 7 || !rest[..6].eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut map: HashMap<String, String> = HashMap::new();
    for part in super::msg::split_list(&rest[6..]) {
        if let Some((k, v)) = part.split_once('=') {
            map.insert(
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            );
        }
    }
    Some(Challenge {
        realm: map.remove("realm")?,
        nonce: map.remove("nonce")?,
        qop: map.remove("qop"),
        opaque: map.remove("opaque"),
    })
}

/// Builds the `Authorization` value answering `ch` (MD5, `qop=auth` when offered).
pub fn authorize(ch: &Challenge, user: &str, password: &str, method: &str, uri: &str) -> String {
    let h1 = ha1(user, &ch.realm, password);
    let h2 = md5_hex(&format!("{method}:{uri}"));
    let auth_qop = ch
        .qop
        .as_deref()
        .is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")));
    let mut v = format!(
        "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm=MD5",
        ch.realm, ch.nonce
    );
    if auth_qop {
        let cnonce = super::msg::random_token(16);
        let response = md5_hex(&format!("{h1}:{}:00000001:{cnonce}:auth:{h2}", ch.nonce));
        v.push_str(&format!(
            ", response=\"{response}\", qop=auth, nc=00000001, cnonce=\"{cnonce}\""
        ));
    } else {
        let response = md5_hex(&format!("{h1}:{}:{h2}", ch.nonce));
        v.push_str(&format!(", response=\"{response}\""));
    }
    if let Some(o) = &ch.opaque {
        v.push_str(&format!(", opaque=\"{o}\""));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_example() {
        // The RFC 2617 §3.5 example (HTTP, but the algorithm is the same).
        let h = ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        let creds = Credentials {
            username: "Mufasa".into(),
            realm: "testrealm@host.com".into(),
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093".into(),
            uri: "/dir/index.html".into(),
            response: "6629fae49393a05397450978507c4ef1".into(),
            qop: Some("auth".into()),
            nc: Some("00000001".into()),
            cnonce: Some("0a4f113b".into()),
        };
        assert!(verify(&creds, "GET", &h));
        assert!(!verify(&creds, "POST", &h));
    }

    #[test]
    fn our_authorization_verifies() {
        let ch = parse_challenge(
            r#"Digest realm="carrier", nonce="n0", qop="auth,auth-int", opaque="op""#,
        )
        .unwrap();
        for (ch, what) in [
            (ch.clone(), "qop"),
            (Challenge { qop: None, ..ch }, "no qop"),
        ] {
            let v = authorize(&ch, "gw", "pw", "INVITE", "sip:+1@carrier");
            let creds = parse_authorization(&v).unwrap();
            assert!(
                verify(&creds, "INVITE", &ha1("gw", "carrier", "pw")),
                "{what}: {v}"
            );
            assert!(!verify(&creds, "INVITE", &ha1("gw", "carrier", "nope")));
        }
    }

    #[test]
    fn parses_header() {
        let v = r#"Digest username="1001", realm="acme", nonce="n1", uri="sip:acme", response="abc", algorithm=MD5"#;
        let c = parse_authorization(v).unwrap();
        assert_eq!(c.username, "1001");
        assert_eq!(c.uri, "sip:acme");
        assert!(parse_authorization("Basic xyz").is_none());
    }
}
