//! IVR prompts over the API: WAV uploads (good, bad, converted to 8 kHz mono), the Redis
//! copy the gateways play from, isolation between tenants, flows refused for a missing
//! prompt, deletion of a prompt in use; flow versions and the tenant's numbers.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    calls::{DidDto, FlowDto, FlowVersionDto},
    prompts::{prompt_key, prompts_key, PromptDto},
};
use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;

/// A PCM WAV: `bits` per sample (16 or 24), `channels` interleaved, the tone on channel 0.
fn tone_wav(rate: u32, channels: u16, bits: u16, freq: f64, secs: f64) -> Vec<u8> {
    let frames = (rate as f64 * secs) as usize;
    let width = bits as usize / 8;
    let mut data = Vec::new();
    for i in 0..frames {
        let v = (i as f64 * 2.0 * std::f64::consts::PI * freq / rate as f64).sin() * 0.5;
        for ch in 0..channels {
            let v = if ch == 0 { v } else { 0.0 };
            let full = (v * ((1i64 << (bits - 1)) - 1) as f64) as i32;
            data.extend_from_slice(&full.to_le_bytes()[..width]);
        }
    }
    wav(1, channels, rate, bits, &data)
}

fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block = channels * bits.max(8) / 8;
    let mut v = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * block as u32).to_le_bytes());
    v.extend_from_slice(&block.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    let riff = (v.len() - 8) as u32;
    v[4..8].copy_from_slice(&riff.to_le_bytes());
    v
}

/// (channels, rate, bits, samples) of a 16-bit PCM WAV with a 44-byte header.
fn read_wav(d: &[u8]) -> (u16, u32, u16, Vec<i16>) {
    assert_eq!(&d[0..4], b"RIFF");
    assert_eq!(&d[8..16], b"WAVEfmt ");
    assert_eq!(&d[36..40], b"data");
    let channels = u16::from_le_bytes([d[22], d[23]]);
    let rate = u32::from_le_bytes([d[24], d[25], d[26], d[27]]);
    let bits = u16::from_le_bytes([d[34], d[35]]);
    let samples = d[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    (channels, rate, bits, samples)
}

/// Power at `freq` (Goertzel), normalised by length.
fn goertzel(samples: &[i16], rate: f64, freq: f64) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / rate).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = x as f64 + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.len() as f64).powi(2)
}

async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    name: &str,
    ctype: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    c.post(app.url(&format!("/api/v1/ivr/prompts?name={name}")))
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
}

