//! Outbound abuse on the shared trunk, played as a fresh trial tenant: a campaign showing a
//! number it does not own is refused, premium and foreign numbers are never dialled (the
//! contact says why), the trial's two lines hold the rest back with a visible reason, a
//! click-to-call to a premium number is a 422; the operator lifts the trial and widens the
//! countries, the tenant can only narrow them; a DID moved to another tenant stops the
//! campaign's calls with a clear status.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    api::Page,
    campaigns::{CampaignDto, ContactDto, ContactsAdded, OutboundRulesDto},
    gateway::{self as wire, GatewayCommand},
};
use redis::AsyncCommands;
use serde_json::{json, Value};

const OWN_DID: &str = "+994125550161";

fn campaign(caller_id: &str) -> Value {
    let day = json!(["00:00", "23:59"]);
    json!({
        "name": "Prize draw", "kind": "message", "caller_id": caller_id, "prompt": "greeting",
        "calling_hours": [day, day, day, day, day, day, day], "timezone": "UTC", "max_lines": 50
    })
}

async fn contacts(app: &TestApp, a: &Tenant, id: uuid::Uuid) -> Vec<ContactDto> {
    let page: Page<ContactDto> = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{id}/contacts")))
            .send()
            .await,
    )
    .await;
    page.items
}

