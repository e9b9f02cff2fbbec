//! Agent and survey campaigns through the API and the gateway's event stream (a stand-in
//! gateway: its heartbeat in Redis, its command stream read back, its events written to the
//! stream the backend consumes). Real Postgres, Redis and the backend's own consumers.
//!
//! - progressive dialing places one line per free agent, offers each answered call to a free
//!   agent only (never a second call to a busy one), and an answered call that finds nobody
//!   free hears the short message and counts as abandoned;
//! - the script's answers are saved on the contact by the agent who has it, checked against
//!   the script's branches; another agent cannot see the contact;
//! - preview mode hands each agent their own contact, dials from their softphone, skips;
//! - a survey asks its questions by the branches of the keys pressed and stores them;
//! - answering-machine detection decides what a message campaign does with a machine.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    campaigns::{AgentCampaignContact, CampaignDto, ContactDto, ContactsAdded},
    gateway::{self as wire, GatewayCommand, GatewayEvent, HangupCause},
};
use redis::AsyncCommands;
use serde_json::{json, Value};
use uuid::Uuid;

fn hours() -> Value {
    let day = json!(["00:00", "23:59"]);
    json!([day, day, day, day, day, day, day])
}

const SCRIPT: &str = "interested: Interested in the new tariff? [yes=Yes -> plan | no=No -> why]\n\
                      why: Why not? [price=Too expensive -> end | other=Other -> end]\n\
                      plan: Which plan? [basic=Basic | plus=Plus]\n\
                      notes: Notes (text)";

async fn set_state(app: &TestApp, c: &reqwest::Client, status: &str) {
    ok_json::<Value>(
        c.put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": status }))
            .send()
            .await,
    )
    .await;
}

/// Started through the API, then left to the test's own ticks (the background ticker, on the
/// real clock, no longer sees it).
/// A longest-idle queue with no wait limit and no wrap-up, for a campaign's calls.
async fn longest_idle_queue(
    app: &TestApp,
    admin: &reqwest::Client,
    name: &str,
) -> hotline_wire::api::QueueDto {
    created(
        admin
            .post(app.url("/api/v1/queues"))
            .json(
                &json!({ "name": name, "strategy": "longest_idle", "max_wait_seconds": 0,
                           "wrap_up_seconds": 0 }),
            )
            .send()
            .await,
    )
    .await
}

async fn start(app: &TestApp, admin: &reqwest::Client, tenant: Uuid, id: Uuid) {
    let _: CampaignDto = ok_json(
        admin
            .post(app.url(&format!("/api/v1/campaigns/{id}/start")))
            .send()
            .await,
    )
    .await;
    hotline_backend::campaigns::set_running(&app.state, tenant, id, false)
        .await
        .unwrap();
}

