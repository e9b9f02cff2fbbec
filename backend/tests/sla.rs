//! SLA business calendar (API, validation, due times over non-working days and holidays),
//! warnings then breaches exactly once, escalation, in-app notifications, e-mail through a
//! real SMTP server (Python's aiosmtpd), and tenant isolation of calendars and notifications.

mod common;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::*;
use hotline_backend::{sla::run_once, testkit::TestApp};
use hotline_wire::{
    notifications::*,
    sla::{BusinessCalendar, SlaState},
    tickets::*,
};
use serde_json::{json, Value};
use uuid::Uuid;

fn workflow() -> Value {
    json!({
        "name": "Request",
        "statuses": [
            { "key": "new", "name": "New", "color": "#1f6feb", "initial": true },
            { "key": "done", "name": "Done", "color": "#1a7f37", "final": true }
        ],
        "transitions": [ { "from": "new", "to": "done", "name": "Close" } ]
    })
}

/// A test app whose background job stays off: the tests drive it with `run_once`.
async fn spawn(smtp_port: Option<u16>) -> TestApp {
    TestApp::spawn_with(|cfg| {
        cfg.sla_job_interval_secs = 0;
        cfg.smtp = smtp_port.map(|port| hotline_backend::config::SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            from: "Hotline <noreply@hotline.test>".into(),
            ..Default::default()
        });
    })
    .await
}

async fn ticket_type(app: &TestApp, t: &Tenant) -> TicketTypeDto {
    created(
        t.admin
            .post(app.url("/api/v1/ticket-types"))
            .json(&workflow())
            .send()
            .await,
    )
    .await
}

async fn sql(app: &TestApp, t: &Tenant, statement: &str, id: Uuid) {
    let schema = format!("tenant_{}", t.info.tenant.id.simple());
    sqlx::query(sqlx::AssertSqlSafe(statement.replace("{schema}", &schema)))
        .bind(id)
        .execute(&app.state.db)
        .await
        .unwrap();
}

async fn notifications(app: &TestApp, c: &reqwest::Client, query: &str) -> NotificationList {
    ok_json(
        c.get(app.url(&format!("/api/v1/notifications{query}")))
            .send()
            .await,
    )
    .await
}

fn kinds(list: &NotificationList) -> Vec<&str> {
    let mut k: Vec<&str> = list.items.iter().map(|n| n.kind.as_str()).collect();
    k.sort();
    k
}

