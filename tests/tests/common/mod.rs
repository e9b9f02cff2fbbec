//! Set-up shared by the inbound-call end-to-end tests: a tenant with agents, a queue behind a
//! published flow on a number, SIP phones played by SIPp, agents' sessions and ACD states.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use chrono::{DateTime, Utc};

use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{
    free_port, gateway_events, scenario, sipp, start_gateway, wait_ok, TestGateway,
};
use hotline_wire::gateway as wire;
use hotline_wire::gateway::{GatewayEvent, HangupCause};
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

/// The body of a successful response (fails the test with the body otherwise).
pub async fn ok(r: reqwest::Response) -> Value {
    let s = r.status();
    let body = r.text().await.unwrap();
    assert!(s.is_success(), "{s}: {body}");
    serde_json::from_str(&body).unwrap_or_default()
}

/// A tenant signed up, with its admin's client.
pub struct Tenant {
    pub admin: reqwest::Client,
    pub id: Uuid,
    pub slug: String,
}

pub async fn tenant(app: &TestApp, company: &str) -> Tenant {
    let (admin, info) = app.signup(company).await;
    Tenant {
        admin,
        id: info.tenant.id,
        slug: info.tenant.slug.clone(),
    }
}

impl Tenant {
    pub async fn post(&self, app: &TestApp, path: &str, body: Value) -> Value {
        ok(self
            .admin
            .post(app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap())
        .await
    }

    /// An agent (role Agent) with an optional SIP extension and skills `(skill id, level)`.
    pub async fn agent(
        &self,
        app: &TestApp,
        email: &str,
        name: &str,
        extension: Option<&str>,
        skills: &[(Value, i16)],
    ) -> Uuid {
        let roles = ok(self
            .admin
            .get(app.url("/api/v1/roles"))
            .send()
            .await
            .unwrap())
        .await;
        let role = roles
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "Agent")
            .unwrap()["id"]
            .clone();
        let skills: Vec<Value> = skills
            .iter()
            .map(|(id, level)| json!({ "skill_id": id, "level": level }))
            .collect();
        let u = self
            .post(
                app,
                "/api/v1/users",
                json!({ "email": email, "name": name, "password": PASSWORD, "role_id": role,
                        "extension": extension, "skills": skills }),
            )
            .await;
        u["id"].as_str().unwrap().parse().unwrap()
    }

    /// A queue (`queue` is its JSON, e.g. name and strategy) behind a published default flow
    /// "greeting, then the queue", reached on `did`.
    pub async fn queue_on_number(&self, app: &TestApp, queue: Value, did: &str) -> Value {
        let q = self.post(app, "/api/v1/queues", queue).await;
        let flow = self
            .post(
                app,
                "/api/v1/ivr/flows",
                json!({ "name": "Main", "is_default": true, "graph": {
                    "start": "hello",
                    "nodes": {
                        "hello": { "type": "play", "prompt": "greeting", "next": "q" },
                        "q": { "type": "queue", "queue": q["name"] }
                    }
                }}),
            )
            .await;
        self.post(
            app,
            &format!("/api/v1/ivr/flows/{}/publish", flow["id"].as_str().unwrap()),
            json!({ "version": 1 }),
        )
        .await;
        sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
            .bind(did)
            .bind(self.id)
            .execute(&app.state.db)
            .await
            .unwrap();
        hotline_backend::gateway_sync::publish_did(&app.state, did, Some(self.id))
            .await
            .unwrap();
        hotline_backend::gateway_sync::publish_slug(&app.state, &self.slug, self.id)
            .await
            .unwrap();
        q
    }