/// One dialer tick, under the campaign's lock: a background tick that caught the campaign in
/// the moment `start` had it running must finish first (two ticks at once would both dial).
async fn tick(app: &TestApp, tenant: Uuid, id: Uuid) {
    for _ in 0..250 {
        if hotline_backend::campaigns::tick_locked(&app.state, tenant, id, chrono::Utc::now())
            .await
            .unwrap()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the campaign's tick lock was never free");
}

fn originated(cmd: GatewayCommand) -> (Uuid, String) {
    match cmd {
        GatewayCommand::Originate {
            call_id, callee, ..
        } => (call_id, callee),
        other => panic!("expected an originate, got {other:?}"),
    }
}

async fn contacts(app: &TestApp, admin: &reqwest::Client, id: Uuid) -> Vec<ContactDto> {
    let page: hotline_wire::api::Page<ContactDto> = ok_json(
        admin
            .get(app.url(&format!("/api/v1/campaigns/{id}/contacts")))
            .send()
            .await,
    )
    .await;
    page.items
}

/// Waits until the ACD has `agent` in `state` (the backend's consumer acts on events).
async fn acd_state(app: &TestApp, tenant: Uuid, agent: Uuid, want: &str) {
    for _ in 0..100 {
        let s = hotline_backend::agents::agent_acd_state(&app.state, tenant, agent)
            .await
            .unwrap();
        if s == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("agent {agent} never became {want}");
}

async fn contact_status(app: &TestApp, admin: &reqwest::Client, id: Uuid, phone: &str, want: &str) {
    for _ in 0..100 {
        if contacts(app, admin, id)
            .await
            .iter()
            .any(|k| k.phone == phone && k.status == want)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("contact {phone} never became {want}");
}

fn answered(call_id: Uuid, tenant_id: Uuid) -> GatewayEvent {
    GatewayEvent::CallAnswered {
        call_id,
        tenant_id,
        at: chrono::Utc::now(),
    }
}

fn hung_up(call_id: Uuid, tenant_id: Uuid) -> GatewayEvent {
    GatewayEvent::Hangup {
        call_id,
        tenant_id,
        cause: HangupCause::CallerBye,
        status: None,
        at: chrono::Utc::now(),
    }
}

#[tokio::test]
async fn progressive_campaign_offers_answered_calls_to_free_agents_only() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Agent Campaign Telecom").await;
    outbound_ready(&app, &a, &["+994125550100"]).await;
    let t = a.info.tenant.id;
    let queue = longest_idle_queue(&app, &a.admin, "Outbound").await;
    let script = hotline_wire::campaigns::parse_script(SCRIPT).unwrap();
    let mut body = json!({
        "name": "Tariff upsell", "kind": "agent", "caller_id": "+994125550100",
        "calling_hours": hours(), "timezone": "UTC", "script": script,
    });
    // No mode, no queue; a script whose branch loops back: each refused with its field.
    let mut looped = script.clone();
    looped[2].options[0].next = Some("interested".into());
    body["script"] = json!(looped);
    let p = problem(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&body)
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let mut fields = field_names(&p);
    fields.sort();
    assert_eq!(fields, ["dial_mode", "queue_id", "script"]);
    body["script"] = json!(script);
    body["dial_mode"] = json!("progressive");
    body["queue_id"] = json!(queue.id);
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&body)
            .send()
            .await,
    )
    .await;
    assert_eq!(c.input.script.len(), 4);
    let _: ContactsAdded = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&json!([
                { "phone": "+994505550101", "name": "Aysel" },
                { "phone": "+994505550102", "name": "Kamran" },
                { "phone": "+994505550103", "name": "Leyla" }
            ]))
            .send()
            .await,
    )
    .await;
    // Nobody to connect the calls to: it cannot start, and says why.
    let p = problem(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/start", c.id)))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["agents"]);

    let gw = stand_in_gateway(&app, "agentcamp").await;
    let (ua, ca) = a.user(&app, "anar@agentcamp.test", "Agent").await;
    let (ub, cb) = a.user(&app, "sabina@agentcamp.test", "Agent").await;
    for (u, cl) in [(&ua, &ca), (&ub, &cb)] {
        stand_in_softphone(&app, t, u.id, &gw).await;
        set_state(&app, cl, "ready").await;
    }
    start(&app, &a.admin, t, c.id).await;

    // Two free agents: two lines, and no more while they ring.
    tick(&app, t, c.id).await;
    let mut last = "0".to_string();
    let (leg1, n1) = originated(next_command(&app, &gw, &mut last).await);
    let (leg2, n2) = originated(next_command(&app, &gw, &mut last).await);
    assert_ne!(n1, n2);
    tick(&app, t, c.id).await;
    let ks = contacts(&app, &a.admin, c.id).await;
    assert_eq!(ks.iter().filter(|k| k.status == "dialing").count(), 2);
    assert_eq!(ks.iter().filter(|k| k.status == "pending").count(), 1);

    // The first answer is offered to a free agent; the customer hears music meanwhile.
    event(&app, &answered(leg1, t)).await;
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::MusicOnHold {
            call_id: leg1,
            prompt: "moh".into()
        }
    );
    let states = |app: &TestApp| {
        let s = app.state.clone();
        async move {
            hotline_backend::agents::agent_acd_states(&s, t)
                .await
                .unwrap()
        }
    };
    let st = states(&app).await;
    let (first, second, first_client, second_client) =
        if st.get(&ua.id).map(String::as_str) == Some("ringing") {
            (&ua, &ub, &ca, &cb)
        } else {
            (&ub, &ua, &cb, &ca)
        };
    acd_state(&app, t, first.id, "ringing").await;
    // The agent sees the contact and the script, and takes the call.
    let k1 = ks.iter().find(|k| k.phone == n1).unwrap().id;
    let seen: AgentCampaignContact = ok_json(
        first_client
            .get(app.url(&format!("/api/v1/agent/campaign-contacts/{k1}")))
            .send()
            .await,
    )
    .await;
    assert_eq!(seen.campaign_name, "Tariff upsell");
    assert_eq!(seen.script.len(), 4);
    problem(
        second_client
            .get(app.url(&format!("/api/v1/agent/campaign-contacts/{k1}")))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let r = first_client
        .post(app.url(&format!("/api/v1/agent/calls/{leg1}/accept")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    acd_state(&app, t, first.id, "on_call").await;
    // The keypad: keys go to the customer; nonsense and someone else's call are refused.
    let keys = |cl: &reqwest::Client, d: &str| {
        cl.post(app.url(&format!("/api/v1/agent/calls/{leg1}/dtmf")))
            .json(&json!({ "digits": d }))
            .send()
    };
    assert_eq!(keys(first_client, "12#").await.unwrap().status(), 204);
    problem(keys(first_client, "1x").await, 422, "validation_failed").await;
    problem(keys(second_client, "1").await, 409, "not_your_call").await;

    // The other agent steps away: the second answer finds nobody free.
    set_state(&app, second_client, "not_ready").await;
    event(&app, &answered(leg2, t)).await;
    let mut cmds = Vec::new();
    loop {
        let cmd = next_command(&app, &gw, &mut last).await;
        let done = matches!(&cmd, GatewayCommand::Play { call_id, .. } if *call_id == leg2);
        cmds.push(cmd);
        if done {
            break;
        }
    }
    assert!(
        cmds.contains(&GatewayCommand::SendDtmf {
            call_id: leg1,
            digits: "12#".into()
        }),
        "{cmds:?}"
    );
    assert_eq!(
        cmds.last().unwrap(),
        &GatewayCommand::Play {
            call_id: leg2,
            prompt: "goodbye".into(),
            interruptible: false
        },
        "the short message for nobody free: {cmds:?}"
    );
    assert_eq!(
        hotline_backend::agents::agent_acd_state(&app.state, t, first.id)
            .await
            .unwrap(),
        "on_call",
        "the busy agent was not offered a second call"
    );
    event(
        &app,
        &GatewayEvent::PlaybackFinished {
            call_id: leg2,
            tenant_id: t,
            prompt: "goodbye".into(),
            interrupted_by: None,
        },
    )
    .await;
    loop {
        if let GatewayCommand::Hangup { call_id, .. } = next_command(&app, &gw, &mut last).await {
            if call_id == leg2 {
                break;
            }
        }
    }
    event(&app, &hung_up(leg2, t)).await;
    contact_status(&app, &a.admin, c.id, &n2, "abandoned").await;
    // Its attempt log says so.
    let k2 = ks.iter().find(|k| k.phone == n2).unwrap().id;
    let log: Vec<hotline_wire::campaigns::AttemptDto> = ok_json(
        a.admin
            .get(app.url(&format!(
                "/api/v1/campaigns/{}/contacts/{k2}/attempts",
                c.id
            )))
            .send()
            .await,
    )
    .await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].call_id, leg2);
    assert_eq!(log[0].outcome.as_deref(), Some("abandoned"));
    assert!(log[0].answered_at.is_some() && log[0].agent_id.is_none());

    // Back and ready: the third contact is dialled for them, and offered to them only.
    set_state(&app, second_client, "ready").await;
    tick(&app, t, c.id).await;
    let (leg3, _) = loop {
        if let GatewayCommand::Originate {
            call_id, callee, ..
        } = next_command(&app, &gw, &mut last).await
        {
            break (call_id, callee);
        }
    };
    event(&app, &answered(leg3, t)).await;
    acd_state(&app, t, second.id, "ringing").await;
    assert_eq!(
        hotline_backend::agents::agent_acd_state(&app.state, t, first.id)
            .await
            .unwrap(),
        "on_call"
    );

    // The script's answers, checked against its branches, saved on the contact.
    let save = |answers: Value| {
        first_client
            .put(app.url(&format!("/api/v1/agent/campaign-contacts/{k1}/answers")))
            .json(&json!({ "answers": answers }))
            .send()
    };
    let p = problem(
        save(json!({ "interested": "yes", "why": "price" })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["answers"]);
    problem(
        save(json!({ "interested": "maybe" })).await,
        422,
        "validation_failed",
    )
    .await;
    let saved: AgentCampaignContact = ok_json(
        save(json!({ "interested": "yes", "plan": "plus", "notes": "call back in May" })).await,
    )
    .await;
    assert_eq!(saved.contact.answers["plan"], "plus");
    event(&app, &hung_up(leg1, t)).await;
    contact_status(&app, &a.admin, c.id, &n1, "answered").await;
    let k = contacts(&app, &a.admin, c.id)
        .await
        .into_iter()
        .find(|k| k.phone == n1)
        .unwrap();
    assert_eq!(k.agent_id, Some(first.id));
    assert_eq!(k.answers["notes"], "call back in May");
    let csv = a
        .admin
        .get(app.url(&format!("/api/v1/campaigns/{}/export", c.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("interested,why,plan,notes"),
        "{csv}"
    );
    assert!(csv.contains("yes,,plus,call back in May"), "{csv}");
    let results: hotline_wire::campaigns::CampaignResults = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{}/results", c.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(results.counts.answered, 1);
    assert_eq!(results.counts.abandoned, 1);
    assert_eq!(results.counts.dialing, 1);
    // Another tenant's agent cannot see the contact.
    let b = tenant(&app, "Agent Campaign Gas").await;
    let (_, other) = b.user(&app, "rauf@agentcamp-gas.test", "Agent").await;
    problem(
        other
            .get(app.url(&format!("/api/v1/agent/campaign-contacts/{k1}")))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let mut r = app.state.redis();
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}

#[tokio::test]
async fn preview_mode_gives_each_agent_their_own_contact_to_call_or_skip() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Preview Water").await;
    outbound_ready(&app, &a, &["+994125550100"]).await;
    let t = a.info.tenant.id;
    let queue = longest_idle_queue(&app, &a.admin, "Collections").await;
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&json!({
                "name": "Overdue bills", "kind": "agent", "dial_mode": "preview",
                "queue_id": queue.id, "caller_id": "+994125550100",
                "calling_hours": hours(), "timezone": "UTC",
                "script": hotline_wire::campaigns::parse_script("promise: Promised to pay? [yes | no]").unwrap(),
            }))
            .send()
            .await,
    )
    .await;
    let _: ContactsAdded = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&json!([
                { "phone": "+994505550201", "name": "Murad" },
                { "phone": "+994505550202", "name": "Gunel" }
            ]))
            .send()
            .await,
    )
    .await;
    // Elvin is ready on his desk phone (extension 2501, registered); Nargiz on her softphone.
    let gw = stand_in_gateway(&app, "preview").await;
    let role = a.role(&app, "Agent").await;
    let ua: hotline_wire::api::UserDto = created(
        a.admin
            .post(app.url("/api/v1/users"))
            .json(
                &json!({ "email": "elvin@preview.test", "name": "Elvin", "password": PASSWORD,
                           "role_id": role.id, "extension": "2501" }),
            )
            .send()
            .await,
    )
    .await;
    let ca = app.client();
    login(&app, &ca, a.slug(), "elvin@preview.test", PASSWORD).await;
    register_desk_phone(&app, t, "2501", &gw).await;
    let (ub, cb) = a.user(&app, "nargiz@preview.test", "Agent").await;
    stand_in_softphone(&app, t, ub.id, &gw).await;
    set_state(&app, &ca, "ready").await;
    set_state(&app, &cb, "ready").await;
    start(&app, &a.admin, t, c.id).await;
    let next = |cl: &reqwest::Client| cl.post(app.url("/api/v1/agent/preview/next")).send();
    let mine: Option<AgentCampaignContact> = ok_json(next(&ca).await).await;
    let mine = mine.expect("a contact for the first agent");
    let again: Option<AgentCampaignContact> = ok_json(next(&ca).await).await;
    assert_eq!(
        again.unwrap().contact.id,
        mine.contact.id,
        "the same one until dialled or skipped"
    );
    let theirs: Option<AgentCampaignContact> = ok_json(next(&cb).await).await;
    let theirs = theirs.expect("a contact for the second agent");
    assert_ne!(theirs.contact.id, mine.contact.id);
    // Not on anyone else's screen.
    problem(
        cb.get(app.url(&format!(
            "/api/v1/agent/campaign-contacts/{}",
            mine.contact.id
        )))
        .send()
        .await,
        404,
        "not_found",
    )
    .await;
    // Elvin's desk phone unregisters (REGISTER with Expires: 0: the gateway drops the
    // binding). Dialling needs a phone: refused until his softphone connects; then it dials
    // from the softphone's gateway.
    let _: () = app
        .state
        .redis()
        .del(wire::registration_key(t, "2501"))
        .await
        .unwrap();
    let dial = |cl: &reqwest::Client, id: Uuid| {
        cl.post(app.url(&format!("/api/v1/agent/preview/{id}/dial")))
            .send()
    };
    problem(dial(&ca, mine.contact.id).await, 409, "no_softphone").await;
    problem(dial(&ca, theirs.contact.id).await, 404, "not_found").await;
    stand_in_softphone(&app, t, ua.id, &gw).await;
    let started: hotline_wire::calls::CallbackStarted =
        created(dial(&ca, mine.contact.id).await).await;
    let mut last = "0".to_string();
    let (leg, callee) = originated(next_command(&app, &gw, &mut last).await);
    assert_eq!(leg, started.call_id);
    assert_eq!(callee, mine.contact.phone);
    // The second agent skips theirs: back in the list for later, nothing left for now.
    let r = cb
        .post(app.url(&format!("/api/v1/agent/preview/{}/skip", theirs.contact.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let none: Option<AgentCampaignContact> = ok_json(next(&cb).await).await;
    assert!(none.is_none());
    // Answered and bridged into the softphone; its end settles the attempt.
    event(&app, &answered(leg, t)).await;
    loop {
        if let GatewayCommand::Bridge { call_id, .. } = next_command(&app, &gw, &mut last).await {
            assert_eq!(call_id, leg);
            break;
        }
    }
    event(&app, &hung_up(leg, t)).await;
    contact_status(&app, &a.admin, c.id, &mine.contact.phone, "answered").await;
    contact_status(&app, &a.admin, c.id, &theirs.contact.phone, "pending").await;
    let mut r = app.state.redis();
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}

#[tokio::test]
async fn survey_asks_by_the_branches_of_the_keys_pressed_and_stores_them() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Survey Power").await;
    outbound_ready(&app, &a, &["+994125550100"]).await;
    let t = a.info.tenant.id;
    let questions =
        "satisfied: Satisfied with the repair? {digit-1} [1=Yes -> rate | 2=No -> why]\n\
                     why: What went wrong? {digit-2} [1=Late -> end | 2=Rude -> end]\n\
                     rate: Rate us 1 to 5 {digit-3} [1 | 2 | 3 | 4 | 5]";
    let mut body = json!({
        "name": "After repair", "kind": "survey", "caller_id": "+994125550100",
        "calling_hours": hours(), "timezone": "UTC",
        "script": hotline_wire::campaigns::parse_script("q: no prompt [1 | 2]").unwrap(),
    });
    let p = problem(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&body)
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["script"]);
    body["script"] = json!(hotline_wire::campaigns::parse_script(questions).unwrap());
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&body)
            .send()
            .await,
    )
    .await;
    let _: ContactsAdded = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&json!([{ "phone": "+994505550301", "name": "Orkhan" }]))
            .send()
            .await,
    )
    .await;
    let gw = stand_in_gateway(&app, "survey").await;
    start(&app, &a.admin, t, c.id).await;
    tick(&app, t, c.id).await;
    let mut last = "0".to_string();
    let (leg, _) = originated(next_command(&app, &gw, &mut last).await);
    event(&app, &answered(leg, t)).await;
    let asks = |cmd: GatewayCommand| match cmd {
        GatewayCommand::CollectDigits { prompt, max, .. } => {
            assert_eq!(max, 1);
            prompt.unwrap()
        }
        other => panic!("expected a question, got {other:?}"),
    };
    assert_eq!(asks(next_command(&app, &gw, &mut last).await), "digit-1");
    let keys = |d: &str| GatewayEvent::DigitsCollected {
        call_id: leg,
        tenant_id: t,
        digits: d.into(),
        end: wire::CollectEnd::Max,
    };
    // 9 is no answer: the question is asked again.
    event(&app, &keys("9")).await;
    assert_eq!(asks(next_command(&app, &gw, &mut last).await), "digit-1");
    event(&app, &keys("1")).await;
    // "Yes" skips "why" and goes on to the rating.
    assert_eq!(asks(next_command(&app, &gw, &mut last).await), "digit-3");
    event(&app, &keys("4")).await;
    assert!(matches!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Play { prompt, .. } if prompt == "goodbye"
    ));
    event(
        &app,
        &GatewayEvent::PlaybackFinished {
            call_id: leg,
            tenant_id: t,
            prompt: "goodbye".into(),
            interrupted_by: None,
        },
    )
    .await;
    assert!(matches!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Hangup { call_id, .. } if call_id == leg
    ));
    event(&app, &hung_up(leg, t)).await;
    contact_status(&app, &a.admin, c.id, "+994505550301", "completed").await;
    let k = contacts(&app, &a.admin, c.id).await.remove(0);
    // The results count the answers per question and option (telepolling).
    let res: hotline_wire::campaigns::CampaignResults = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{}/results", c.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(res.answers.len(), 3);
    assert_eq!(res.answers[0].answered, 1);
    assert_eq!(res.answers[0].options[0], ("1".into(), "Yes".into(), 1));
    assert_eq!(res.answers[0].options[1].2, 0);
    assert_eq!(
        res.answers[1].answered, 0,
        "\"why\" was skipped by the branch"
    );
    assert_eq!(res.answers[2].options[3], ("4".into(), "4".into(), 1));
    assert_eq!(k.answers.len(), 2);
    assert_eq!(k.answers["satisfied"], "1");
    assert_eq!(k.answers["rate"], "4");
    let mut r = app.state.redis();
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}

