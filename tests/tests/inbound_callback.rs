//! A missed call called back in one click, end to end: a caller (SIPp) dials the tenant's
//! number on the real gateway, waits in the queue with no agent ready and hangs up; the call
//! is on the missed-calls list (API and the agent's desktop in Chromium); the agent, whose
//! browser softphone is connected over WebRTC to the gateway, clicks "Call back"; the gateway
//! dials the caller's number through its trunk to a carrier played by SIPp (a UAS that checks
//! the number and answers), bridges the answered call into the softphone, and the agent hangs
//! up from the desktop. The entry is handled by that agent and gone from the list.
//!
//! Needs Chromium + chromedriver, SIPp, sox, the gateway binary and a built `frontend/dist`.

mod common;

use std::sync::{Arc, Mutex};

use common::{
    answering_carrier, caller, eventually, finished, ok, outbound_ready, tenant, trunk_gateway,
    PASSWORD,
};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{fake_microphone_args, run_with};
use hotline_e2e::telephony::{free_port, gateway_events, scenario, sipp};
use hotline_wire::gateway::{GatewayEvent, HangupCause};
use redis::AsyncCommands;
use serde_json::json;
use uuid::Uuid;

const DID: &str = "+994125559301";
const NUMBER: &str = "+15550007301";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_caller_is_called_back_in_one_click_through_the_trunk_into_the_softphone() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Callback Water").await;
    // The number it calls back is abroad (+1): the operator allows that (and lifts the trial).
    outbound_ready(&app, t.id, &[]).await;
    t.queue_on_number(
        &app,
        json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        DID,
    )
    .await;
    let dana = t.agent(&app, "dana@callback.test", "Dana", None, &[]).await;
    let work = std::env::temp_dir().join(format!("hotline-callback-{}", Uuid::new_v4().simple()));
    let (cust_dir, carrier_dir) = (work.join("cust"), work.join("carrier"));
    std::fs::create_dir_all(&cust_dir).unwrap();
    std::fs::create_dir_all(&carrier_dir).unwrap();
    let carrier_port = free_port();
    let rtp = 30_000 + (std::process::id() % 200) as u16 * 40;
    let _gw = trunk_gateway(&app, &work, rtp, carrier_port);
    let gw_addr = _gw.addr.clone();

    // The caller waits in the queue (no agent is ready) and gives up.
    let customer = sipp(
        &cust_dir,
        "customer",
        &scenario(&caller(NUMBER, 4_000, 1_000)),
        &["-s", DID, "-mp", &free_port().to_string(), &gw_addr],
    );
    finished(customer, &cust_dir, "caller").await;
    let missed_url = app.url("/api/v1/missed-calls");
    let entry = eventually(10, "the missed call listed", || {
        let (admin, url) = (t.admin.clone(), missed_url.clone());
        async move {
            let list = ok(admin.get(url).send().await.unwrap()).await;
            list.as_array()?
                .iter()
                .find(|m| m["number"] == NUMBER)
                .cloned()
        }
    })
    .await;
    assert_eq!(entry["reason"], "abandoned", "{entry}");
    assert_eq!(entry["did"], DID, "{entry}");
    let entry_id: Uuid = entry["id"].as_str().unwrap().parse().unwrap();

    // The carrier is ready to answer; Dana calls back from her desktop.
    let carrier = Arc::new(Mutex::new(Some(sipp(
        &carrier_dir,
        "carrier",
        &scenario(&answering_carrier(NUMBER)),
        &[
            "-p",
            &carrier_port.to_string(),
            "-mp",
            &free_port().to_string(),
        ],
    ))));
    let chrome_args = fake_microphone_args(&work);
    let slug = t.slug.clone();
    run_with(
        "inbound_callback_dana",
        &app.base_url,
        &chrome_args,
        async move |b| {
            b.agent_ready(&slug, "dana@callback.test", PASSWORD).await?;
            let row = format!("#missed-calls li[data-number='{NUMBER}']");
            b.wait_text(&row, NUMBER).await?;
            b.click(&format!("{row} .missed-callback")).await?;
            b.wait_text("#missed-calling", NUMBER).await?;
            // Answered by the customer: the call is on Dana's softphone.
            b.wait("#in-call").await?;
            // The entry left the list.
            b.wait("#missed-empty").await?;
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            b.click("#call-hangup").await?;
            b.wait("#wrapup-form").await?;
            Ok(())
        },
    )
    .await;
    let child = carrier.lock().unwrap().take().unwrap();
    finished(child, &carrier_dir, "carrier").await;

    // The gateway bridged the answered callback leg into Dana's softphone leg.
    let mut r = app.state.redis();
    let soft_leg: String = r
        .hget(hotline_backend::devices::key(t.id, dana), "leg_id")
        .await
        .unwrap();
    let soft_leg: Uuid = soft_leg.parse().unwrap();
    // The entry is handled, by Dana, with the callback's call.
    let mut tx = hotline_backend::db::begin_in_schema(
        &app.state.db,
        &hotline_backend::db::schema_name(t.id),
    )
    .await
    .unwrap();
    let (handled, by, leg): (bool, Option<Uuid>, Option<Uuid>) = sqlx::query_as(
        "SELECT handled_at IS NOT NULL, handled_by, callback_call_id FROM missed_calls WHERE id = $1",
    )
    .bind(entry_id)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((handled, by), (true, Some(dana)));
    let callback_leg = leg.expect("the entry names its callback call");
    let evs = gateway_events(&mut r, &app.state.cfg.call_events_stream).await;
    assert!(
        evs.iter()
            .any(|e| matches!(e, GatewayEvent::Bridged { call_id, peer, .. }
            if *call_id == callback_leg && *peer == soft_leg)),
        "the callback was not bridged into the softphone: {evs:#?}"
    );
    assert!(evs
        .iter()
        .any(|e| matches!(e, GatewayEvent::Hangup { call_id, cause, .. }
        if *call_id == callback_leg && *cause == HangupCause::GatewayBye)));

    // The list no longer has it.
    let list = ok(t
        .admin
        .get(app.url("/api/v1/missed-calls"))
        .send()
        .await
        .unwrap())
    .await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|m| m["number"] != NUMBER),
        "{list}"
    );
    let _ = std::fs::remove_dir_all(&work);
}
