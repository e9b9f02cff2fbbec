//! Proof of ownership before outbound calls, played as a fresh sign-up.
//!
//! E-mail: the sign-up's verification e-mail reaches a real SMTP server (aiosmtpd) with a
//! link; until it is followed, click-to-call is a 422 `email_unverified` and a running
//! campaign places nothing (its contacts wait, the campaign says why); a forged link is a
//! 400, the real one verifies the tenant once (a second use is a 400), an expired one is a
//! 400; afterwards the same click-to-call and campaign go out.
//!
//! Caller IDs: the platform calls the number through the (stand-in) gateway and reads the
//! code (the commands it sends); a wrong code counts down, the right one verifies the number,
//! which campaigns may then show; premium numbers are not called; five wrong codes lock a
//! verification, ten minutes expire it, three calls a day per number.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    campaigns::{CampaignDto, ContactDto, OutboundRulesDto},
    gateway::{self as wire, GatewayCommand, GatewayEvent, HangupCause},
    verify::{CallerIdDto, CallerIdsDto, EmailVerificationDto, EmailVerified},
};
use redis::AsyncCommands;
use serde_json::{json, Value};
use uuid::Uuid;

const OWN_DID: &str = "+994125550171";

/// A test app with the given SMTP server and its background job off (`run_once` drives it).
async fn spawn(smtp_port: u16) -> TestApp {
    TestApp::spawn_with(|cfg| {
        cfg.sla_job_interval_secs = 0;
        cfg.smtp = Some(hotline_backend::config::SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp_port,
            from: "Hotline <noreply@hotline.test>".into(),
            ..Default::default()
        });
    })
    .await
}

/// A stand-in gateway with an outbound trunk.
async fn trunk_gateway(app: &TestApp) -> String {
    let gw = stand_in_gateway(app, "verify").await;
    let mut r = app.state.redis();
    let _: () = r
        .hset(wire::gateway_key(&gw), "trunk", "true")
        .await
        .unwrap();
    gw
}

fn message_campaign(caller_id: &str) -> Value {
    let day = json!(["00:00", "23:59"]);
    json!({
        "name": "Meter reading", "kind": "message", "caller_id": caller_id, "prompt": "greeting",
        "calling_hours": [day, day, day, day, day, day, day], "timezone": "UTC", "max_lines": 2
    })
}

async fn command_count(app: &TestApp, gw: &str) -> usize {
    let mut r = app.state.redis();
    r.xlen(wire::command_stream(gw)).await.unwrap()
}