/// Answering machines: with detection on, an answered call is first listened to; a machine
/// gets the message once its greeting is over (`leave_message`) or is hung up on
/// (`hang_up`), a person hears the message with its confirmation question at once.
#[tokio::test]
async fn answering_machines_get_the_message_after_their_greeting_or_a_hang_up() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Machine Water").await;
    outbound_ready(&app, &a, &["+994125550100"]).await;
    let t = a.info.tenant.id;
    let gw = stand_in_gateway(&app, "amd").await;
    let mut last = "0".to_string();
    for (action, phones) in [
        ("leave_message", ["+994505550401", "+994505550402"]),
        ("hang_up", ["+994505550403", "+994505550404"]),
    ] {
        let c: CampaignDto = created(
            a.admin
                .post(app.url("/api/v1/campaigns"))
                .json(&json!({
                    "name": format!("Outage {action}"), "kind": "message", "prompt": "greeting",
                    "confirm_digit": "1", "machine_action": action, "caller_id": "+994125550100",
                    "calling_hours": hours(), "timezone": "UTC", "max_lines": 2,
                }))
                .send()
                .await,
        )
        .await;
        let _: ContactsAdded = ok_json(
            a.admin
                .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
                .json(&json!(phones
                    .iter()
                    .map(|p| json!({ "phone": p }))
                    .collect::<Vec<_>>()))
                .send()
                .await,
        )
        .await;
        start(&app, &a.admin, t, c.id).await;
        tick(&app, t, c.id).await;
        let mut legs = std::collections::HashMap::new();
        for _ in 0..2 {
            let (leg, callee) = originated(next_command(&app, &gw, &mut last).await);
            legs.insert(callee, leg);
        }
        let (machine, person) = (legs[phones[0]], legs[phones[1]]);
        for leg in [machine, person] {
            event(&app, &answered(leg, t)).await;
            assert_eq!(
                next_command(&app, &gw, &mut last).await,
                GatewayCommand::DetectMachine {
                    call_id: leg,
                    timeout_ms: 6_000
                },
                "listen first, play nothing"
            );
        }
        let detected = |leg: Uuid, result: wire::AmdResult| GatewayEvent::MachineDetected {
            call_id: leg,
            tenant_id: t,
            result,
            beep: result == wire::AmdResult::Machine,
            speech_ms: 4_000,
            elapsed_ms: 6_000,
        };
        event(&app, &detected(machine, wire::AmdResult::Machine)).await;
        let expected = if action == "leave_message" {
            // The message alone: a machine cannot press 1.
            GatewayCommand::Play {
                call_id: machine,
                prompt: "greeting".into(),
                interruptible: false,
            }
        } else {
            GatewayCommand::Hangup {
                call_id: machine,
                status: None,
            }
        };
        assert_eq!(next_command(&app, &gw, &mut last).await, expected);
        event(&app, &detected(person, wire::AmdResult::Human)).await;
        assert!(matches!(
            next_command(&app, &gw, &mut last).await,
            GatewayCommand::CollectDigits { call_id, prompt: Some(p), .. } if call_id == person && p == "greeting"
        ));
        event(&app, &hung_up(machine, t)).await;
        contact_status(&app, &a.admin, c.id, phones[0], "machine").await;
        event(&app, &hung_up(person, t)).await;
        contact_status(&app, &a.admin, c.id, phones[1], "not_confirmed").await;
    }
    let mut r = app.state.redis();
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}

