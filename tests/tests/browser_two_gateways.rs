//! "Two of everything" with a browser agent (issue 5): two real gateways with WebRTC, one
//! backend; the agent in Chromium (microphone faked with a 1 kHz tone) has her softphone leg on
//! one gateway ("home") and is offered a call that SIPp places at the other ("away").
//!
//! * She answers at once — before her leg can have moved — and hears the caller (the level of
//!   the browser's received track), the caller hears her tone (their recording's "heard"
//!   channel): her leg followed the call to the away gateway (the offer named it; the desktop
//!   renegotiated there while it rang; the backend bridged the call once the leg was up).
//! * A second call, at the home gateway, works the same way for her: the leg moves back.
//! * Both CDRs are answered by her, each call held by the gateway it arrived at.
//!
//! Needs Chromium + chromedriver, SIPp, sox, the gateway binary and a built `frontend/dist`.

mod common;

use std::sync::{Arc, Mutex};

use anyhow::{ensure, Context};
use common::{
    caller_call, cdr, dial_in, finished, gateway, gateway_event, recording, talking_caller, tenant,
    workdir, PASSWORD,
};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{fake_microphone_args, run_with};
use hotline_e2e::telephony::{best_tone_share, stereo_channels, TestGateway};
use hotline_wire::gateway::GatewayEvent;
use redis::AsyncCommands;
use serde_json::json;
use uuid::Uuid;

/// The gateway the agent's softphone leg is on, as the backend has it.
async fn leg_gateway(app: &TestApp, tenant: Uuid, user: Uuid) -> Option<String> {
    let mut r = app.state.redis();
    r.hget(hotline_backend::devices::key(tenant, user), "gateway_id")
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_agent_answers_calls_arriving_at_either_gateway() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Twin Water").await;
    // DIDs are platform-wide: a random one cannot clash with another run's tenant.
    let did = format!("+99412{:07}", Uuid::new_v4().as_u128() % 10_000_000);
    t.queue_on_number(
        &app,
        json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        &did,
    )
    .await;
    let email = "aysel@twin-water.test";
    let aysel = t.agent(&app, email, "Aysel", None, &[]).await;
    let work = workdir("two-gateways");
    let (work1, work2) = (work.join("gw1"), work.join("gw2"));
    std::fs::create_dir_all(&work1).unwrap();
    std::fs::create_dir_all(&work2).unwrap();
    let gws = Arc::new([
        gateway(&app, &work1, 0, true),
        gateway(&app, &work2, 1, true),
    ]);
    let (number_1, number_2) = ("+15550007501", "+15550007502");
    let callers: Arc<Mutex<Vec<(std::process::Child, std::path::PathBuf)>>> = Arc::default();
    let homes: Arc<Mutex<Option<(usize, usize)>>> = Arc::default();

    let chrome_args = fake_microphone_args(&work);
    let (app2, gws2, callers2, homes2, work2, slug, did2) = (
        &app,
        gws.clone(),
        callers.clone(),
        homes.clone(),
        work.clone(),
        t.slug.clone(),
        did.clone(),
    );
    run_with(
        "a_browser_agent_answers_calls_arriving_at_either_gateway",
        &app.base_url,
        &chrome_args,
        async move |b| {
            b.agent_ready(&slug, email, PASSWORD).await?;
            // Her leg is on one of the two gateways ("home"); the first call goes to the other.
            let gw_of_leg = leg_gateway(app2, t.id, aysel).await;
            let home = gws2
                .iter()
                .position(|g| Some(&g.id) == gw_of_leg.as_ref())
                .unwrap_or_else(|| panic!("her leg is on neither gateway: {gw_of_leg:?}"));
            let away = 1 - home;
            *homes2.lock().unwrap() = Some((home, away));
            for (n, (at, number)) in [(away, number_1), (home, number_2)].into_iter().enumerate() {
                let gw: &TestGateway = &gws2[at];
                let dir = work2.join(format!("caller-{n}"));
                let child = dial_in(
                    &dir,
                    &talking_caller(number, 500, 4, 7_000, 8_000),
                    &did2,
                    &gw.addr,
                );
                callers2.lock().unwrap().push((child, dir));
                b.wait_text("#incoming-caller", number).await?;
                // Accepted at once: the leg may still be on the other gateway.
                b.click("#call-accept").await?;
                b.wait("#in-call").await?;
                b.hears_caller()
                    .await
                    .with_context(|| format!("call {n} from {number}"))?;
                // The leg is where the call is, for the backend and on the desktop.
                ensure!(
                    leg_gateway(app2, t.id, aysel).await.as_ref() == Some(&gw.id),
                    "call {n}: her leg is not on the call's gateway {}",
                    gw.id
                );
                b.wait(&format!("#softphone-status[data-gateway='{}']", gw.id))
                    .await?;
                // The caller hangs up after speaking.
                b.wait_text("#softphone-note", "ended").await?;
            }
            Ok(())
        },
    )
    .await;
    let (home, away) = homes.lock().unwrap().expect("the calls were placed");
    let callers = std::mem::take(&mut *callers.lock().unwrap());
    let mut calls = vec![];
    for ((child, dir), (at, number)) in callers
        .into_iter()
        .zip([(away, number_1), (home, number_2)])
    {
        finished(child, &dir, "caller").await;
        let call = caller_call(&app, number).await;
        // Held by the gateway it arrived at.
        let held_by = gateway_event(&app, "the call's arrival", |e| match e {
            GatewayEvent::CallStarted {
                call_id,
                gateway_id,
                ..
            } if call_id == call => Some(gateway_id),
            _ => None,
        })
        .await;
        assert_eq!(held_by, gws[at].id, "{number}");
        // The caller heard the agent's 1 kHz tone.
        let (path, _) = recording(&app, call).await;
        let (_, heard) = stereo_channels(&path);
        let share = best_tone_share(&heard, 1000.0);
        assert!(
            share > 0.5,
            "{number} did not hear the agent's tone (best share {share:.2})"
        );
        calls.push(call);
    }
    for call in calls {
        let c = cdr(&app, &t.admin, call).await;
        assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
        assert_eq!(c["cdr"]["agent_name"], "Aysel", "{c:#}");
        assert!(!c["cdr"]["connected_at"].is_null(), "{c:#}");
    }
    drop(gws);
    let _ = std::fs::remove_dir_all(&work);
}