#[tokio::test]
async fn calendar_api_validation_and_business_hours_due_times() {
    let app = spawn(None).await;
    let t = tenant(&app, "Calendar Co").await;
    let b = tenant(&app, "Calendar B").await;
    let a = &t.admin;
    let (_, agent) = t.user(&app, "agent@cal.test", "Agent").await;

    // The default: Monday to Friday, 09:00–18:00 UTC.
    let cal: BusinessCalendar =
        ok_json(a.get(app.url("/api/v1/business-calendar")).send().await).await;
    assert_eq!(cal.time_zone, "UTC");
    assert_eq!(cal.hours.len(), 5);
    assert_eq!(
        (
            cal.hours[0].weekday,
            cal.hours[0].start.as_str(),
            cal.hours[0].end.as_str()
        ),
        (1, "09:00", "18:00")
    );
    problem(
        agent.get(app.url("/api/v1/business-calendar")).send().await,
        403,
        "forbidden",
    )
    .await;

    // Bad calendars are refused with every field named.
    let p = problem(
        a.put(app.url("/api/v1/business-calendar"))
            .json(&json!({
                "time_zone": "Europe/Atlantis",
                "hours": [
                    { "weekday": 1, "start": "09:00", "end": "13:00" },
                    { "weekday": 1, "start": "12:00", "end": "18:00" },
                    { "weekday": 2, "start": "18:00", "end": "09:00" },
                    { "weekday": 9, "start": "09:00", "end": "10:00" },
                    { "weekday": 3, "start": "9", "end": "25:00" }
                ],
                "holidays": [ { "date": "2025-13-01" } ]
            }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_names(&p),
        [
            "time_zone",
            "hours[1]",
            "hours[2].end",
            "hours[3].weekday",
            "hours[4].start",
            "hours[4].end",
            "holidays[0].date"
        ]
    );
    assert!(p.errors[1].message.contains("overlaps hours[0]"), "{p:?}");
    problem(
        a.put(app.url("/api/v1/business-calendar"))
            .json(&json!({ "time_zone": "UTC", "hours": "nine to five" }))
            .send()
            .await,
        400,
        "malformed_body",
    )
    .await;

    // Today and tomorrow (UTC) are the "weekend": every other weekday works 09:00–18:00.
    let today = Utc::now().date_naive();
    let weekday = |d: NaiveDate| d.weekday().number_from_monday();
    let off = [weekday(today), weekday(today + Duration::days(1))];
    let hours: Vec<Value> = (1..=7)
        .filter(|d| !off.contains(d))
        .map(|d| json!({ "weekday": d, "start": "09:00", "end": "18:00" }))
        .collect();
    let put = |holidays: Value| {
        let body = json!({ "time_zone": "UTC", "hours": hours, "holidays": holidays });
        let req = a.put(app.url("/api/v1/business-calendar")).json(&body);
        async move { ok_json::<BusinessCalendar>(req.send().await).await }
    };
    let saved = put(json!([])).await;
    assert_eq!(saved.hours.len(), 5);

    let ty = ticket_type(&app, &t).await;
    created::<SlaPolicyDto>(
        a.post(app.url("/api/v1/sla-policies"))
            .json(&json!({ "resolve_minutes": 240, "business_hours": true, "warn_percent": 50 }))
            .send()
            .await,
    )
    .await;
    created::<SlaPolicyDto>(
        a.post(app.url("/api/v1/sla-policies"))
            .json(&json!({ "priority": "urgent", "resolve_minutes": 240 }))
            .send()
            .await,
    )
    .await;
    let p = problem(
        a.post(app.url("/api/v1/sla-policies"))
            .json(&json!({ "resolve_minutes": 60, "warn_percent": 100 }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["warn_percent"]);
    let p = problem(
        a.post(app.url("/api/v1/sla-policies"))
            .json(&json!({ "resolve_minutes": 60, "escalate_team_id": Uuid::new_v4() }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["category_id/escalate_team_id"]);

    let file = |priority: &str| {
        let body = json!({ "type_id": ty.id, "subject": "Meter reading", "priority": priority });
        let req = a.post(app.url("/api/v1/tickets")).json(&body);
        async move { created::<TicketDto>(req.send().await).await }
    };
    let at = |d: NaiveDate, h: u32| d.and_hms_opt(h, 0, 0).unwrap().and_utc();
    // Four working hours skip the two days off: 09:00–13:00 the day after tomorrow; the
    // warning comes at half the working time.
    let tk = file("normal").await;
    let after_weekend = today + Duration::days(2);
    assert_eq!(tk.due_at, Some(at(after_weekend, 13)));
    assert_eq!(tk.warn_at, Some(at(after_weekend, 11)));
    assert_eq!(tk.sla_state, SlaState::Ok);
    // A 24/7 policy counts wall-clock time.
    let urgent = file("urgent").await;
    assert_eq!(
        (urgent.due_at.unwrap() - urgent.created_at).num_minutes(),
        240
    );
    assert_eq!(urgent.warn_at, None);

    // A holiday on that day pushes the due time one more working day.
    let saved = put(json!([{ "date": after_weekend.to_string(), "name": "Founders' day" }])).await;
    assert_eq!(saved.holidays[0].name, "Founders' day");
    let tk2 = file("normal").await;
    assert_eq!(tk2.due_at, Some(at(today + Duration::days(3), 13)));
    // Existing tickets keep their due time; detail and list show the SLA fields.
    let again: TicketDto = ok_json(
        a.get(app.url(&format!("/api/v1/tickets/{}", tk.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(again.due_at, tk.due_at);
    let list: hotline_wire::api::Page<TicketDto> =
        ok_json(a.get(app.url("/api/v1/tickets")).send().await).await;
    assert!(list
        .items
        .iter()
        .all(|x| x.sla_state == SlaState::Ok && x.due_at.is_some()));

    // Tenant B sees its own default calendar and cannot change A's.
    let theirs: BusinessCalendar = ok_json(
        b.admin
            .get(app.url("/api/v1/business-calendar"))
            .send()
            .await,
    )
    .await;
    assert!(theirs.holidays.is_empty());
    assert_eq!(theirs.hours.len(), 5);
    ok_json::<BusinessCalendar>(
        b.admin
            .put(app.url("/api/v1/business-calendar"))
            .json(&json!({ "time_zone": "Asia/Baku", "hours": [ { "weekday": 1, "start": "10:00", "end": "11:00" } ] }))
            .send()
            .await,
    )
    .await;
    let ours: BusinessCalendar =
        ok_json(a.get(app.url("/api/v1/business-calendar")).send().await).await;
    assert_eq!(ours, saved);
}

#[tokio::test]
async fn warning_then_breach_once_escalation_and_notifications() {
    // An SMTP port nobody listens on: e-mails fail and wait for a retry.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn(Some(dead_port)).await;
    let t = tenant(&app, "Escalation Co").await;
    // The sign-up's e-mail verification link fails as well, then waits for its back-off.
    assert_eq!(run_once(&app.state).await.unwrap().emails_failed, 1);
    let a = &t.admin;
    let ty = ticket_type(&app, &t).await;
    let team: Value = created(
        a.post(app.url("/api/v1/teams"))
            .json(&json!({ "name": "Second line" }))
            .send()
            .await,
    )
    .await;
    let (u1, c1) = t.user(&app, "first@esc.test", "Agent").await;
    let (e1, ce1) = t.user(&app, "second@esc.test", "Agent").await;
    let (sup, csup) = t.user(&app, "lead@esc.test", "Supervisor").await;
    let (_, other_sup) = t.user(&app, "elsewhere@esc.test", "Supervisor").await;
    for u in [&e1, &sup] {
        ok_json::<Value>(
            a.patch(app.url(&format!("/api/v1/users/{}", u.id)))
                .json(&json!({ "team_id": team["id"] }))
                .send()
                .await,
        )
        .await;
    }
    created::<SlaPolicyDto>(
        a.post(app.url("/api/v1/sla-policies"))
            .json(&json!({ "resolve_minutes": 60, "warn_percent": 50,
                           "escalate_team_id": team["id"], "notify_supervisors": true }))
            .send()
            .await,
    )
    .await;
    // The lead already has an open ticket, so the second line's least-loaded member is e1.
    created::<TicketDto>(
        a.post(app.url("/api/v1/tickets"))
            .json(&json!({ "type_id": ty.id, "subject": "Busy lead", "assignee_user_id": sup.id }))
            .send()
            .await,
    )
    .await;
    let tk: TicketDto = created(
        a.post(app.url("/api/v1/tickets"))
            .json(&json!({ "type_id": ty.id, "subject": "No water", "assignee_user_id": u1.id }))
            .send()
            .await,
    )
    .await;
    assert!(tk.warn_at.unwrap() < tk.due_at.unwrap());

    // Assignment notifies the assignee at once.
    let mine = notifications(&app, &c1, "").await;
    assert_eq!(kinds(&mine), ["assigned"]);
    assert_eq!(mine.items[0].ticket_id, Some(tk.id));
    assert_eq!(mine.items[0].ticket_number, Some(tk.number));
    assert!(mine.items[0].text.contains("No water"));

    // Nothing is due yet. (The assignment e-mails fail against the dead SMTP port.)
    let r = run_once(&app.state).await.unwrap();
    assert_eq!((r.warnings, r.breaches, r.emails_failed), (0, 0, 2));
    let r = run_once(&app.state).await.unwrap();
    assert_eq!(r.emails_failed, 0, "a failed e-mail waits for its back-off");

    // Past the warning threshold: warned exactly once.
    sql(
        &app,
        &t,
        "UPDATE {schema}.tickets SET warn_at = now() - interval '1 second' WHERE id = $1",
        tk.id,
    )
    .await;
    let shown: TicketDto = ok_json(
        a.get(app.url(&format!("/api/v1/tickets/{}", tk.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(shown.sla_state, SlaState::Warning);
    assert_eq!(run_once(&app.state).await.unwrap().warnings, 1);
    assert_eq!(run_once(&app.state).await.unwrap().warnings, 0);
    assert_eq!(
        kinds(&notifications(&app, &c1, "").await),
        ["assigned", "sla_warning"]
    );

    // Past the due time: breached exactly once, escalated to the second line's least-loaded
    // member, and the team's supervisor (not the other one) is told.
    sql(
        &app,
        &t,
        "UPDATE {schema}.tickets SET due_at = now() - interval '1 second' WHERE id = $1",
        tk.id,
    )
    .await;
    let r = run_once(&app.state).await.unwrap();
    assert_eq!((r.warnings, r.breaches, r.escalations), (0, 1, 1));
    let r = run_once(&app.state).await.unwrap();
    assert_eq!((r.warnings, r.breaches), (0, 0));
    let after: TicketDto = ok_json(
        a.get(app.url(&format!("/api/v1/tickets/{}", tk.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(after.sla_state, SlaState::Breached);
    assert!(after.breached);
    assert_eq!(after.assignee_user_id, Some(e1.id));
    assert_eq!(
        after.assignee_team_id.map(|x| x.to_string()),
        team["id"].as_str().map(String::from)
    );
    let history: Vec<TicketEventDto> = ok_json(
        a.get(app.url(&format!("/api/v1/tickets/{}/events", tk.id)))
            .send()
            .await,
    )
    .await;
    let sla_steps: Vec<_> = history
        .iter()
        .filter_map(|e| e.details.get("sla").and_then(Value::as_str))
        .collect();
    assert_eq!(sla_steps, ["warning", "breached"]);
    let escalated: Vec<_> = history
        .iter()
        .filter(|e| e.kind == "assigned" && e.details["escalated"] == true)
        .collect();
    assert_eq!(escalated.len(), 1);
    assert_eq!(escalated[0].details["to_user"], json!(e1.id));
    let audit: Value = ok_json(a.get(app.url("/api/v1/audit")).send().await).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == "system:sla")
        .filter_map(|r| r["action"].as_str())
        .collect();
    for action in [
        "ticket.sla_warning",
        "ticket.sla_breached",
        "ticket.escalate",
    ] {
        assert_eq!(
            actions.iter().filter(|a| **a == action).count(),
            1,
            "{action} in {actions:?}"
        );
    }
    assert_eq!(
        kinds(&notifications(&app, &c1, "").await),
        ["assigned", "sla_breached", "sla_warning"]
    );
    assert_eq!(kinds(&notifications(&app, &ce1, "").await), ["escalated"]);
    assert_eq!(
        kinds(&notifications(&app, &csup, "").await),
        ["assigned", "sla_breached"]
    );
    assert_eq!(notifications(&app, &other_sup, "").await.total, 0);

    // A comment notifies the (new) assignee, not its author.
    created::<TicketEventDto>(
        c1.post(app.url(&format!("/api/v1/tickets/{}/comments", tk.id)))
            .json(&json!({ "body": "Handing over" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        kinds(&notifications(&app, &ce1, "").await),
        ["comment", "escalated"]
    );
    assert_eq!(notifications(&app, &c1, "").await.total, 3);

    // Reading: unread first; one, then all.
    let list = notifications(&app, &c1, "?per_page=2").await;
    assert_eq!((list.total, list.unread, list.items.len()), (3, 3, 2));
    let newest = list.items[0].id;
    let read: NotificationDto = ok_json(
        c1.post(app.url(&format!("/api/v1/notifications/{newest}/read")))
            .send()
            .await,
    )
    .await;
    assert!(read.read_at.is_some());
    let list = notifications(&app, &c1, "").await;
    assert_eq!(list.unread, 2);
    assert_eq!(list.items.last().unwrap().id, newest, "read ones go last");
    assert!(list.items[..2].iter().all(|n| n.read_at.is_none()));
    assert_eq!(notifications(&app, &c1, "?unread=true").await.total, 2);
    // Someone else's notification is not there for them, in this tenant or another.
    problem(
        ce1.post(app.url(&format!("/api/v1/notifications/{}/read", list.items[0].id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let b = tenant(&app, "Escalation B").await;
    problem(
        b.admin
            .post(app.url(&format!("/api/v1/notifications/{}/read", list.items[0].id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(notifications(&app, &b.admin, "").await.total, 0);
    let marked: MarkedRead = ok_json(
        c1.post(app.url("/api/v1/notifications/read-all"))
            .send()
            .await,
    )
    .await;
    assert_eq!(marked.marked, 2);
    assert_eq!(notifications(&app, &c1, "").await.unread, 0);
    assert_eq!(
        notifications(&app, &ce1, "").await.unread,
        2,
        "others' stay unread"
    );
    problem(
        c1.get(app.url("/api/v1/notifications?per_page=0"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;

    // Closing stops the clock: a closed ticket is never warned or breached.
    let calm: TicketDto = created(
        a.post(app.url("/api/v1/tickets"))
            .json(&json!({ "type_id": ty.id, "subject": "Closed fast", "assignee_user_id": u1.id }))
            .send()
            .await,
    )
    .await;
    ok_json::<TicketDto>(
        c1.post(app.url(&format!("/api/v1/tickets/{}/move", calm.id)))
            .json(&json!({ "to": "done" }))
            .send()
            .await,
    )
    .await;
    sql(&app, &t, "UPDATE {schema}.tickets SET warn_at = now() - interval '2 hours', due_at = now() - interval '1 hour' WHERE id = $1", calm.id).await;
    let r = run_once(&app.state).await.unwrap();
    assert_eq!((r.warnings, r.breaches), (0, 0));
}

#[tokio::test]
async fn emails_reach_the_assignee_through_smtp() {
    let smtp = SmtpServer::start().await;
    let app = spawn(Some(smtp.port)).await;
    let t = tenant(&app, "Mail Co").await;
    // The sign-up's e-mail verification link leaves first (`outbound_verify.rs` reads it).
    assert_eq!(run_once(&app.state).await.unwrap().emails_sent, 1);
    let ty = ticket_type(&app, &t).await;
    let (agent, _) = t.user(&app, "mailme@mail.test", "Agent").await;
    let tk: TicketDto = created(
        t.admin
            .post(app.url("/api/v1/tickets"))
            .json(&json!({ "type_id": ty.id, "subject": "Broken pipe", "assignee_user_id": agent.id }))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        smtp.messages().len(),
        1,
        "requests never send e-mail themselves"
    );
    let r = run_once(&app.state).await.unwrap();
    assert_eq!((r.emails_sent, r.emails_failed), (1, 0));
    assert_eq!(
        run_once(&app.state).await.unwrap().emails_sent,
        0,
        "sent once"
    );
    let messages = smtp.messages();
    assert_eq!(messages.len(), 2);
    let m = messages
        .iter()
        .find(|m| m.contains("To: mailme@mail.test"))
        .expect("the assignee's e-mail");
    assert!(m.contains("To: mailme@mail.test"), "{m}");
    assert!(m.contains("From: Hotline <noreply@hotline.test>"), "{m}");
    let subject = format!(
        "Subject: [Hotline] Ticket #{} assigned to you: Broken pipe",
        tk.number
    );
    assert!(m.contains(&subject), "{m}");
    assert!(m.contains(&app.url(&format!("/tickets/{}", tk.id))), "{m}");
}