/// Contacts chosen by a CRM search: free text and exact field values; each customer's
/// labelled number (else their first); customers without a number reported.
#[tokio::test]
async fn contacts_can_be_chosen_by_a_crm_search() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Selection Gas").await;
    outbound_ready(&app, &a, &["+994125550100"]).await;
    let _: Value = created(
        a.admin
            .post(app.url("/api/v1/customer-fields"))
            .json(
                &json!({ "key": "district", "label": "District", "kind": "choice",
                           "options": ["Nasimi", "Sabail"], "position": 1 }),
            )
            .send()
            .await,
    )
    .await;
    for (name, district, phones) in [
        (
            "Elvin Nasimi",
            "Nasimi",
            json!([{ "number": "+994125550501", "label": "home" },
                                          { "number": "+994505550501", "label": "mobile" }]),
        ),
        ("Aygun Nasimi", "Nasimi", json!([])),
        (
            "Tural Sabail",
            "Sabail",
            json!([{ "number": "+994125550503", "label": "home" }]),
        ),
    ] {
        let _: Value = created(
            a.admin
                .post(app.url("/api/v1/customers"))
                .json(
                    &json!({ "name": name, "phones": phones, "fields": { "district": district } }),
                )
                .send()
                .await,
        )
        .await;
    }
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(
                &json!({ "name": "Gas check Nasimi", "kind": "message", "prompt": "greeting",
                           "caller_id": "+994125550100", "calling_hours": hours() }),
            )
            .send()
            .await,
    )
    .await;
    let add = |body: Value| {
        a.admin
            .post(app.url(&format!(
                "/api/v1/campaigns/{}/contacts/from-customers",
                c.id
            )))
            .json(&body)
            .send()
    };
    problem(add(json!({})).await, 422, "validation_failed").await;
    let p = problem(
        add(json!({ "fields": { "shoe_size": "42" } })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["fields"]);
    let out: ContactsAdded =
        ok_json(add(json!({ "fields": { "district": "nasimi" }, "phone_label": "mobile" })).await)
            .await;
    assert_eq!(out.added, 1, "{out:?}");
    assert_eq!(out.errors.len(), 1, "{out:?}");
    assert!(out.errors[0].message.contains("Aygun Nasimi"), "{out:?}");
    let ks = contacts(&app, &a.admin, c.id).await;
    assert_eq!(ks.len(), 1);
    assert_eq!(
        (ks[0].phone.as_str(), ks[0].name.as_str()),
        ("+994505550501", "Elvin Nasimi")
    );
    assert!(ks[0].customer_id.is_some());
    // Free text too; the same customer twice is a duplicate, not a second contact.
    let out: ContactsAdded =
        ok_json(add(json!({ "q": "elvin", "phone_label": "mobile" })).await).await;
    assert_eq!((out.added, out.duplicates), (0, 1), "{out:?}");
    let out: ContactsAdded = ok_json(add(json!({ "q": "sabail" })).await).await;
    assert_eq!(out.added, 1, "{out:?}");
    // Another tenant's campaign is out of reach.
    let b = tenant(&app, "Selection Power").await;
    problem(
        b.admin
            .post(app.url(&format!(
                "/api/v1/campaigns/{}/contacts/from-customers",
                c.id
            )))
            .json(&json!({ "q": "elvin" }))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
}

/// A campaign working the missed-calls list: open entries become contacts, an answered call
/// marks its entry handled, an entry called back another way is set aside, a number that
/// misses again is called again; the campaign runs on with nothing left.
#[tokio::test]
async fn a_campaign_works_the_missed_calls_list() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Missed Water").await;
    outbound_ready(&app, &a, &["+994125550100"]).await;
    let t = a.info.tenant.id;
    let schema = hotline_backend::db::schema_name(t);
    let sql = |q: String| {
        let (db, schema) = (app.state.db.clone(), schema.clone());
        async move {
            let mut tx = hotline_backend::db::begin_in_schema(&db, &schema)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(q))
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    };
    for n in ["+994505550601", "+994505550602"] {
        sql(format!(
            "INSERT INTO missed_calls (number, did, reason) VALUES ('{n}', '+994125550100', 'abandoned')"
        ))
        .await;
    }
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(
                &json!({ "name": "Call back the missed", "kind": "message", "prompt": "greeting",
                           "caller_id": "+994125550100", "calling_hours": hours(),
                           "work_missed_calls": true, "max_lines": 1 }),
            )
            .send()
            .await,
    )
    .await;
    assert!(c.input.work_missed_calls);
    let gw = stand_in_gateway(&app, "missed").await;
    // No contacts of its own: it may start, the list is its source.
    start(&app, &a.admin, t, c.id).await;
    tick(&app, t, c.id).await;
    let mut last = "0".to_string();
    let (leg, first) = originated(next_command(&app, &gw, &mut last).await);
    // Meanwhile an agent calls the other number back by hand.
    let other = if first == "+994505550601" {
        "+994505550602"
    } else {
        "+994505550601"
    };
    sql(format!(
        "UPDATE missed_calls SET handled_at = now() WHERE number = '{other}'"
    ))
    .await;
    event(&app, &answered(leg, t)).await;
    let _ = next_command(&app, &gw, &mut last).await; // the message
    event(&app, &hung_up(leg, t)).await;
    contact_status(&app, &a.admin, c.id, &first, "answered").await;
    tick(&app, t, c.id).await;
    contact_status(&app, &a.admin, c.id, other, "handled").await;
    let open: i64 = {
        let mut tx = hotline_backend::db::begin_in_schema(&app.state.db, &schema)
            .await
            .unwrap();
        let n = sqlx::query_scalar("SELECT count(*) FROM missed_calls WHERE handled_at IS NULL")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        n
    };
    assert_eq!(open, 0, "the answered callback handled its missed call");
    let now: CampaignDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{}", c.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(now.status, "running", "waits for the next missed call");
    assert_eq!(now.counts.handled, 1);
    // The same number misses again: called again.
    sql(format!(
        "INSERT INTO missed_calls (number, did, reason) VALUES ('{first}', '+994125550100', 'abandoned')"
    ))
    .await;
    tick(&app, t, c.id).await;
    let (_, again) = originated(next_command(&app, &gw, &mut last).await);
    assert_eq!(again, first);
    let mut r = app.state.redis();
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}