    /// The tenant's music on hold: its own prompt `lobby`, 4 s of a `freq` Hz tone (music a
    /// recording can tell from the built-in prompts, which are 440 Hz beeps where the test
    /// gateway has no prompt files).
    pub async fn tone_music_on_hold(&self, app: &TestApp, freq: f64) {
        let samples: Vec<i16> = (0..32_000)
            .map(|i| {
                (12_000.0 * (2.0 * std::f64::consts::PI * freq * i as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let up = self
            .admin
            .post(app.url("/api/v1/ivr/prompts?name=lobby"))
            .header("content-type", "audio/wav")
            .body(hotline_e2e::telephony::wav_8k_mono(&samples))
            .send()
            .await
            .unwrap();
        assert_eq!(up.status(), 201, "{}", up.text().await.unwrap_or_default());
        let r = self
            .admin
            .put(app.url("/api/v1/settings/music-on-hold"))
            .json(&json!({ "prompt": "lobby" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// A signed-in client of one of the tenant's users.
    pub async fn login(&self, app: &TestApp, email: &str) -> reqwest::Client {
        let c = app.client();
        ok(c.post(app.url("/api/v1/auth/login"))
            .json(&json!({ "tenant": self.slug, "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap())
        .await;
        c
    }

    /// The desk phone account of the user with extension `ext`, created (or rotated) through
    /// the API as an admin does: the password it shows once.
    pub async fn desk_phone_password(&self, app: &TestApp, ext: &str) -> String {
        let users = ok(self
            .admin
            .get(app.url(&format!("/api/v1/users?q={ext}")))
            .send()
            .await
            .unwrap())
        .await;
        let id = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["extension"] == ext)
            .unwrap_or_else(|| panic!("no user with extension {ext}"))["id"]
            .as_str()
            .unwrap()
            .to_string();
        let creds = ok(self
            .admin
            .post(app.url(&format!("/api/v1/users/{id}/desk-phone")))
            .send()
            .await
            .unwrap())
        .await;
        creds["password"].as_str().unwrap().to_string()
    }

    /// A SIP phone for extension `ext`: its desk phone account created through the API, a
    /// SIPp REGISTER with digest auth, then SIPp playing `phone` (scenario steps) on the same
    /// port. Its traces are in `dir`; it stops after one call (or SIPp's 60 s timeout).
    pub async fn sip_phone(
        &self,
        app: &TestApp,
        gw_addr: &str,
        dir: &Path,
        ext: &str,
        phone: &str,
    ) -> Child {
        std::fs::create_dir_all(dir).unwrap();
        let password = self.desk_phone_password(app, ext).await;
        let port = free_port().to_string();
        let domain = format!("{}.hotline.test", self.slug);
        let reg = sipp(
            dir,
            "register",
            &register(&domain, ext, &password),
            &["-p", &port, "-s", ext, gw_addr],
        );
        let d = dir.to_path_buf();
        tokio::task::spawn_blocking(move || wait_ok(reg, &d, "REGISTER"))
            .await
            .unwrap();
        sipp(
            dir,
            "phone",
            &scenario(phone),
            &["-p", &port, "-mp", &free_port().to_string()],
        )
    }
}

/// Two agents on SIP phones serving one queue on a number: Aysel (extension 1001) and Bob
/// (1002), signed in and Ready, Aysel first (she has waited longest).
pub struct TwoPhoneAgents {
    pub t: Tenant,
    pub aysel: Uuid,
    pub bob: Uuid,
    /// Aysel's desktop session.
    pub ca: reqwest::Client,
    pub gw: TestGateway,
    pub work: PathBuf,
    /// Where each phone's SIPp traces are, and the caller's.
    pub aysel_dir: PathBuf,
    pub bob_dir: PathBuf,
    pub cust_dir: PathBuf,
    pub aysel_phone: Child,
    pub bob_phone: Child,
}

impl TwoPhoneAgents {
    /// A tenant `company` with the queue `queue` (its JSON) on `did`; Aysel's phone plays
    /// `aysel_phone`, Bob's `bob_phone` (scenario steps such as [`ANSWERING_PHONE`]).
    pub async fn start(
        app: &TestApp,
        company: &str,
        queue: Value,
        did: &str,
        aysel_phone: &str,
        bob_phone: &str,
    ) -> Self {
        let t = tenant(app, company).await;
        t.queue_on_number(app, queue, did).await;
        let domain = t.slug.clone();
        let (ea, eb) = (format!("aysel@{domain}.test"), format!("bob@{domain}.test"));
        let aysel = t.agent(app, &ea, "Aysel", Some("1001"), &[]).await;
        let bob = t.agent(app, &eb, "Bob", Some("1002"), &[]).await;
        let work = workdir(&domain);
        let gw = gateway(app, &work, 0, false);
        let (aysel_dir, bob_dir, cust_dir) =
            (work.join("aysel"), work.join("bob"), work.join("cust"));
        let aysel_phone = t
            .sip_phone(app, &gw.addr, &aysel_dir, "1001", aysel_phone)
            .await;
        let bob_phone = t
            .sip_phone(app, &gw.addr, &bob_dir, "1002", bob_phone)
            .await;
        let ca = t.login(app, &ea).await;
        let cb = t.login(app, &eb).await;
        set_state(app, &ca, "ready").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        set_state(app, &cb, "ready").await;
        TwoPhoneAgents {
            t,
            aysel,
            bob,
            ca,
            gw,
            work,
            aysel_dir,
            bob_dir,
            cust_dir,
            aysel_phone,
            bob_phone,
        }
    }
}

pub fn workdir(what: &str) -> PathBuf {
    let w = std::env::temp_dir().join(format!("hotline-{what}-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&w).unwrap();
    w
}

/// A gateway for one test; `webrtc` gives it the signalling listener. The backend puts a
/// softphone leg on the gateway of the agent's call, else on a live one publishing to its own
/// event stream (so another run's gateways are not picked while this test's are alive).
pub fn gateway(app: &TestApp, work: &std::path::Path, slot: u16, webrtc: bool) -> TestGateway {
    let rtp = 20_000 + ((std::process::id() % 150) as u16 * 3 + slot) * 40;
    let http = [("HOTLINE_GW_HTTP_ADDR", format!("127.0.0.1:{}", free_port()))];
    start_gateway(
        work,
        &app.state.cfg.redis_url,
        &app.state.cfg.call_events_stream,
        rtp,
        if webrtc { &http } else { &[] },
    )
}

/// The inbound call of `number` and the agent leg it was bridged to, from the event stream.
pub async fn bridged(app: &TestApp, number: &str) -> (Uuid, Uuid, Vec<GatewayEvent>) {
    let r = app.state.redis();
    let stream = app.state.cfg.call_events_stream.clone();
    eventually(20, "the caller bridged to an agent leg", || {
        let (mut r, stream) = (r.clone(), stream.clone());
        async move {
            let evs = gateway_events(&mut r, &stream).await;
            let call = evs.iter().find_map(|e| match e {
                GatewayEvent::CallStarted {
                    call_id, caller, ..
                } if caller == number => Some(*call_id),
                _ => None,
            })?;
            let leg = evs.iter().find_map(|e| match e {
                GatewayEvent::Bridged { call_id, peer, .. } if *call_id == call => Some(*peer),
                _ => None,
            })?;
            Some((call, leg, evs))
        }
    })
    .await
}

/// The inbound call of `number`, once it has arrived.
pub async fn caller_call(app: &TestApp, number: &str) -> Uuid {
    gateway_event(app, "the caller's arrival", |e| match e {
        GatewayEvent::CallStarted {
            call_id, caller, ..
        } if caller == number => Some(call_id),
        _ => None,
    })
    .await
}

/// How the caller's leg ended, once it has.
pub async fn hangup_cause(app: &TestApp, call: Uuid) -> HangupCause {
    hangup(app, call).await.0
}

/// How and when a leg ended, once it has.
pub async fn hangup(app: &TestApp, call: Uuid) -> (HangupCause, DateTime<Utc>) {
    gateway_event(app, "the caller's hang-up event", |e| match e {
        GatewayEvent::Hangup {
            call_id, cause, at, ..
        } if call_id == call => Some((cause, at)),
        _ => None,
    })
    .await
}

/// The recording of a leg once it is written: its path and when it started.
pub async fn recording(app: &TestApp, leg: Uuid) -> (PathBuf, DateTime<Utc>) {
    gateway_event(app, "the leg's recording", |e| match e {
        GatewayEvent::RecordingFinished {
            call_id,
            path,
            started_at,
            ..
        } if call_id == leg => Some((PathBuf::from(path), started_at)),
        _ => None,
    })
    .await
}

/// The first gateway event `pick` takes, waiting up to 10 s for it to be published.
pub async fn gateway_event<T>(
    app: &TestApp,
    what: &str,
    pick: impl Fn(GatewayEvent) -> Option<T> + Clone,
) -> T {
    let r = app.state.redis();
    let stream = app.state.cfg.call_events_stream.clone();
    eventually(10, what, || {
        let (mut r, stream, pick) = (r.clone(), stream.clone(), pick.clone());
        async move {
            gateway_events(&mut r, &stream)
                .await
                .into_iter()
                .find_map(pick)
        }
    })
    .await
}

/// A SIPp caller (`caller_steps`, e.g. [`caller`]) dialling `did` at the gateway `gw_addr`;
/// its traces in `dir`.
pub fn dial_in(dir: &Path, caller_steps: &str, did: &str, gw_addr: &str) -> Child {
    std::fs::create_dir_all(dir).unwrap();
    sipp(
        dir,
        "customer",
        &scenario(caller_steps),
        &["-s", did, "-mp", &free_port().to_string(), gw_addr],
    )
}

/// The CDR of a call once it has ended.
pub async fn cdr(app: &TestApp, admin: &reqwest::Client, call: Uuid) -> serde_json::Value {
    let url = app.url(&format!("/api/v1/calls/{call}"));
    eventually(10, "the call's CDR", || {
        let (admin, url) = (admin.clone(), url.clone());
        async move {
            let c = ok(admin.get(url).send().await.unwrap()).await;
            (!c["cdr"]["ended_at"].is_null() && !c["cdr"]["outcome"].is_null()).then_some(c)
        }
    })
    .await
}

/// Sets the agent's state through the API (as the desktop's selector does).
pub async fn set_state(app: &TestApp, c: &reqwest::Client, status: &str) {
    ok(c.put(app.url("/api/v1/agent/state"))
        .json(&json!({ "status": status }))
        .send()
        .await
        .unwrap())
    .await;
}

/// The agent's record in the tenant's ACD.
pub fn acd_agent(app: &TestApp, tenant: Uuid, agent: Uuid) -> hotline_acd::AgentRec {
    let mut con = redis::Client::open(app.state.cfg.redis_url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let acd =
        hotline_acd::redis_acd::snapshot(&mut con, &hotline_backend::call_io::acd_keys(tenant))
            .unwrap();
    acd.agents[&agent.to_string()].clone()
}

/// Waits for a SIPp run (off the async runtime) and fails with its traces unless it succeeded.
pub async fn finished(child: Child, dir: &Path, what: &'static str) {
    let d = dir.to_path_buf();
    tokio::task::spawn_blocking(move || wait_ok(child, &d, what))
        .await
        .unwrap();
}

/// Every SIP message a SIPp run in `dir` sent or received so far.
pub fn sip_trace(dir: &Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().ends_with("_messages.log") {
            out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    out
}

/// Polls `f` every 200 ms for up to `secs` seconds until it gives `Some`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits (up to `secs`) until a gateway event on `stream` or its shards satisfies `pred`.
pub async fn until_event(
    r: &redis::aio::ConnectionManager,
    stream: &str,
    secs: u64,
    what: &str,
    pred: impl Fn(&GatewayEvent) -> bool + Clone,
) {
    eventually(secs, what, || {
        let (mut r, stream, pred) = (r.clone(), stream.to_string(), pred.clone());
        async move {
            gateway_events(&mut r, &stream)
                .await
                .iter()
                .any(pred)
                .then_some(())
        }
    })
    .await
}

/// Every gateway event on `stream` and its shards was handled: nothing is left pending in
/// any shard's consumer group (the last events may still be in hand for a moment) and
/// nothing was dead-lettered.
pub async fn all_events_handled(r: &redis::aio::ConnectionManager, stream: &str) {
    use hotline_backend::call_events;
    eventually(10, "every event acknowledged", || {
        let (mut r, stream) = (r.clone(), stream.to_string());
        async move {
            let mut left = 0;
            for s in wire::event_streams(&stream) {
                let summary: redis::RedisResult<(u64, redis::Value, redis::Value, redis::Value)> =
                    redis::cmd("XPENDING")
                        .arg(&s)
                        .arg(call_events::GROUP)
                        .query_async(&mut r)
                        .await;
                // A shard nobody ever published to has no group.
                left += summary.map(|s| s.0).unwrap_or(0);
            }
            (left == 0).then_some(())
        }
    })
    .await;
    let dead: u64 = redis::cmd("XLEN")
        .arg(call_events::dead_letter_stream(stream))
        .query_async(&mut r.clone())
        .await
        .unwrap();
    assert_eq!(dead, 0, "dead-lettered events");
}

/// A SIPp REGISTER of `ext` at `domain` with `password`, answering the gateway's digest
/// challenge; the gateway must answer 200.
pub fn register(domain: &str, ext: &str, password: &str) -> String {
    register_expecting(domain, ext, password, 200)
}

/// The REGISTER of [`register`], expecting the gateway's final answer `status` (403: a wrong
/// password).
pub fn register_expecting(domain: &str, ext: &str, password: &str, status: u16) -> String {
    let req = |cseq: u32, auth: &str| {
        format!(
            r#"  <send retrans="500"><![CDATA[
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{ext}@{domain}>;tag=[pid]reg[call_number]
      To: <sip:{ext}@{domain}>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:{ext}@[local_ip]:[local_port]>
      Expires: 300
      Max-Forwards: 70
      User-Agent: SIPp desk phone
{auth}      Content-Length: 0

    ]]></send>
"#
        )
    };
    scenario(
        &(req(1, "")
            + "  <recv response=\"401\" auth=\"true\"/>\n"
            + &req(
                2,
                &format!("      [authentication username={ext} password={password}]\n"),
            )
            + &format!("  <recv response=\"{status}\"/>\n")),
    )
}

/// An agent's phone that rings, answers after a second and stays until the gateway hangs up.
pub const ANSWERING_PHONE: &str = r#"  <recv request="INVITE"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:phone@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
    ]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
"#;

/// An agent's phone that rings and is never picked up: the gateway's CANCEL is answered
/// (200, then 487 for the INVITE, which the gateway ACKs).
pub const UNANSWERED_PHONE: &str = r#"  <recv request="INVITE">
    <action><ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="cseq"/></action>
  </recv>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <recv request="CANCEL"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <send><![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      CSeq: [$cseq] INVITE
      Content-Length: 0

    ]]></send>
  <recv request="ACK"/>
"#;

/// A caller from `number`: dials the number SIPp is given (`-s`), waits `before_ms`, speaks
/// (SIPp's A-law sample), waits `after_ms` more and hangs up.
pub fn caller(number: &str, before_ms: u32, after_ms: u32) -> String {
    talking_caller(number, before_ms, 1, 0, after_ms)
}

/// SIPp's A-law speech sample, what [`caller`] says.
pub const SIPP_SPEECH: &str = "/usr/share/sip-tester/g711a.pcap";

/// Like [`caller`], playing the A-law capture `pcap` (e.g. a tone written with
/// `hotline_gateway::media::pcap`) instead of SIPp's speech sample.
pub fn caller_playing(number: &str, pcap: &Path, before_ms: u32, after_ms: u32) -> String {
    caller(number, before_ms, after_ms).replace(SIPP_SPEECH, &pcap.display().to_string())
}

/// Like [`ANSWERING_PHONE`], playing the A-law capture `pcap` once it has answered.
pub fn answering_phone_playing(pcap: &Path) -> String {
    let acked = "  <recv request=\"ACK\"/>\n";
    ANSWERING_PHONE.replace(
        acked,
        &format!(
            "{acked}  <nop><action><exec play_pcap_audio=\"{}\"/></action></nop>\n",
            pcap.display()
        ),
    )
}

/// Like [`caller`], speaking `times` times, a new sample every `every_ms` (the sample lasts
/// about 6.8 s), then waiting `after_ms` after the last one starts.
pub fn talking_caller(
    number: &str,
    before_ms: u32,
    times: u32,
    every_ms: u32,
    after_ms: u32,
) -> String {
    let speak =
        format!("  <nop><action><exec play_pcap_audio=\"{SIPP_SPEECH}\"/></action></nop>\n");
    let talk =
        vec![speak; times as usize].join(&format!("  <pause milliseconds=\"{every_ms}\"/>\n"));
    format!(
        r#"  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{number}@[local_ip]:[local_port]>;tag=[pid]cust[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:customer@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=cust 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{number}@[local_ip]:[local_port]>;tag=[pid]cust[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <pause milliseconds="{before_ms}"/>
{talk}  <pause milliseconds="{after_ms}"/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{number}@[local_ip]:[local_port]>;tag=[pid]cust[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" crlf="true"/>
"#
    )
}

/// What the platform operator does before a signed-up tenant (a trial, limited to its own
/// country) calls out for real: gives it `dids` (`platform.dids`), lifts the trial and allows
/// the countries the tests call (+994, +1) — the columns `PUT /platform/tenants/{id}/outbound-calls`
/// sets —, publishes the limits the gateways enforce, and marks its e-mail verified (as its
/// administrator following the e-mailed link does; `backend/tests/outbound_verify.rs`).
#[allow(dead_code)]
pub async fn outbound_ready(app: &TestApp, tenant: Uuid, dids: &[&str]) {
    for did in dids {
        sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
            .bind(did)
            .bind(tenant)
            .execute(&app.state.db)
            .await
            .unwrap();
    }
    sqlx::query(
        "UPDATE platform.tenants SET trial = false, outbound_countries = '{994,1}',
                email_verified_at = now() WHERE id = $1",
    )
    .bind(tenant)
    .execute(&app.state.db)
    .await
    .unwrap();
    // …and, as the operator's `PUT` does, the limits every gateway enforces.
    hotline_backend::dial_policy::publish_gateway_limits(&app.state, tenant)
        .await
        .unwrap();
}

/// A carrier (SIPp UAS) for calls placed through the gateway's trunk: the INVITE must be for
/// `number` (else SIPp fails the run); it answers and stays on the line until the gateway
/// hangs up.
pub fn answering_carrier(number: &str) -> String {
    let escaped = number.replace('+', "\\+");
    format!(
        r#"  <recv request="INVITE" crlf="true">
    <action><ereg regexp="^INVITE sip:{escaped}@" search_in="msg" check_it="true" assign_to="ruri"/></action>
  </recv>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]a[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:carrier@[local_ip]:[local_port]>
      X-Dialled: [$ruri]
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=carrier 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
"#
    )
}

/// The voicemail `number` left, once the tenant's list (as `admin` sees it) has it.
pub async fn voicemail_from(app: &TestApp, admin: &reqwest::Client, number: &str) -> Value {
    let url = app.url("/api/v1/voicemails?status=all");
    eventually(15, "the voicemail listed", || {
        let (admin, url) = (admin.clone(), url.clone());
        async move {
            let list = ok(admin.get(url).send().await.unwrap()).await;
            list.as_array()?
                .iter()
                .find(|v| v["caller"] == number)
                .cloned()
        }
    })
    .await
}

/// A gateway for one test with the WebRTC listener (browser softphones) and an outbound trunk
/// to `127.0.0.1:<carrier_port>` (a carrier played by SIPp, e.g. [`answering_carrier`]).
pub fn trunk_gateway(app: &TestApp, work: &Path, rtp_base: u16, carrier_port: u16) -> TestGateway {
    start_gateway(
        work,
        &app.state.cfg.redis_url,
        &app.state.cfg.call_events_stream,
        rtp_base,
        &[
            ("HOTLINE_GW_TRUNK", format!("127.0.0.1:{carrier_port}")),
            ("HOTLINE_GW_HTTP_ADDR", format!("127.0.0.1:{}", free_port())),
        ],
    )
}

/// A desk phone that answers after a second and talks (the SIPp speech sample) three times,
/// seven seconds apart, then waits to be hung up (the consulted colleague of the
/// three-backend tests).
pub fn talking_phone() -> String {
    let acked = "  <recv request=\"ACK\"/>\n";
    let speak =
        format!("  <nop><action><exec play_pcap_audio=\"{SIPP_SPEECH}\"/></action></nop>\n");
    let talk = vec![speak; 3].join("  <pause milliseconds=\"7000\"/>\n");
    ANSWERING_PHONE.replace(acked, &format!("{acked}{talk}"))
}

/// The backend (its consumer name) holding `shard`'s lease of the event stream, if any.
pub async fn shard_owner(r: &mut redis::aio::ConnectionManager, shard: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(hotline_backend::call_events::lease_key(shard))
        .query_async(r)
        .await
        .unwrap()
}