async fn audio_of(app: &TestApp, c: &reqwest::Client, p: &PromptDto) -> (StatusCode, Vec<u8>) {
    let r = c.get(app.url(&p.audio_url)).send().await.unwrap();
    let s = r.status();
    if s == StatusCode::OK {
        assert_eq!(r.headers()["content-type"], "audio/wav");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
    (s, r.bytes().await.unwrap().to_vec())
}

fn play_flow(prompt: &str) -> serde_json::Value {
    json!({
        "start": "hello",
        "nodes": {
            "hello": { "type": "play", "prompt": prompt, "next": "menu" },
            "menu": { "type": "menu", "prompt": "menu", "options": { "1": "sales" }, "fallback": "bye" },
            "sales": { "type": "queue", "queue": "Sales" },
            "bye": { "type": "hangup", "prompt": "goodbye" }
        }
    })
}

#[tokio::test]
async fn wav_prompts_are_converted_published_and_isolated() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Prompts A").await;
    let b = tenant(&app, "Prompts B").await;
    let (ta, tb) = (a.info.tenant.id, b.info.tenant.id);

    // A 44.1 kHz stereo 16-bit WAV with a 1 kHz tone on the left channel.
    let p: PromptDto = created(
        upload(
            &app,
            &a.admin,
            "welcome",
            "audio/wav",
            tone_wav(44_100, 2, 16, 1000.0, 1.0),
        )
        .await,
    )
    .await;
    assert_eq!((p.name.as_str(), p.version), ("welcome", 1));
    assert_eq!(p.original_format, "44100 Hz, stereo, 16-bit PCM");
    assert!((p.duration_ms - 1000).abs() <= 1, "{}", p.duration_ms);
    // Stored as 8 kHz mono 16-bit with the tone (mixed down: half of a half-scale tone).
    let (status, stored) = audio_of(&app, &a.admin, &p).await;
    assert_eq!(status, StatusCode::OK);
    let (channels, rate, bits, samples) = read_wav(&stored);
    assert_eq!((channels, rate, bits), (1, 8000, 16));
    assert!((samples.len() as i64 - 8000).abs() <= 1);
    let peak = samples[400..7600]
        .iter()
        .map(|s| s.unsigned_abs())
        .max()
        .unwrap();
    assert!((7800..8600).contains(&peak), "peak {peak}");
    assert!(goertzel(&samples, 8000.0, 1000.0) > 100.0 * goertzel(&samples, 8000.0, 2000.0));
    assert_eq!(p.size_bytes as usize, stored.len());

    // The gateways' copy in Redis: A's index and A's audio, byte for byte.
    let mut r = app.state.redis();
    let index: HashMap<String, String> = r.hgetall(prompts_key(ta)).await.unwrap();
    let token_v1 = index.get("welcome").cloned().expect("indexed");
    let copy: Vec<u8> = r.get(prompt_key(ta, "welcome")).await.unwrap();
    assert_eq!(copy, stored);

    // Multipart, 48 kHz mono 24-bit; the name comes from the file name.
    let boundary = "----hotline-prompt-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Closed Hours.wav\"\r\n\
         Content-Type: audio/x-wav\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&tone_wav(48_000, 1, 24, 440.0, 0.5));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let closed: PromptDto = created(
        a.admin
            .post(app.url("/api/v1/ivr/prompts"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await,
    )
    .await;
    assert_eq!(closed.name, "closed-hours");
    assert_eq!(closed.original_name, "Closed Hours.wav");
    assert_eq!(closed.original_format, "48000 Hz, mono, 24-bit PCM");
    let (_, closed_audio) = audio_of(&app, &a.admin, &closed).await;
    let (_, rate, _, s) = read_wav(&closed_audio);
    assert_eq!((rate, s.len()), (8000, 4000));

    // Replacing: same name → 200, version 2, a new token in Redis.
    let v2: PromptDto = ok_json(
        upload(
            &app,
            &a.admin,
            "welcome",
            "audio/wav",
            tone_wav(16_000, 1, 16, 1500.0, 2.0),
        )
        .await,
    )
    .await;
    assert_eq!((v2.version, v2.duration_ms), (2, 2000));
    let index: HashMap<String, String> = r.hgetall(prompts_key(ta)).await.unwrap();
    assert_ne!(index["welcome"], token_v1);
    assert_eq!(index.len(), 2);

    // Bad uploads, each with the reason.
    let mp3 = b"ID3\x04\0\0\0\0\0\x21\xff\xfb\x90\x64\0\0\0\0".to_vec();
    let p415 = problem(
        upload(&app, &a.admin, "music", "application/octet-stream", mp3).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert!(p415.detail.unwrap().contains("not a WAV file"));
    let p415 = problem(
        upload(
            &app,
            &a.admin,
            "music",
            "audio/mpeg",
            tone_wav(8000, 1, 16, 400.0, 0.1),
        )
        .await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert!(p415.detail.unwrap().contains("declared as audio/mpeg"));
    let adpcm = wav(2, 1, 8000, 4, &[0u8; 400]);
    let p = problem(
        upload(&app, &a.admin, "adpcm", "audio/wav", adpcm).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["file"]);
    assert!(p.errors[0].message.contains("Microsoft ADPCM"), "{p:?}");
    let p = problem(
        upload(
            &app,
            &a.admin,
            "surround",
            "audio/wav",
            wav(1, 3, 8000, 16, &[0u8; 600]),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        p.errors[0].message,
        "3 channels: only mono or stereo is accepted"
    );
    let p = problem(
        upload(
            &app,
            &a.admin,
            "Bad Name",
            "audio/wav",
            tone_wav(8000, 1, 16, 400.0, 0.1),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["name"]);
    let p = problem(
        upload(
            &app,
            &a.admin,
            "menu",
            "audio/wav",
            tone_wav(8000, 1, 16, 400.0, 0.1),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(p.errors[0].message.contains("built-in"));
    problem(
        upload(&app, &a.admin, "empty", "audio/wav", vec![]).await,
        422,
        "validation_failed",
    )
    .await;
    // Nothing of that was stored.
    let listed: Vec<PromptDto> =
        ok_json(a.admin.get(app.url("/api/v1/ivr/prompts")).send().await).await;
    let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["closed-hours", "welcome"]);

    // Tenant B sees none of A's prompts, cannot fetch, delete or use them.
    let listed: Vec<PromptDto> =
        ok_json(b.admin.get(app.url("/api/v1/ivr/prompts")).send().await).await;
    assert!(listed.is_empty());
    let (status, _) = audio_of(&app, &b.admin, &v2).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    problem(
        b.admin
            .delete(app.url("/api/v1/ivr/prompts/welcome"))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let p = problem(
        b.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "B main", "graph": play_flow("welcome") }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["graph.nodes.hello.prompt"]);
    assert!(p.errors[0].message.contains("missing prompt \"welcome\""));
    // B's own "welcome" is another key; A's copy is untouched.
    created::<PromptDto>(
        upload(
            &app,
            &b.admin,
            "welcome",
            "audio/wav",
            tone_wav(8000, 1, 16, 600.0, 0.3),
        )
        .await,
    )
    .await;
    let b_copy: Vec<u8> = r.get(prompt_key(tb, "welcome")).await.unwrap();
    let (_, _, _, b_samples) = read_wav(&b_copy);
    assert_eq!(b_samples.len(), 2400);
    let (_, a_now) = audio_of(&app, &a.admin, &v2).await;
    let a_copy: Vec<u8> = r.get(prompt_key(ta, "welcome")).await.unwrap();
    assert_eq!(a_copy, a_now);
    assert_ne!(a_copy, b_copy);

    // Flows: a missing prompt is a field error next to its node; built-in and own prompts pass.
    let mut g = play_flow("nosuch");
    g["nodes"]["bye"]["prompt"] = json!("closed-hours");
    let p = problem(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": g }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["graph.nodes.hello.prompt"]);
    let flow: FlowDto = created(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": play_flow("welcome") }))
            .send()
            .await,
    )
    .await;

    // A prompt a flow plays cannot be deleted; an unused one can, and leaves Redis too.
    let p = problem(
        a.admin
            .delete(app.url("/api/v1/ivr/prompts/welcome"))
            .send()
            .await,
        409,
        "prompt_in_use",
    )
    .await;
    assert!(p.detail.unwrap().contains("Main"));
    let r204 = a
        .admin
        .delete(app.url("/api/v1/ivr/prompts/closed-hours"))
        .send()
        .await
        .unwrap();
    assert_eq!(r204.status(), StatusCode::NO_CONTENT);
    let (status, _) = audio_of(&app, &a.admin, &closed).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let index: HashMap<String, String> = r.hgetall(prompts_key(ta)).await.unwrap();
    assert_eq!(index.keys().collect::<Vec<_>>(), ["welcome"]);
    let gone: Option<Vec<u8>> = r.get(prompt_key(ta, "closed-hours")).await.unwrap();
    assert!(gone.is_none());

    // Publishing re-checks: version 1 plays "temp", version 2 does not; once "temp" is
    // deleted, version 1 cannot be published.
    created::<PromptDto>(
        upload(
            &app,
            &a.admin,
            "temp",
            "audio/wav",
            tone_wav(8000, 1, 16, 400.0, 0.2),
        )
        .await,
    )
    .await;
    let v: FlowDto = ok_json(
        a.admin
            .put(app.url(&format!("/api/v1/ivr/flows/{}", flow.id)))
            .json(&json!({ "graph": play_flow("temp") }))
            .send()
            .await,
    )
    .await;
    assert_eq!(v.latest_version, 2);
    ok_json::<FlowDto>(
        a.admin
            .put(app.url(&format!("/api/v1/ivr/flows/{}", flow.id)))
            .json(&json!({ "graph": play_flow("welcome") }))
            .send()
            .await,
    )
    .await;
    let r204 = a
        .admin
        .delete(app.url("/api/v1/ivr/prompts/temp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r204.status(), StatusCode::NO_CONTENT);
    let p = problem(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 2 }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["graph.nodes.hello.prompt"]);
    let live: FlowDto = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 3 }))
            .send()
            .await,
    )
    .await;
    assert_eq!(live.published_version, Some(3));

    // Agents may not manage prompts.
    let (_, agent) = a.user(&app, "agent@promptsa.test", "Agent").await;
    problem(
        agent.get(app.url("/api/v1/ivr/prompts")).send().await,
        403,
        "forbidden",
    )
    .await;
    problem(
        upload(
            &app,
            &agent,
            "x",
            "audio/wav",
            tone_wav(8000, 1, 16, 400.0, 0.1),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    // The routes are documented.
    let doc: serde_json::Value =
        ok_json(a.admin.get(app.url("/api/v1/openapi.json")).send().await).await;
    for path in [
        "/api/v1/ivr/prompts",
        "/api/v1/ivr/prompts/{name}",
        "/api/v1/ivr/prompts/{name}/audio",
        "/api/v1/ivr/flows/{id}/versions",
        "/api/v1/ivr/dids",
        "/api/v1/ivr/dids/{did}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn flow_versions_and_the_tenants_numbers_are_listed() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Numbers A").await;
    let b = tenant(&app, "Numbers B").await;
    for (t, did) in [
        (a.info.tenant.id, "+994125550201"),
        (a.info.tenant.id, "+994125550202"),
        (b.info.tenant.id, "+994125550203"),
    ] {
        sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
            .bind(did)
            .bind(t)
            .execute(&app.state.db)
            .await
            .unwrap();
    }
    let flow: FlowDto = created(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": play_flow("greeting") }))
            .send()
            .await,
    )
    .await;
    ok_json::<FlowDto>(
        a.admin
            .put(app.url(&format!("/api/v1/ivr/flows/{}", flow.id)))
            .json(&json!({ "graph": play_flow("goodbye") }))
            .send()
            .await,
    )
    .await;
    ok_json::<FlowDto>(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
    )
    .await;
    let versions: Vec<FlowVersionDto> = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/ivr/flows/{}/versions", flow.id)))
            .send()
            .await,
    )
    .await;
    let summary: Vec<(i32, bool, &str)> = versions
        .iter()
        .map(|v| {
            (
                v.version,
                v.published,
                v.graph["nodes"]["hello"]["prompt"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [(2, false, "goodbye"), (1, true, "greeting")]);
    problem(
        b.admin
            .get(app.url(&format!("/api/v1/ivr/flows/{}/versions", flow.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;

    ok_json::<serde_json::Value>(
        a.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": "+994125550202", "flow_id": flow.id }))
            .send()
            .await,
    )
    .await;
    let dids: Vec<DidDto> = ok_json(a.admin.get(app.url("/api/v1/ivr/dids")).send().await).await;
    let pairs: Vec<(&str, Option<uuid::Uuid>)> =
        dids.iter().map(|d| (d.did.as_str(), d.flow_id)).collect();
    assert_eq!(
        pairs,
        [("+994125550201", None), ("+994125550202", Some(flow.id))]
    );
    // Each item carries the tenant, as the OpenAPI schema requires.
    assert!(dids.iter().all(|d| d.tenant_id == a.info.tenant.id));
    let b_dids: Vec<DidDto> = ok_json(b.admin.get(app.url("/api/v1/ivr/dids")).send().await).await;
    assert_eq!(b_dids.len(), 1);
    // B cannot unassign A's number; A can.
    problem(
        b.admin
            .delete(app.url("/api/v1/ivr/dids/+994125550202"))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let r = a
        .admin
        .delete(app.url("/api/v1/ivr/dids/+994125550202"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let dids: Vec<DidDto> = ok_json(a.admin.get(app.url("/api/v1/ivr/dids")).send().await).await;
    assert!(dids.iter().all(|d| d.flow_id.is_none()));
}

/// The tenant chooses its music on hold among its own prompts: a call waiting in a queue
/// hears it (the backend's `music_on_hold` command names it); an unknown prompt is refused on
/// `prompt`; the chosen prompt cannot be deleted until other music is chosen; another tenant
/// can neither choose it nor is affected by it.
#[tokio::test]
async fn music_on_hold_is_the_tenants_own_prompt() {
    use hotline_wire::gateway::{FlowMode, GatewayCommand, GatewayEvent};
    use hotline_wire::prompts::MusicOnHoldSettings;
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Moh A").await;
    let b = tenant(&app, "Moh B").await;
    let url = app.url("/api/v1/settings/music-on-hold");
    let s: MusicOnHoldSettings = ok_json(a.admin.get(&url).send().await).await;
    assert_eq!(s.prompt, None, "built-in music until one is chosen");

    let p = problem(
        a.admin
            .put(&url)
            .json(&json!({ "prompt": "lobby" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["prompt"]);
    let up = upload(
        &app,
        &a.admin,
        "lobby",
        "audio/wav",
        tone_wav(8000, 1, 16, 700.0, 2.0),
    )
    .await
    .unwrap();
    assert_eq!(up.status(), 201);
    let s: MusicOnHoldSettings = ok_json(
        a.admin
            .put(&url)
            .json(&json!({ "prompt": "lobby" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(s.prompt.as_deref(), Some("lobby"));
    // Another tenant cannot pick it (it has no such prompt) and keeps the built-in music.
    let p = problem(
        b.admin
            .put(&url)
            .json(&json!({ "prompt": "lobby" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["prompt"]);
    let s: MusicOnHoldSettings = ok_json(b.admin.get(&url).send().await).await;
    assert_eq!(s.prompt, None);
    // In use: not deleted.
    problem(
        a.admin
            .delete(app.url("/api/v1/ivr/prompts/lobby"))
            .send()
            .await,
        409,
        "prompt_in_use",
    )
    .await;

    // A call waiting in a queue hears the chosen music; tenant B's caller the built-in one.
    let gw = stand_in_gateway(&app, "moh").await;
    let mut last = "0-0".to_string();
    for (t, want) in [(&a, "lobby"), (&b, "moh")] {
        created::<serde_json::Value>(
            t.admin
                .post(app.url("/api/v1/queues"))
                .json(
                    &json!({ "name": "Sales", "strategy": "longest_idle", "max_wait_seconds": 0,
                               "wrap_up_seconds": 0 }),
                )
                .send()
                .await,
        )
        .await;
        let graph = json!({ "start": "q", "nodes": { "q": { "type": "queue", "queue": "Sales", "priority": 0 } } });
        let f: FlowDto = created(
            t.admin
                .post(app.url("/api/v1/ivr/flows"))
                .json(&json!({ "name": "Main", "graph": graph, "is_default": true }))
                .send()
                .await,
        )
        .await;
        ok_json::<FlowDto>(
            t.admin
                .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", f.id)))
                .json(&json!({ "version": 1 }))
                .send()
                .await,
        )
        .await;
        let call = uuid::Uuid::new_v4();
        event(
            &app,
            &GatewayEvent::CallStarted {
                gateway_id: gw.clone(),
                call_id: call,
                tenant_id: t.info.tenant.id,
                caller: "+15550004444".into(),
                did: "+994125550188".into(),
                sip_call_id: format!("moh-{call}"),
                mode: FlowMode::Backend,
                at: chrono::Utc::now(),
            },
        )
        .await;
        let prompt = loop {
            match next_command(&app, &gw, &mut last).await {
                GatewayCommand::MusicOnHold { call_id, prompt } if call_id == call => break prompt,
                _ => {}
            }
        };
        assert_eq!(prompt, want);
    }

    // Back to the built-in music: the prompt can go.
    let s: MusicOnHoldSettings = ok_json(
        a.admin
            .put(&url)
            .json(&json!({ "prompt": null }))
            .send()
            .await,
    )
    .await;
    assert_eq!(s.prompt, None);
    let r = a
        .admin
        .delete(app.url("/api/v1/ivr/prompts/lobby"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}
