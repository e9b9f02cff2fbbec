//! Scheduled callbacks: booked for oneself or, by a supervisor, for a member of their team
//! (sub-teams included, nobody else); at the time the owner's desktop gets the reminder over
//! its live WebSocket; done and cancelled ones stay closed; other tenants see nothing.

mod common;

use common::*;
use futures::StreamExt;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    api::UserDto,
    calls::{AgentEvent, ScheduledCallbackDto},
};
use reqwest::Client;
use serde_json::{json, Value};
use uuid::Uuid;

async fn member(
    app: &TestApp,
    a: &Tenant,
    email: &str,
    role: &str,
    team: Option<Uuid>,
) -> (UserDto, Client) {
    let role = a.role(app, role).await;
    let user: UserDto = created(
        a.admin
            .post(app.url("/api/v1/users"))
            .json(
                &json!({ "email": email, "name": email, "password": PASSWORD,
                           "role_id": role.id, "team_id": team }),
            )
            .send()
            .await,
    )
    .await;
    let c = app.client();
    login(app, &c, a.slug(), email, PASSWORD).await;
    (user, c)
}

async fn team(app: &TestApp, a: &Tenant, name: &str, parent: Option<Uuid>) -> Uuid {
    let t: Value = created(
        a.admin
            .post(app.url("/api/v1/teams"))
            .json(&json!({ "name": name, "parent_id": parent }))
            .send()
            .await,
    )
    .await;
    t["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_booked_callback_reminds_its_owner_at_the_time() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Sched Water").await;
    outbound_ready(&app, &a, &[]).await;
    let south = team(&app, &a, "South", None).await;
    let baku = team(&app, &a, "Baku", Some(south)).await;
    let north = team(&app, &a, "North", None).await;
    let (_sup, sc) = member(&app, &a, "sup@sched.test", "Supervisor", Some(south)).await;
    let (leyla, lc) = member(&app, &a, "leyla@sched.test", "Agent", Some(baku)).await;
    let (omar, oc) = member(&app, &a, "omar@sched.test", "Agent", Some(north)).await;
    let soon = |secs: i64| (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339();
    let book = |c: &Client, body: Value| {
        c.post(app.url("/api/v1/scheduled-callbacks"))
            .json(&body)
            .send()
    };

    // Bad input: a time in the past, not a number.
    let p = problem(
        book(
            &lc,
            json!({ "number": "call me", "due_at": "2020-01-01T10:00:00Z" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let mut f = field_names(&p);
    f.sort();
    assert_eq!(f, ["due_at", "number"]);
    // An agent cannot book for a colleague; the supervisor can for their sub-team only.
    problem(
        book(
            &oc,
            json!({ "number": "+15550008001", "due_at": soon(600), "owner_id": leyla.id }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    problem(
        book(
            &sc,
            json!({ "number": "+15550008001", "due_at": soon(600), "owner_id": omar.id }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let later: ScheduledCallbackDto = created(
        book(
            &sc,
            json!({ "number": "+15550008002", "due_at": soon(3600), "owner_id": leyla.id,
                          "note": "asked for the meter reader's visit time" }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (later.owner_id, later.status.as_str()),
        (leyla.id, "scheduled")
    );

    // Leyla's desktop is connected; she books one for herself in two seconds.
    let mut ws = desktop_socket(&app, a.slug(), "leyla@sched.test").await;
    let mine: ScheduledCallbackDto = created(
        book(
            &lc,
            json!({ "number": "+1 555 000 8003", "due_at": soon(2), "note": "confirm the refund" }),
        )
        .await,
    )
    .await;
    let reminder = tokio::time::timeout(std::time::Duration::from_secs(15), async {
        while let Some(Ok(m)) = ws.next().await {
            if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                if let Ok(ev @ AgentEvent::CallbackDue { .. }) =
                    serde_json::from_str::<AgentEvent>(&t)
                {
                    return ev;
                }
            }
        }
        panic!("the desktop socket closed");
    })
    .await
    .expect("no reminder within 15 s");
    match reminder {
        AgentEvent::CallbackDue {
            id, number, note, ..
        } => {
            assert_eq!(
                (id, number.as_str(), note.as_str()),
                (mine.id, "+15550008003", "confirm the refund")
            );
        }
        other => panic!("{other:?}"),
    }
    // Her list: the due one first, then the one her supervisor booked.
    let list: Vec<ScheduledCallbackDto> =
        ok_json(lc.get(app.url("/api/v1/scheduled-callbacks")).send().await).await;
    let seen: Vec<(Uuid, &str)> = list.iter().map(|c| (c.id, c.status.as_str())).collect();
    assert_eq!(seen, [(mine.id, "due"), (later.id, "scheduled")]);
    // Done once; not twice.
    let r = lc
        .post(app.url(&format!("/api/v1/scheduled-callbacks/{}/done", mine.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    problem(
        lc.post(app.url(&format!("/api/v1/scheduled-callbacks/{}/done", mine.id)))
            .send()
            .await,
        409,
        "callback_closed",
    )
    .await;
    // Omar cannot see or cancel Leyla's; the supervisor can cancel it.
    let r = oc
        .delete(app.url(&format!("/api/v1/scheduled-callbacks/{}", later.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = sc
        .delete(app.url(&format!("/api/v1/scheduled-callbacks/{}", later.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let list: Vec<ScheduledCallbackDto> =
        ok_json(lc.get(app.url("/api/v1/scheduled-callbacks")).send().await).await;
    assert!(list.is_empty(), "{list:?}");
    // Another tenant's admin sees nothing of it.
    let b = tenant(&app, "Sched Power").await;
    let r = b
        .admin
        .put(app.url(&format!("/api/v1/scheduled-callbacks/{}", mine.id)))
        .json(&json!({ "number": "+15550008009", "due_at": soon(60) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