/// A message's text with quoted-printable undone (soft line breaks, `=3D`): what a mail
/// client shows.
fn shown(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The link in a message: `http://…/verify-email?token=…`.
fn link_in(message: &str) -> String {
    let start = message.find("http").expect("a link in the e-mail");
    message[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_sign_up_calls_out_only_after_following_the_e_mailed_link() {
    let smtp = SmtpServer::start().await;
    let app = spawn(smtp.port).await;
    let a = tenant(&app, "Verify Water").await;
    let t = a.info.tenant.id;
    own_number_and_country(&app, &a, OWN_DID).await;
    let status: EmailVerificationDto = ok_json(
        a.admin
            .get(app.url("/api/v1/email-verification"))
            .send()
            .await,
    )
    .await;
    assert!(!status.verified, "a sign-up starts unverified");
    assert_eq!(
        status.last_sent_to.as_deref(),
        Some("admin@verify-water.test")
    );

    // Click-to-call: refused with the code, nothing dialled.
    let gw = trunk_gateway(&app).await;
    let (agent, ac) = a.user(&app, "agent@verify.test", "Agent").await;
    stand_in_softphone(&app, t, agent.id, &gw).await;
    let p = problem(
        ac.post(app.url("/api/v1/click-to-call"))
            .json(&json!({ "number": "+994505550171" }))
            .send()
            .await,
        422,
        "email_unverified",
    )
    .await;
    assert!(
        p.detail.as_deref().unwrap_or_default().contains("e-mail"),
        "{p:?}"
    );
    // A running campaign: its contact waits and the campaign says why.
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&message_campaign(OWN_DID))
            .send()
            .await,
    )
    .await;
    let _: Value = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&json!([{ "phone": "+994505550172" }]))
            .send()
            .await,
    )
    .await;
    let started: CampaignDto = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/start", c.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(started.status, "running");
    hotline_backend::campaigns::tick(&app.state, t, c.id, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(command_count(&app, &gw).await, 0, "nothing dialled");
    let seen: CampaignDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{}", c.id)))
            .send()
            .await,
    )
    .await;
    let hold = seen.dial_hold.unwrap_or_default();
    assert!(hold.starts_with("email_unverified"), "{hold:?}");
    let contacts: hotline_wire::api::Page<ContactDto> = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(contacts.items[0].status, "pending", "it waits, not failed");

    // The e-mail leaves through SMTP with its link; the database keeps no usable token.
    assert!(smtp.messages().is_empty(), "requests never send e-mail");
    let r = hotline_backend::sla::run_once(&app.state).await.unwrap();
    assert_eq!((r.emails_sent, r.emails_failed), (1, 0));
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let m = shown(&messages[0]);
    assert!(m.contains("To: admin@verify-water.test"), "{m}");
    assert!(
        m.contains("Subject: [Hotline] Verify your e-mail address"),
        "{m}"
    );
    let link = link_in(&m[m.find("Verify:").unwrap()..]);
    assert!(link.starts_with(&app.url("/verify-email?token=")), "{link}");
    let token = link.split("token=").nth(1).unwrap().to_string();
    let schema = hotline_backend::db::schema_name(t);
    let stored: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT link_path FROM {schema}.email_outbox"
    )))
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert!(
        stored.iter().all(|l| !l.contains(&token)),
        "the sent token is not kept: {stored:?}"
    );
    let hashed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM platform.email_verifications WHERE tenant_id = $1 AND token_hash = sha256($2::bytea)",
    )
    .bind(t)
    .bind(token.as_bytes())
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(hashed, 1, "only the token's hash is stored");

    // A forged token, then the real link (anyone holding it, signed in or not), then reuse.
    let anonymous = app.client();
    let verify = |token: String| {
        anonymous
            .post(app.url("/api/v1/auth/verify-email"))
            .json(&json!({ "token": token }))
            .send()
    };
    problem(
        verify(format!("{token}x")).await,
        400,
        "verification_link_invalid",
    )
    .await;
    let done: EmailVerified = ok_json(verify(token.clone()).await).await;
    assert_eq!(done.tenant, a.slug());
    assert_eq!(done.email, "admin@verify-water.test");
    problem(verify(token).await, 400, "verification_link_used").await;
    let status: EmailVerificationDto = ok_json(
        a.admin
            .get(app.url("/api/v1/email-verification"))
            .send()
            .await,
    )
    .await;
    assert!(status.verified);
    problem(
        a.admin
            .post(app.url("/api/v1/email-verification"))
            .send()
            .await,
        409,
        "already_verified",
    )
    .await;

    // Now the same calls go out.
    hotline_backend::campaigns::tick(&app.state, t, c.id, chrono::Utc::now())
        .await
        .unwrap();
    let mut last = "0".to_string();
    match next_command(&app, &gw, &mut last).await {
        GatewayCommand::Originate { caller, callee, .. } => {
            assert_eq!(
                (caller.as_str(), callee.as_str()),
                (OWN_DID, "+994505550172")
            );
        }
        other => panic!("expected originate, got {other:?}"),
    }
    let r = ac
        .post(app.url("/api/v1/click-to-call"))
        .json(&json!({ "number": "+994505550171" }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn expired_links_are_refused_and_re_sending_is_limited() {
    let smtp = SmtpServer::start().await;
    let app = spawn(smtp.port).await;
    let a = tenant(&app, "Late Reader").await;
    let t = a.info.tenant.id;
    // Re-sends go to the signed-in administrator's own address, at most five an hour (the
    // sign-up's e-mail counts).
    for _ in 0..4 {
        let r = a
            .admin
            .post(app.url("/api/v1/email-verification"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    problem(
        a.admin
            .post(app.url("/api/v1/email-verification"))
            .send()
            .await,
        409,
        "too_many_emails",
    )
    .await;
    hotline_backend::sla::run_once(&app.state).await.unwrap();
    let messages = smtp.messages();
    assert_eq!(messages.len(), 5);
    // Every link, 49 hours later: expired.
    sqlx::query(
        "UPDATE platform.email_verifications SET expires_at = now() - interval '1 hour'
          WHERE tenant_id = $1",
    )
    .bind(t)
    .execute(&app.state.db)
    .await
    .unwrap();
    let m = shown(&messages[0]);
    let link = link_in(&m[m.find("Verify:").unwrap()..]);
    let token = link.split("token=").nth(1).unwrap();
    problem(
        app.client()
            .post(app.url("/api/v1/auth/verify-email"))
            .json(&json!({ "token": token }))
            .send()
            .await,
        400,
        "verification_link_expired",
    )
    .await;
    let verified: bool = sqlx::query_scalar(
        "SELECT email_verified_at IS NOT NULL FROM platform.tenants WHERE id = $1",
    )
    .bind(t)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert!(!verified);
}

/// Plays the gateway for a verification call: answers, lets every prompt finish, and returns
/// the digits it was asked to say (the same both times) and whether it was then hung up.
async fn answer_and_listen(
    app: &TestApp,
    gw: &str,
    t: Uuid,
    leg: Uuid,
    last: &mut String,
) -> String {
    let now = chrono::Utc::now;
    event(
        app,
        &GatewayEvent::CallAnswered {
            call_id: leg,
            tenant_id: t,
            at: now(),
        },
    )
    .await;
    let mut said = Vec::new();
    loop {
        let cmd = next_command(app, gw, last).await;
        assert_eq!(cmd.call_id(), leg);
        let prompt = match cmd {
            GatewayCommand::Play { prompt, .. } => {
                assert_eq!(prompt, "verification-code");
                prompt
            }
            GatewayCommand::SayDigits { digits, .. } => {
                said.push(digits.clone());
                format!("digits:{digits}")
            }
            GatewayCommand::Hangup { .. } => break,
            other => panic!("unexpected {other:?}"),
        };
        event(
            app,
            &GatewayEvent::PlaybackFinished {
                call_id: leg,
                tenant_id: t,
                prompt,
                interrupted_by: None,
            },
        )
        .await;
    }
    event(
        app,
        &GatewayEvent::Hangup {
            call_id: leg,
            tenant_id: t,
            cause: HangupCause::GatewayBye,
            status: None,
            at: now(),
        },
    )
    .await;
    assert_eq!(said.len(), 2, "the code is read twice: {said:?}");
    assert_eq!(said[0], said[1]);
    said.remove(0)
}

/// Plays the gateway for a verification call nobody answers: its originate, then its end
/// (once the backend has recorded it, the line is free again).
async fn unanswered(app: &TestApp, a: &Tenant, gw: &str, last: &mut String, v: &CallerIdDto) {
    let leg = match next_command(app, gw, last).await {
        GatewayCommand::Originate { call_id, .. } => call_id,
        other => panic!("expected originate, got {other:?}"),
    };
    event(
        app,
        &GatewayEvent::Hangup {
            call_id: leg,
            tenant_id: a.info.tenant.id,
            cause: HangupCause::Timeout,
            status: Some(408),
            at: chrono::Utc::now(),
        },
    )
    .await;
    for _ in 0..100 {
        let list = caller_ids(app, a).await;
        if list
            .numbers
            .iter()
            .any(|n| n.id == v.id && n.status == "failed")
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the unanswered call's end was not recorded");
}

async fn caller_ids(app: &TestApp, a: &Tenant) -> CallerIdsDto {
    ok_json(a.admin.get(app.url("/api/v1/caller-ids")).send().await).await
}

#[tokio::test]
async fn a_number_is_verified_by_a_call_that_reads_its_code() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Caller Proof").await;
    let t = a.info.tenant.id;
    own_number_and_country(&app, &a, OWN_DID).await;
    let gw = trunk_gateway(&app).await;
    let mine = "+994505550181";
    let call_me = |number: &str| {
        a.admin
            .post(app.url("/api/v1/caller-ids"))
            .json(&json!({ "number": number }))
            .send()
    };

    // Unverified e-mail: no verification call either.
    problem(call_me(mine).await, 422, "email_unverified").await;
    sqlx::query("UPDATE platform.tenants SET email_verified_at = now() WHERE id = $1")
        .bind(t)
        .execute(&app.state.db)
        .await
        .unwrap();
    // Premium numbers and the tenant's own number are not called.
    let p = problem(
        call_me("+994900123456").await,
        422,
        "destination_not_allowed",
    )
    .await;
    assert_eq!(field_names(&p), ["number"]);
    problem(call_me(OWN_DID).await, 409, "already_verified").await;
    problem(call_me("12-ab").await, 422, "validation_failed").await;
    assert_eq!(command_count(&app, &gw).await, 0, "nothing dialled");
    // A campaign may not show the number yet.
    problem(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&message_campaign(mine))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;

    // The call: through the trunk to the number (a national form is completed), showing the
    // tenant's own number; it reads the code twice and hangs up.
    let v: CallerIdDto = created(call_me("0505550181").await).await;
    assert_eq!((v.number.as_str(), v.status.as_str()), (mine, "calling"));
    assert_eq!(v.attempts_left, 5);
    let mut last = "0".to_string();
    let leg = match next_command(&app, &gw, &mut last).await {
        GatewayCommand::Originate {
            call_id,
            caller,
            callee,
            tenant_id,
        } => {
            assert_eq!(
                (caller.as_str(), callee.as_str(), tenant_id),
                (OWN_DID, mine, t)
            );
            call_id
        }
        other => panic!("expected originate, got {other:?}"),
    };
    let code = answer_and_listen(&app, &gw, t, leg, &mut last).await;
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    // The code is nowhere in the tenant's database.
    let schema = hotline_backend::db::schema_name(t);
    let dump: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT string_agg(v::text, ' ') FROM {schema}.caller_id_verifications v"
    )))
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert!(!dump.contains(&code), "{dump}");
    let mut list = caller_ids(&app, &a).await;
    for _ in 0..100 {
        if list.numbers[0].status == "finished" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        list = caller_ids(&app, &a).await;
    }
    assert_eq!(list.dids, [OWN_DID]);
    assert_eq!(
        list.numbers[0].status, "finished",
        "the call's end is recorded"
    );

    // A wrong code counts down; a malformed one is not an attempt; the right one verifies.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let confirm = |id: Uuid, code: String| {
        a.admin
            .post(app.url(&format!("/api/v1/caller-ids/{id}/confirm")))
            .json(&json!({ "code": code }))
            .send()
    };
    let p = problem(confirm(v.id, wrong.into()).await, 422, "code_wrong").await;
    assert_eq!(field_names(&p), ["code"]);
    assert!(
        p.detail
            .as_deref()
            .unwrap_or_default()
            .contains("4 attempts left"),
        "{p:?}"
    );
    problem(confirm(v.id, "12a".into()).await, 422, "validation_failed").await;
    let done: CallerIdDto = ok_json(confirm(v.id, code.clone()).await).await;
    assert_eq!(done.status, "verified");
    problem(confirm(v.id, code).await, 409, "already_verified").await;

    // The number is a caller ID now: listed, offered to campaigns, accepted by them.
    let rules: OutboundRulesDto =
        ok_json(a.admin.get(app.url("/api/v1/outbound-rules")).send().await).await;
    assert_eq!(rules.caller_ids, [OWN_DID, mine]);
    let _: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&message_campaign(mine))
            .send()
            .await,
    )
    .await;
    // Another tenant cannot see nor confirm it, nor verify this tenant's own number.
    let b = tenant(&app, "Other Proof").await;
    sqlx::query("UPDATE platform.tenants SET email_verified_at = now() WHERE id = $1")
        .bind(b.info.tenant.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    problem(
        b.admin
            .post(app.url("/api/v1/caller-ids"))
            .json(&json!({ "number": OWN_DID }))
            .send()
            .await,
        409,
        "number_in_use",
    )
    .await;
    problem(
        b.admin
            .post(app.url(&format!("/api/v1/caller-ids/{}/confirm", v.id)))
            .json(&json!({ "code": "123456" }))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    assert!(caller_ids(&app, &b).await.numbers.is_empty());

    // Five wrong codes lock a verification; ten minutes expire one; three calls a number a day.
    let other = "+994505550182";
    let start = || call_me(other);
    let v2: CallerIdDto = created(start().await).await;
    unanswered(&app, &a, &gw, &mut last, &v2).await;
    for left in (0..5).rev() {
        let p = problem(confirm(v2.id, "999999".into()).await, 422, "code_wrong").await;
        assert!(p
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains(if left == 0 {
                "no attempts left"
            } else {
                "attempts left"
            }));
    }
    problem(
        confirm(v2.id, "999999".into()).await,
        409,
        "code_attempts_exhausted",
    )
    .await;
    let v3: CallerIdDto = created(start().await).await;
    unanswered(&app, &a, &gw, &mut last, &v3).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {schema}.caller_id_verifications SET expires_at = now() - interval '1 second'
          WHERE id = $1"
    )))
    .bind(v3.id)
    .execute(&app.state.db)
    .await
    .unwrap();
    problem(confirm(v3.id, "999999".into()).await, 409, "code_expired").await;
    let v4: CallerIdDto = created(start().await).await;
    unanswered(&app, &a, &gw, &mut last, &v4).await;
    problem(start().await, 409, "verification_call_limit").await;
    let list = caller_ids(&app, &a).await;
    assert_eq!(list.calls_left_today, 10 - 4);
    assert_eq!(list.numbers[0].number, mine, "verified first");

    // Removing the number: campaigns can no longer show it.
    let r = a
        .admin
        .delete(app.url(&format!("/api/v1/caller-ids/{}", v.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let rules: OutboundRulesDto =
        ok_json(a.admin.get(app.url("/api/v1/outbound-rules")).send().await).await;
    assert_eq!(rules.caller_ids, [OWN_DID]);
}
