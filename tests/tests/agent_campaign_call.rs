//! An agent campaign end to end: two agents in two Chromium windows (fake microphones,
//! softphones connected over WebRTC to the real gateway) are Ready; a progressive campaign
//! dials two contacts through the gateway's trunk to a carrier played by SIPp (a UAS that
//! answers and stays on the line); each answered call is offered to one free agent — the
//! desktop pops the customer card and the campaign script — and bridged into that agent's
//! softphone; each agent fills in the script (its branches follow the answers) and hangs up.
//! The answers are saved on the right contact, each contact was talked to by a different
//! agent (no agent is offered two calls), and no more calls were placed than contacts.
//!
//! Needs Chromium + chromedriver, SIPp, sox, the gateway binary and a built `frontend/dist`.

use std::time::{Duration, Instant};

use anyhow::ensure;
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{fake_microphone_args, run_with, Browser};
use hotline_e2e::telephony::{free_port, gateway_events, scenario, sipp, start_gateway, wait_ok};
use hotline_wire::campaigns::{CampaignDto, ContactDto};
use hotline_wire::gateway::GatewayEvent;
use serde_json::json;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

/// The carrier: answers every call and stays on the line until the gateway hangs up.
const CARRIER: &str = r#"  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]a[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:carrier@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=carrier 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
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

const SCRIPT: &str = "interested: Interested in the new tariff? [yes=Yes -> plan | no=No -> why]\n\
                      why: Why not? [price=Too expensive -> end | other=Other -> end]\n\
                      plan: Which plan? [basic=Basic | plus=Plus]";

/// The contacts, and what each one's agent answers: (phone, name, interested, then).
const CONTACTS: [(&str, &str, &str, &str); 2] = [
    ("+15550002001", "Rashad Mammadov", "Yes", "Plus"),
    ("+15550002002", "Gunay Aliyeva", "No", "Too expensive"),
];