/// Predictive mode dials ahead of the free agents by the pacer's aggressiveness (kept in
/// Redis between ticks), and an answered call that finds nobody free makes the pacer back off.
#[tokio::test]
async fn predictive_mode_dials_ahead_and_backs_off_after_an_abandon() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Predictive Telecom").await;
    outbound_ready(&app, &a, &["+994125550100"]).await;
    let t = a.info.tenant.id;
    let queue = longest_idle_queue(&app, &a.admin, "Dial ahead").await;
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&json!({
                "name": "Renewals", "kind": "agent", "dial_mode": "predictive",
                "queue_id": queue.id, "caller_id": "+994125550100", "max_lines": 6,
                "calling_hours": hours(), "timezone": "UTC",
            }))
            .send()
            .await,
    )
    .await;
    let phones: Vec<Value> = (0..8)
        .map(|i| json!({ "phone": format!("+99450555070{i}") }))
        .collect();
    let _: ContactsAdded = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&phones)
            .send()
            .await,
    )
    .await;
    let gw = stand_in_gateway(&app, "predictive").await;
    let (ua, ca) = a.user(&app, "lale@predictive.test", "Agent").await;
    stand_in_softphone(&app, t, ua.id, &gw).await;
    set_state(&app, &ca, "ready").await;
    start(&app, &a.admin, t, c.id).await;
    // A confident pacer: one idle agent, an assumed 50 % answer rate, aggressiveness 2 →
    // ⌊2 · 1 / 0.5⌋ = 4 lines (progressive would place 1).
    let key = format!("{{t:{t}}}:campaign:{}:pacer", c.id);
    let mut pacer = hotline_dialer::Pacer::new(0.03);
    pacer.aggressiveness = 2.0;
    let mut r = app.state.redis();
    let _: () = r
        .set(&key, serde_json::to_string(&pacer).unwrap())
        .await
        .unwrap();
    tick(&app, t, c.id).await;
    let mut last = "0".to_string();
    let mut legs = vec![];
    for _ in 0..4 {
        legs.push(originated(next_command(&app, &gw, &mut last).await).0);
    }
    let ks = contacts(&app, &a.admin, c.id).await;
    assert_eq!(ks.iter().filter(|k| k.status == "dialing").count(), 4);
    // Two answer: the first reaches the agent, the second finds nobody free.
    event(&app, &answered(legs[0], t)).await;
    acd_state(&app, t, ua.id, "ringing").await;
    event(&app, &answered(legs[1], t)).await;
    loop {
        if let GatewayCommand::Play { call_id, .. } = next_command(&app, &gw, &mut last).await {
            if call_id == legs[1] {
                break;
            }
        }
    }
    let mut backed_off = false;
    for _ in 0..50 {
        let raw: String = r.get(&key).await.unwrap();
        let p: hotline_dialer::Pacer = serde_json::from_str(&raw).unwrap();
        if p.aggressiveness < 2.0 {
            backed_off = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(backed_off, "the abandon made the pacer back off");
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}