async fn running(app: &TestApp, tenant: uuid::Uuid, id: uuid::Uuid) {
    let schema = hotline_backend::db::schema_name(tenant);
    let mut tx = hotline_backend::db::begin_in_schema(&app.state.db, &schema)
        .await
        .unwrap();
    sqlx::query("UPDATE campaigns SET status = 'running' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_trial_tenant_cannot_spoof_caller_id_call_premium_numbers_or_flood_the_trunk() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Abuse Trial").await;
    let t = a.info.tenant.id;
    // What a sign-up gets: one number of its own (assigned by the operator), its country.
    own_number_and_country(&app, &a, OWN_DID).await;
    // Its administrator followed the e-mailed verification link (`outbound_verify.rs` plays
    // that part): only the trial's limits are left.
    sqlx::query("UPDATE platform.tenants SET email_verified_at = now() WHERE id = $1")
        .bind(t)
        .execute(&app.state.db)
        .await
        .unwrap();
    let rules: OutboundRulesDto =
        ok_json(a.admin.get(app.url("/api/v1/outbound-rules")).send().await).await;
    assert!(rules.trial, "a sign-up is a trial");
    assert_eq!(rules.countries, ["994"]);
    assert_eq!(rules.caller_ids, [OWN_DID]);
    assert!(rules.blocked_prefixes.iter().any(|p| p == "+994900"));

    // Spoofed caller ID: refused at save, naming the field.
    let p = problem(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&campaign("+994125550100"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["caller_id"]);
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&campaign(OWN_DID))
            .send()
            .await,
    )
    .await;
    let mut spoofed = campaign("+994125550100");
    spoofed["name"] = json!("Prize draw");
    let p = problem(
        a.admin
            .put(app.url(&format!("/api/v1/campaigns/{}", c.id)))
            .json(&spoofed)
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["caller_id"]);

    let premium = ["+994900123456", "+88216123456", "+979123456789"];
    let foreign = "+15550001001";
    let local = ["+994505550161", "+994505550162", "+994505550163"];
    let mut list: Vec<Value> = premium
        .iter()
        .chain(local.iter())
        .chain(std::iter::once(&foreign))
        .map(|p| json!({ "phone": p }))
        .collect();
    list.reverse();
    let _: ContactsAdded = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&list)
            .send()
            .await,
    )
    .await;
    running(&app, t, c.id).await;
    let gw = stand_in_gateway(&app, "abuse").await;
    let mut r = app.state.redis();
    let _: () = r
        .hset(wire::gateway_key(&gw), "trunk", "true")
        .await
        .unwrap();
    hotline_backend::campaigns::tick(&app.state, t, c.id, chrono::Utc::now())
        .await
        .unwrap();

    // Two calls placed (the trial's lines), both to local numbers, showing its own number.
    let mut last = "0".to_string();
    let mut dialled = Vec::new();
    for _ in 0..2 {
        match next_command(&app, &gw, &mut last).await {
            GatewayCommand::Originate { caller, callee, .. } => {
                assert_eq!(caller, OWN_DID);
                dialled.push(callee);
            }
            other => panic!("expected originate, got {other:?}"),
        }
    }
    assert!(
        dialled.iter().all(|d| local.contains(&d.as_str())),
        "{dialled:?}"
    );
    let sent: usize = r.xlen(wire::command_stream(&gw)).await.unwrap();
    assert_eq!(sent, 2, "a trial tenant placed more than two calls at once");

    let ks = contacts(&app, &a, c.id).await;
    let by = |p: &str| ks.iter().find(|k| k.phone == p).unwrap().clone();
    for p in premium.iter().chain(std::iter::once(&foreign)) {
        let k = by(p);
        assert_eq!(k.status, "failed", "{p}");
        assert_eq!(
            k.last_outcome.as_deref(),
            Some("destination_not_allowed"),
            "{p}"
        );
    }
    let pending: Vec<_> = local
        .iter()
        .map(|p| by(p))
        .filter(|k| k.status == "pending")
        .collect();
    assert_eq!(pending.len(), 1, "the third local contact waits: {ks:?}");
    // The campaign says why it waits.
    let seen: CampaignDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{}", c.id)))
            .send()
            .await,
    )
    .await;
    let hold = seen.dial_hold.unwrap_or_default();
    assert!(hold.starts_with("trial_limit"), "{hold:?}");
    assert_eq!(
        seen.counts.dialled, 2,
        "refused contacts are not counted as dialled"
    );

    // Click-to-call: a premium number is a 422 naming it; nothing dialled.
    let (agent, ac) = a.user(&app, "agent@abuse.test", "Agent").await;
    stand_in_softphone(&app, t, agent.id, &gw).await;
    let p = problem(
        ac.post(app.url("/api/v1/click-to-call"))
            .json(&json!({ "number": "+994900123456" }))
            .send()
            .await,
        422,
        "destination_not_allowed",
    )
    .await;
    assert_eq!(field_names(&p), ["number"]);
    // A local number: still the trial's two lines, both busy.
    problem(
        ac.post(app.url("/api/v1/click-to-call"))
            .json(&json!({ "number": "+994505550169" }))
            .send()
            .await,
        422,
        "trial_limit",
    )
    .await;
    let sent: usize = r.xlen(wire::command_stream(&gw)).await.unwrap();
    assert_eq!(sent, 2);

    // The tenant cannot widen its own rules, nor reach the operator's route.
    let p = problem(
        a.admin
            .put(app.url("/api/v1/outbound-rules"))
            .json(&json!({ "countries": ["994", "1"] }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["countries.1"]);
    let op_url = app.url(&format!("/api/v1/platform/tenants/{t}/outbound-calls"));
    let r2 = a
        .admin
        .put(&op_url)
        .json(&json!({ "trial": false, "countries": ["994", "1"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r2.status(), 401);

    // The operator lifts the trial and allows +1: the foreign contact would be callable now;
    // premium stays refused whatever the operator allows.
    hotline_backend::seed::demo(&app.state).await.unwrap();
    let op = app.client();
    let login = op
        .post(app.url("/api/v1/platform/login"))
        .json(&json!({ "email": hotline_backend::seed::OPERATOR_EMAIL, "password": hotline_backend::seed::DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    problem(
        op.put(&op_url)
            .json(&json!({ "trial": false, "countries": ["1", "abc"], "blocked_prefixes": ["99"] }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let (status, _) = json_of(
        op.put(&op_url)
            .json(&json!({ "trial": false, "countries": ["994", "1"], "max_calls": 3 }))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let rules: OutboundRulesDto =
        ok_json(a.admin.get(app.url("/api/v1/outbound-rules")).send().await).await;
    assert!(!rules.trial);
    assert_eq!(rules.countries, ["994", "1"]);
    assert_eq!(rules.max_calls, 3);
    // The tenant narrows back to its own country.
    let rules: OutboundRulesDto = ok_json(
        a.admin
            .put(app.url("/api/v1/outbound-rules"))
            .json(&json!({ "countries": ["994"], "blocked_prefixes": ["+99450555016"] }))
            .send()
            .await,
    )
    .await;
    assert_eq!(rules.countries, ["994"]);

    // The pending contact is on the tenant's own blocked prefix now: refused with the reason.
    hotline_backend::campaigns::tick(&app.state, t, c.id, chrono::Utc::now())
        .await
        .unwrap();
    let ks = contacts(&app, &a, c.id).await;
    let k = ks.iter().find(|k| k.phone == pending[0].phone).unwrap();
    assert_eq!(k.status, "failed");
    assert_eq!(k.last_outcome.as_deref(), Some("destination_not_allowed"));

    // The DID moves to another tenant: the next contact is not dialled showing it.
    let b = tenant(&app, "Abuse Other").await;
    let _: ContactsAdded = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&json!([{ "phone": "+994505550170" }]))
            .send()
            .await,
    )
    .await;
    sqlx::query("UPDATE platform.dids SET tenant_id = $2 WHERE did = $1")
        .bind(OWN_DID)
        .bind(b.info.tenant.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    hotline_backend::campaigns::tick(&app.state, t, c.id, chrono::Utc::now())
        .await
        .unwrap();
    let ks = contacts(&app, &a, c.id).await;
    let k = ks.iter().find(|k| k.phone == "+994505550170").unwrap();
    assert_eq!(k.status, "failed");
    assert_eq!(k.last_outcome.as_deref(), Some("caller_id_not_owned"));
    let sent: usize = r.xlen(wire::command_stream(&gw)).await.unwrap();
    assert_eq!(sent, 2, "a call was placed after it was refused");
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}

/// Redis's clock, in seconds (what the calls-per-second counters count by).
async fn redis_second(r: &mut redis::aio::ConnectionManager) -> i64 {
    let (sec, _): (i64, i64) = redis::cmd("TIME").query_async(r).await.unwrap();
    sec
}

/// Calls per second: the operator sets a tenant's limit (the gateways get it from Redis); a
/// click-to-call over this second's calls is a 422 `outbound_rate_limit`; the campaign dialer
/// places only this second's share and keeps the other contacts pending, saying why, without
/// spending their attempts; a gateway's refusal of a call over the limits puts its contact
/// back the same way.
#[tokio::test]
async fn calls_per_second_hold_calls_back_without_burning_contacts() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Rate Co").await;
    let t = a.info.tenant.id;
    outbound_ready(&app, &a, &[OWN_DID]).await;
    let op = operator(&app).await;
    let url = app.url(&format!("/api/v1/platform/tenants/{t}/outbound-calls"));
    let p = problem(
        op.put(&url)
            .json(&json!({ "trial": false, "countries": ["994"], "max_cps": 0 }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["max_cps"]);
    let (status, body) = json_of(
        op.put(&url)
            .json(&json!({ "trial": false, "countries": ["994"], "max_calls": 50, "max_cps": 2 }))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["max_cps"], 2);
    let (_, got) = json_of(op.get(&url).send().await).await;
    assert_eq!(
        (got["max_cps"].clone(), got["max_calls"].clone()),
        (json!(2), json!(50))
    );
    // What every gateway enforces.
    let mut r = app.state.redis();
    let limits: std::collections::HashMap<String, i64> =
        r.hgetall(wire::outbound_limits_key(t)).await.unwrap();
    assert_eq!(limits["max_calls"], 50);
    assert_eq!(limits["cps"], 2);
    let rules: OutboundRulesDto =
        ok_json(a.admin.get(app.url("/api/v1/outbound-rules")).send().await).await;
    assert_eq!(rules.calls_per_second, 2);

    // Click-to-call when this second's two calls are used (by another backend, say).
    let gw = stand_in_gateway(&app, "rate").await;
    let _: () = r
        .hset(wire::gateway_key(&gw), "trunk", "true")
        .await
        .unwrap();
    let (agent, ac) = a.user(&app, "agent@rate.test", "Agent").await;
    stand_in_softphone(&app, t, agent.id, &gw).await;
    let key = hotline_backend::dial_policy::rate_key(t);
    let mut judged = false;
    for _ in 0..20 {
        let before = redis_second(&mut r).await;
        let _: () = r
            .hset_multiple(&key, &[("sec", before), ("n", 2)])
            .await
            .unwrap();
        let resp = ac
            .post(app.url("/api/v1/click-to-call"))
            .json(&json!({ "number": "+994505550180" }))
            .send()
            .await
            .unwrap();
        if redis_second(&mut r).await == before {
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            assert_eq!(status, 422, "{body}");
            assert_eq!(body["code"], "outbound_rate_limit", "{body}");
            judged = true;
            break;
        }
        // The second rolled over and the call was placed: the agent is free again for the
        // next try (their callback marker gone), or the retry would be 409 `agent_busy`.
        let placing = hotline_backend::call_control::placing_key(t, agent.id);
        let _: () = r.del(placing).await.unwrap();
    }
    assert!(judged, "never judged within one second");
    let _: () = r.del(&key).await.unwrap();
    let _: () = r.del(wire::command_stream(&gw)).await.unwrap();

    // A campaign of five: one tick places two (this second's share), three wait.
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&campaign(OWN_DID))
            .send()
            .await,
    )
    .await;
    let list: Vec<Value> = (1..=5)
        .map(|i| json!({ "phone": format!("+99450555019{i}") }))
        .collect();
    let _: ContactsAdded = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&list)
            .send()
            .await,
    )
    .await;
    running(&app, t, c.id).await;
    hotline_backend::campaigns::tick(&app.state, t, c.id, chrono::Utc::now())
        .await
        .unwrap();
    let mut last = "0".to_string();
    let mut legs = Vec::new();
    for _ in 0..2 {
        match next_command(&app, &gw, &mut last).await {
            GatewayCommand::Originate { call_id, .. } => legs.push(call_id),
            other => panic!("expected originate, got {other:?}"),
        }
    }
    let sent: usize = r.xlen(wire::command_stream(&gw)).await.unwrap();
    assert_eq!(sent, 2, "more than this second's calls were placed");
    let ks = contacts(&app, &a, c.id).await;
    let waiting: Vec<_> = ks.iter().filter(|k| k.status == "pending").collect();
    assert_eq!(waiting.len(), 3, "{ks:?}");
    assert!(waiting.iter().all(|k| k.attempts == 0), "{ks:?}");
    let seen: CampaignDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{}", c.id)))
            .send()
            .await,
    )
    .await;
    let hold = seen.dial_hold.unwrap_or_default();
    assert!(hold.starts_with("outbound_rate_limit"), "{hold:?}");

    // A gateway refuses one of them (the tenant's calls at once, counted across gateways):
    // the contact waits again, its attempt not spent, and is not counted as dialled.
    event(
        &app,
        &wire::GatewayEvent::Hangup {
            call_id: legs[0],
            tenant_id: t,
            cause: wire::HangupCause::OutboundLimit,
            status: Some(503),
            at: chrono::Utc::now(),
        },
    )
    .await;
    let mut back = None;
    for _ in 0..100 {
        let ks = contacts(&app, &a, c.id).await;
        if let Some(k) = ks
            .iter()
            .find(|k| k.last_outcome.as_deref() == Some("outbound_limit"))
        {
            back = Some(k.clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let k = back.expect("the refused contact is back");
    assert_eq!((k.status.as_str(), k.attempts), ("pending", 0));
    let seen: CampaignDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{}", c.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(seen.counts.dialled, 1, "the refused call counts as dialled");
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}

/// A click-to-call the gateway refuses for the tenant's limits (whatever the backend
/// judged): the agent's desktop is told the call ended and why — not a silent drop.
#[tokio::test]
async fn a_click_to_call_refused_by_the_gateway_says_why_on_the_desktop() {
    use futures::StreamExt;
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Refused Desk").await;
    let t = a.info.tenant.id;
    outbound_ready(&app, &a, &[OWN_DID]).await;
    let gw = stand_in_gateway(&app, "refuse").await;
    let mut r = app.state.redis();
    let _: () = r
        .hset(wire::gateway_key(&gw), "trunk", "true")
        .await
        .unwrap();
    let (agent, ac) = a.user(&app, "agent@refused.test", "Agent").await;
    stand_in_softphone(&app, t, agent.id, &gw).await;
    let mut ws = desktop_socket(&app, a.slug(), "agent@refused.test").await;
    let started: hotline_wire::calls::CallbackStarted = created(
        ac.post(app.url("/api/v1/click-to-call"))
            .json(&json!({ "number": "+994505550190" }))
            .send()
            .await,
    )
    .await;
    let mut last = "0".to_string();
    let leg = match next_command(&app, &gw, &mut last).await {
        GatewayCommand::Originate { call_id, .. } => call_id,
        other => panic!("expected originate, got {other:?}"),
    };
    assert_eq!(leg, started.call_id);
    event(
        &app,
        &wire::GatewayEvent::Hangup {
            call_id: leg,
            tenant_id: t,
            cause: wire::HangupCause::OutboundRateLimit,
            status: Some(503),
            at: chrono::Utc::now(),
        },
    )
    .await;
    let mut seen = Vec::new();
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("an agent event within 10 s")
            .unwrap()
            .unwrap();
        let tokio_tungstenite::tungstenite::Message::Text(text) = msg else {
            continue;
        };
        let ev: hotline_wire::calls::AgentEvent = serde_json::from_str(&text).unwrap();
        seen.push(ev.clone());
        if let hotline_wire::calls::AgentEvent::OfferWithdrawn { call_id, reason } = ev {
            assert_eq!((call_id, reason.as_str()), (leg, "outbound_rate_limit"));
            break;
        }
    }
    assert!(
        seen.iter().any(
            |e| matches!(e, hotline_wire::calls::AgentEvent::Ended { call_id } if *call_id == leg)
        ),
        "{seen:?}"
    );
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}

/// The outbound rules' decision for one call now (without spending a calls-per-second token,
/// so the test can ask as often as it likes).
async fn judge(
    app: &TestApp,
    tenant: uuid::Uuid,
    number: &str,
) -> Result<(), hotline_backend::dial_policy::Refusal> {
    use hotline_backend::{db, dial_policy};
    let mut tx = db::begin_in_schema(&app.state.db, &db::schema_name(tenant))
        .await
        .unwrap();
    let r = dial_policy::rules(&mut tx, tenant).await.unwrap();
    let u = dial_policy::usage(&mut tx).await.unwrap();
    tx.rollback().await.unwrap();
    r.judge(None, number, &u)
}

/// A trial's outbound minutes a day, counted from the tenant's own CDRs: answered outbound
/// legs of today (one still in progress counts up to now). Used up, every outbound call is
/// refused with `trial_limit` (and says so); yesterday's calls and unanswered legs do not
/// count; lifting the trial lifts the limit.
#[tokio::test]
async fn a_trial_tenant_has_outbound_minutes_a_day() {
    use hotline_backend::dial_policy::{check, TRIAL_MINUTES_PER_DAY};
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Minutes Water").await;
    let t = a.info.tenant.id;
    sqlx::query(
        "UPDATE platform.tenants SET outbound_countries = '{994}', email_verified_at = now()
          WHERE id = $1",
    )
    .bind(t)
    .execute(&app.state.db)
    .await
    .unwrap();
    let number = "+994505550177";
    assert!(judge(&app, t, number).await.is_ok());
    let schema = hotline_backend::db::schema_name(t);
    let leg = |answered_mins_ago: i64, ended: bool, yesterday: bool| {
        let (state, schema) = (app.state.clone(), schema.clone());
        async move {
            let day = if yesterday { "- interval '1 day'" } else { "" };
            let ended = if ended { "now()" } else { "NULL" };
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {schema}.cdrs (call_id, direction, callee, arrived_at, answered_at, ended_at)
                 VALUES ($1, 'outbound', '+994505550100',
                         greatest(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                                  now() - make_interval(mins => $2::int) - interval '5 seconds') {day},
                         greatest(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                                  now() - make_interval(mins => $2::int)) {day},
                         {ended})"
            )))
            .bind(uuid::Uuid::new_v4())
            .bind(answered_mins_ago as i32)
            .execute(&state.db)
            .await
            .unwrap();
        }
    };
    // Yesterday's long call and a leg nobody answered do not count.
    leg(300, true, true).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {schema}.cdrs (call_id, direction, callee, arrived_at, ended_at)
         VALUES ($1, 'outbound', '+994505550100', now() - interval '2 minutes', now())"
    )))
    .bind(uuid::Uuid::new_v4())
    .execute(&app.state.db)
    .await
    .unwrap();
    assert!(judge(&app, t, number).await.is_ok());
    // Today: one ended call of 10 minutes, then one still in progress for the rest.
    leg(10, true, false).await;
    assert!(judge(&app, t, number).await.is_ok());
    leg(TRIAL_MINUTES_PER_DAY - 10 + 1, false, false).await;
    let refusal = check(&app.state, t, None, number)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refusal.code(), "trial_limit", "{refusal:?}");
    assert!(format!("{refusal:?}").contains("minutes"), "{refusal:?}");
    // The operator lifts the trial: calls go out again.
    sqlx::query("UPDATE platform.tenants SET trial = false WHERE id = $1")
        .bind(t)
        .execute(&app.state.db)
        .await
        .unwrap();
    assert!(judge(&app, t, number).await.is_ok());
}