/// The agent's part: the campaign call rings with the contact's card, is taken, the script
/// is answered by its branches and saved, and the agent hangs up. Returns the contact's name.
async fn take_call(b: &Browser) -> anyhow::Result<String> {
    b.wait_text("#incoming-ivr", "Tariff upsell").await?;
    b.click("#call-accept").await?;
    b.wait("#in-call").await?;
    let who = b.wait("#campaign-contact").await?.text().await?;
    let (_, name, interested, then) = CONTACTS
        .iter()
        .find(|c| who.contains(c.1))
        .copied()
        .ok_or_else(|| anyhow::anyhow!("unknown contact on screen: {who}"))?;
    // The customer card popped for the number called.
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.value("#cust-name").await.unwrap_or_default() != name {
        ensure!(Instant::now() < deadline, "no screen pop of {name}'s card");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.choose("#script-interested", interested).await?;
    // The next question depends on the answer.
    let next = if interested == "Yes" {
        "#script-plan"
    } else {
        "#script-why"
    };
    b.choose(next, then).await?;
    b.click("#campaign-script-save").await?;
    b.wait("#campaign-script-saved").await?;
    b.click("#call-hangup").await?;
    b.wait("#wrapup-form").await?;
    Ok(name.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_campaign_bridges_answered_calls_to_two_browser_agents_with_the_script() {
    let app = TestApp::spawn().await;
    let (admin, info) = app.signup("Upsell Telecom").await;

    // What the platform operator does before a sign-up calls out for real: its number (the
    // campaign's caller ID), the trial lifted, +994 and +1 allowed.
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ('+994125550100', $1)")
        .bind(info.tenant.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE platform.tenants SET trial = false, outbound_countries = '{994,1}',
                email_verified_at = now() WHERE id = $1",
    )
    .bind(info.tenant.id)
    .execute(&app.state.db)
    .await
    .unwrap();
    // The limits the gateways enforce follow (the operator's `PUT` publishes them).
    hotline_backend::dial_policy::publish_gateway_limits(&app.state, info.tenant.id)
        .await
        .unwrap();
    let slug = info.tenant.slug.clone();
    let url = |p: &str| app.url(p);
    async fn ok(r: reqwest::Response) -> serde_json::Value {
        let s = r.status();
        let body = r.text().await.unwrap();
        assert!(s.is_success(), "{s}: {body}");
        serde_json::from_str(&body).unwrap_or_default()
    }
    ok(admin
        .post(url("/api/v1/queues"))
        .json(&json!({ "name": "Upsell", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }))
        .send()
        .await
        .unwrap())
    .await;
    let roles = ok(admin.get(url("/api/v1/roles")).send().await.unwrap()).await;
    let agent_role = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Agent")
        .unwrap()["id"]
        .clone();
    for (email, name) in [("aysel@upsell.test", "Aysel"), ("bob@upsell.test", "Bob")] {
        ok(admin
            .post(url("/api/v1/users"))
            .json(&json!({ "email": email, "name": name, "password": PASSWORD, "role_id": agent_role }))
            .send()
            .await
            .unwrap())
        .await;
    }
    for (phone, name, ..) in CONTACTS {
        ok(admin
            .post(url("/api/v1/customers"))
            .json(&json!({ "name": name, "phones": [{ "number": phone, "label": "mobile" }] }))
            .send()
            .await
            .unwrap())
        .await;
    }
    // The supervisor builds the campaign in the SPA: agents of "Upsell", progressive, the
    // script in its text form; the contacts are the CRM's customers found by a search.
    let (slug0, script) = (slug.clone(), SCRIPT.to_string());
    hotline_e2e::browser::run("agent_campaign_form", &app.base_url, async move |b| {
        b.open("/login").await?;
        b.fill("#tenant", &slug0).await?;
        b.fill("#email", "admin@upsell-telecom.test").await?;
        b.fill("#password", PASSWORD).await?;
        b.click("#login-submit").await?;
        b.click("nav.mainnav a[href='/admin/campaigns']").await?;
        b.wait_path("/admin/campaigns").await?;
        b.fill("#campaign-name", "Tariff upsell").await?;
        // The caller ID is picked from the tenant's numbers.
        b.choose("#campaign-caller-id", "+994125550100").await?;
        b.choose("#campaign-kind", "Agents").await?;
        b.choose("#campaign-mode", "Progressive").await?;
        b.choose("#campaign-queue", "Upsell").await?;
        // A branch to an earlier question is refused, and the form says so.
        b.fill(
            "#campaign-script",
            "a: First? [1 | 2]\nb: Second? [1 -> a | 2]",
        )
        .await?;
        b.fill("#campaign-lines", "2").await?;
        b.fill("#campaign-ring", "20").await?;
        b.click("#campaign-create").await?;
        b.wait_text("#campaign-script-error", "not a later question")
            .await?;
        b.fill("#campaign-script", &script).await?;
        b.click("#campaign-create").await?;
        b.wait_text("#campaigns-table tr[data-name='Tariff upsell']", "Draft")
            .await?;
        b.fill("#campaign-crm-q", "+1555000200").await?;
        b.click("#campaign-crm-add").await?;
        b.wait_text(".alert.ok", "2 contacts added").await?;
        Ok(())
    })
    .await;
    let list = ok(admin.get(url("/api/v1/campaigns")).send().await.unwrap()).await;
    let mut campaign: CampaignDto = serde_json::from_value(list[0].clone()).unwrap();
    assert_eq!(campaign.input.kind, "agent");
    assert_eq!(campaign.input.dial_mode.as_deref(), Some("progressive"));
    assert_eq!(
        campaign.input.script,
        hotline_wire::campaigns::parse_script(SCRIPT).unwrap()
    );
    assert_eq!(campaign.counts.contacts, 2);
    // Calls at any hour, any day (the form's default is weekdays 09:00–20:00).
    let all_day = Some(["00:00".to_string(), "23:59".to_string()]);
    campaign.input.calling_hours = vec![all_day; 7];
    let id = campaign.id;
    ok(admin
        .put(url(&format!("/api/v1/campaigns/{id}")))
        .json(&campaign.input)
        .send()
        .await
        .unwrap())
    .await;

    // The gateway: trunk to the carrier, WebRTC signalling for the softphones.
    let work = std::env::temp_dir().join(format!("hotline-agentcamp-{}", Uuid::new_v4().simple()));
    let carrier_dir = work.join("carrier");
    std::fs::create_dir_all(&carrier_dir).unwrap();
    let carrier_port = free_port();
    let rtp = 44_000 + (std::process::id() % 100) as u16 * 40;
    let _gw = start_gateway(
        &work,
        &app.state.cfg.redis_url,
        &app.state.cfg.call_events_stream,
        rtp,
        &[
            ("HOTLINE_GW_TRUNK", format!("127.0.0.1:{carrier_port}")),
            ("HOTLINE_GW_HTTP_ADDR", format!("127.0.0.1:{}", free_port())),
        ],
    );
    let chrome_args = fake_microphone_args(&work);
    let carrier = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (carrier2, cdir) = (carrier.clone(), carrier_dir.clone());
    let (base, args2, slug2) = (app.base_url.clone(), chrome_args.clone(), slug.clone());
    let names = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let names2 = names.clone();
    let start_url = url(&format!("/api/v1/campaigns/{id}/start"));
    let admin2 = admin.clone();
    run_with(
        "agent_campaign_aysel",
        &app.base_url,
        &chrome_args,
        async move |a| {
            a.agent_ready(&slug2, "aysel@upsell.test", PASSWORD).await?;
            let (carrier3, cdir3, names3, admin3, start3) = (
                carrier2.clone(),
                cdir.clone(),
                names2.clone(),
                admin2.clone(),
                start_url.clone(),
            );
            run_with("agent_campaign_bob", &base, &args2, async move |b| {
                b.agent_ready(&slug2, "bob@upsell.test", PASSWORD).await?;
                // Both agents ready: the carrier picks up, the campaign starts.
                *carrier3.lock().unwrap() = Some(sipp(
                    &cdir3,
                    "carrier",
                    &scenario(CARRIER),
                    &[
                        "-p",
                        &carrier_port.to_string(),
                        "-mp",
                        &free_port().to_string(),
                        "-m",
                        "2",
                    ],
                ));
                let r = admin3.post(&start3).send().await?;
                ensure!(r.status().is_success(), "start: {}", r.text().await?);
                let (x, y) = tokio::join!(take_call(a), take_call(b));
                names3.lock().unwrap().extend([x?, y?]);
                Ok(())
            })
            .await;
            Ok(())
        },
    )
    .await;
    let child = carrier
        .lock()
        .unwrap()
        .take()
        .expect("the carrier was started");
    let cd = carrier_dir.clone();
    tokio::task::spawn_blocking(move || wait_ok(child, &cd, "carrier"))
        .await
        .unwrap();

    // Each agent talked to a different contact: no agent was offered two calls.
    let mut seen = names.lock().unwrap().clone();
    seen.sort();
    let mut want: Vec<String> = CONTACTS.iter().map(|c| c.1.to_string()).collect();
    want.sort();
    assert_eq!(seen, want);

    // The answers are on the contacts, each with the agent who took the call.
    let mut contacts: Vec<ContactDto> = vec![];
    for _ in 0..60 {
        let page: hotline_wire::api::Page<ContactDto> = serde_json::from_value(
            ok(admin
                .get(url(&format!("/api/v1/campaigns/{id}/contacts")))
                .send()
                .await
                .unwrap())
            .await,
        )
        .unwrap();
        contacts = page.items;
        if contacts.iter().all(|k| k.status == "answered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let log = std::fs::read_to_string(work.join("gateway.log")).unwrap_or_default();
    let by = |p: &str| contacts.iter().find(|k| k.phone == p).unwrap().clone();
    let yes = by(CONTACTS[0].0);
    let no = by(CONTACTS[1].0);
    assert_eq!(yes.status, "answered", "{contacts:#?}\n{log}");
    assert_eq!(no.status, "answered", "{contacts:#?}");
    assert_eq!(
        yes.answers.get("interested").map(String::as_str),
        Some("yes")
    );
    assert_eq!(yes.answers.get("plan").map(String::as_str), Some("plus"));
    assert_eq!(no.answers.get("interested").map(String::as_str), Some("no"));
    assert_eq!(no.answers.get("why").map(String::as_str), Some("price"));
    assert!(yes.agent_id.is_some() && no.agent_id.is_some());
    assert_ne!(yes.agent_id, no.agent_id, "one agent took both calls");
    assert_eq!((yes.attempts, no.attempts), (1, 1));

    // Both calls were bridged into the agents' softphones by the gateway.
    let mut r = app.state.redis();
    let evs = gateway_events(&mut r, &app.state.cfg.call_events_stream).await;
    let bridged = evs
        .iter()
        .filter(|e| matches!(e, GatewayEvent::Bridged { .. }))
        .count();
    assert!(bridged >= 2, "calls not bridged: {evs:#?}");
    let c: CampaignDto = serde_json::from_value(
        ok(admin
            .get(url(&format!("/api/v1/campaigns/{id}")))
            .send()
            .await
            .unwrap())
        .await,
    )
    .unwrap();
    assert_eq!(c.counts.dialled, 2, "{:?}", c.counts);
    assert_eq!(c.counts.abandoned, 0, "{:?}", c.counts);
    let _ = std::fs::remove_dir_all(&work);
}
