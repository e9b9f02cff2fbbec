//! Tickets: workflow validation, automatic assignment by category → team, SLA deadlines and
//! breach, permissions on steps, history, the register's filters, and tenant isolation.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{api::Page, crm::CategoryDto, tickets::*};
use serde_json::{json, Value};

fn complaint_workflow() -> Value {
    json!({
        "name": "Complaint",
        "statuses": [
            { "key": "accepted", "name": "Accepted", "color": "#1f6feb", "initial": true },
            { "key": "in_work", "name": "In work", "color": "#d29922" },
            { "key": "awaiting_approval", "name": "Awaiting approval", "color": "#8250df" },
            { "key": "resolved", "name": "Resolved", "color": "#1a7f37", "final": true }
        ],
        "transitions": [
            { "from": "accepted", "to": "in_work", "name": "Start work" },
            { "from": "in_work", "to": "awaiting_approval", "name": "Ask approval" },
            { "from": "awaiting_approval", "to": "resolved", "name": "Approve", "permission": "tickets.admin" },
            { "from": "awaiting_approval", "to": "in_work", "name": "Reject", "permission": "tickets.admin" }
        ]
    })
}

async fn complaint_type(app: &TestApp, admin: &reqwest::Client) -> TicketTypeDto {
    created(
        admin
            .post(app.url("/api/v1/ticket-types"))
            .json(&complaint_workflow())
            .send()
            .await,
    )
    .await
}

async fn category(
    app: &TestApp,
    admin: &reqwest::Client,
    name: &str,
    parent: Option<uuid::Uuid>,
) -> CategoryDto {
    created(
        admin
            .post(app.url("/api/v1/categories"))
            .json(&json!({ "name": name, "parent_id": parent }))
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn workflow_assignment_sla_and_register() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Tickets Co").await;
    let a = &t.admin;

    // A workflow with an unreachable status is refused, naming it.
    let mut bad = complaint_workflow();
    bad["transitions"]
        .as_array_mut()
        .unwrap()
        .retain(|tr| tr["to"] != "awaiting_approval");
    let p = problem(
        a.post(app.url("/api/v1/ticket-types"))
            .json(&bad)
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        p.errors
            .iter()
            .any(|e| e.field == "statuses[2]" && e.message.contains("cannot be reached")),
        "{p:?}"
    );
    let ty = complaint_type(&app, a).await;

    // Category tree and a team of two agents for water complaints.
    let cat = |name: &'static str, parent| category(&app, a, name, parent);
    let complaint = cat("Complaint", None).await;
    let water = cat("Water", Some(complaint.id)).await;
    let leak = cat("Leak", Some(water.id)).await;
    let other = cat("Other", None).await;
    let team: Value = created(
        a.post(app.url("/api/v1/teams"))
            .json(&json!({ "name": "Water crew" }))
            .send()
            .await,
    )
    .await;
    let (u1, c1) = t.user(&app, "crew1@tickets.test", "Agent").await;
    let (u2, _c2) = t.user(&app, "crew2@tickets.test", "Agent").await;
    let (_, sup) = t.user(&app, "sup@tickets.test", "Supervisor").await;
    for u in [&u1, &u2] {
        ok_json::<Value>(
            a.patch(app.url(&format!("/api/v1/users/{}", u.id)))
                .json(&json!({ "team_id": team["id"] }))
                .send()
                .await,
        )
        .await;
    }
    created::<AssignmentRuleDto>(
        a.post(app.url("/api/v1/assignment-rules"))
            .json(&json!({ "type_id": ty.id, "category_id": water.id, "team_id": team["id"], "strategy": "round_robin" }))
            .send()
            .await,
    )
    .await;
    created::<SlaPolicyDto>(
        a.post(app.url("/api/v1/sla-policies"))
            .json(&json!({ "category_id": complaint.id, "resolve_minutes": 240 }))
            .send()
            .await,
    )
    .await;
    created::<SlaPolicyDto>(
        a.post(app.url("/api/v1/sla-policies"))
            .json(&json!({ "category_id": water.id, "priority": "urgent", "resolve_minutes": 30 }))
            .send()
            .await,
    )
    .await;

    // Tickets in Leak (under Water) go round-robin to the crew; the urgent one gets 30 minutes.
    let mk = |subject: &str, category: uuid::Uuid, priority: &str| {
        let c = c1.clone();
        let url = app.url("/api/v1/tickets");
        let body = json!({ "type_id": ty.id, "subject": subject, "category_id": category, "priority": priority });
        async move { created::<TicketDto>(c.post(url).json(&body).send().await).await }
    };
    let t1 = mk("Leak on Nizami street", leak.id, "urgent").await;
    let t2 = mk("Leak in the basement", leak.id, "normal").await;
    let t3 = mk("Another leak", leak.id, "normal").await;
    let t4 = mk("Noise", other.id, "normal").await;
    let assignees = [
        t1.assignee_user_id,
        t2.assignee_user_id,
        t3.assignee_user_id,
    ];
    assert!(assignees.iter().all(|x| x.is_some()));
    assert_ne!(assignees[0], assignees[1], "round-robin alternates");
    assert_eq!(assignees[0], assignees[2]);
    assert_eq!(
        t1.assignee_team_id.map(|x| x.to_string()),
        team["id"].as_str().map(String::from)
    );
    assert_eq!(t4.assignee_user_id, None, "no rule for Other");
    assert_eq!(t1.status.key, "accepted");
    assert_eq!(t1.status.color, "#1f6feb");
    assert_eq!(t1.category_path, ["Complaint", "Water", "Leak"]);
    let mins = |t: &TicketDto| (t.due_at.unwrap() - t.created_at).num_minutes();
    assert!((29..=30).contains(&mins(&t1)), "urgent water: 30 min");
    assert!(
        (239..=240).contains(&mins(&t2)),
        "complaint default: 240 min"
    );
    assert!(t4.due_at.is_none());

    // The assignee sees it in their register and works it through the workflow.
    let owner = if t1.assignee_user_id == Some(u1.id) {
        c1.clone()
    } else {
        login_client(&app, &t, "crew2@tickets.test").await
    };
    let mine: Page<TicketDto> = ok_json(
        owner
            .get(app.url("/api/v1/tickets?mine=true&open=true"))
            .send()
            .await,
    )
    .await;
    assert!(mine.items.iter().any(|x| x.id == t1.id));
    let mv = |c: &reqwest::Client, to: &str| {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/tickets/{}/move", t1.id));
        let body = json!({ "to": to, "comment": format!("to {to}") });
        async move { c.post(url).json(&body).send().await }
    };
    problem(mv(&owner, "resolved").await, 409, "invalid_transition").await;
    ok_json::<TicketDto>(mv(&owner, "in_work").await).await;
    ok_json::<TicketDto>(mv(&owner, "awaiting_approval").await).await;
    problem(mv(&owner, "resolved").await, 403, "forbidden").await;
    let done: TicketDto = ok_json(mv(&sup, "resolved").await).await;
    assert!(done.closed_at.is_some());
    assert!(!done.breached);
    let note: TicketEventDto = created(
        owner
            .post(app.url(&format!("/api/v1/tickets/{}/comments", t1.id)))
            .json(&json!({ "body": "Valve replaced", "internal": true }))
            .send()
            .await,
    )
    .await;
    assert_eq!(note.kind, "note");
    let history: Vec<TicketEventDto> = ok_json(
        owner
            .get(app.url(&format!("/api/v1/tickets/{}/events", t1.id)))
            .send()
            .await,
    )
    .await;
    let kinds: Vec<_> = history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["created", "status", "status", "status", "note"]);
    assert_eq!(history[3].details["to"], "resolved");

    // SLA breach shows once the due time passes (time moved forward in the database).
    let schema = format!("tenant_{}", t.info.tenant.id.simple());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {schema}.tickets SET due_at = now() - interval '1 second' WHERE id = $1"
    )))
    .bind(t2.id)
    .execute(&app.state.db)
    .await
    .unwrap();
    let breached: Page<TicketDto> =
        ok_json(a.get(app.url("/api/v1/tickets?breached=true")).send().await).await;
    assert_eq!(
        breached.items.iter().map(|x| x.id).collect::<Vec<_>>(),
        [t2.id]
    );
    assert!(breached.items[0].breached);
    let all: Page<TicketDto> = ok_json(a.get(app.url("/api/v1/tickets")).send().await).await;
    assert_eq!(all.items[0].id, t2.id, "breached tickets lead the register");
    // Search by text and by number.
    let found: Page<TicketDto> = ok_json(
        a.get(app.url("/api/v1/tickets"))
            .query(&[("q", "basement")])
            .send()
            .await,
    )
    .await;
    assert_eq!(found.total, 1);
    let by_number: Page<TicketDto> = ok_json(
        a.get(app.url("/api/v1/tickets"))
            .query(&[("q", format!("#{}", t3.number))])
            .send()
            .await,
    )
    .await;
    assert_eq!(by_number.items[0].id, t3.id);
    // Reassign by hand.
    let re: TicketDto = ok_json(
        a.post(app.url(&format!("/api/v1/tickets/{}/assign", t4.id)))
            .json(&json!({ "user_id": u2.id }))
            .send()
            .await,
    )
    .await;
    assert_eq!(re.assignee_user_id, Some(u2.id));
    // Bad input.
    let p = problem(
        c1.post(app.url("/api/v1/tickets"))
            .json(&json!({ "type_id": ty.id, "subject": "", "priority": "asap" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let mut f = field_names(&p);
    f.sort();
    assert_eq!(f, ["priority", "subject"]);
    problem(
        c1.post(app.url("/api/v1/ticket-types"))
            .json(&complaint_workflow())
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
}

async fn login_client(app: &TestApp, t: &Tenant, email: &str) -> reqwest::Client {
    let c = app.client();
    login(app, &c, t.slug(), email, PASSWORD).await;
    c
}

#[tokio::test]
async fn tickets_are_isolated_between_tenants() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Tix A").await;
    let b = tenant(&app, "Tix B").await;
    let ty: TicketTypeDto = created(
        a.admin
            .post(app.url("/api/v1/ticket-types"))
            .json(&complaint_workflow())
            .send()
            .await,
    )
    .await;
    let tk: TicketDto = created(
        a.admin
            .post(app.url("/api/v1/tickets"))
            .json(&json!({ "type_id": ty.id, "subject": "Secret leak" }))
            .send()
            .await,
    )
    .await;
    let sla: SlaPolicyDto = created(
        a.admin
            .post(app.url("/api/v1/sla-policies"))
            .json(&json!({ "resolve_minutes": 5 }))
            .send()
            .await,
    )
    .await;
    for (method, path, body) in [
        ("GET", format!("/api/v1/tickets/{}", tk.id), None),
        ("GET", format!("/api/v1/tickets/{}/events", tk.id), None),
        (
            "POST",
            format!("/api/v1/tickets/{}/move", tk.id),
            Some(json!({ "to": "in_work" })),
        ),
        (
            "POST",
            format!("/api/v1/tickets/{}/comments", tk.id),
            Some(json!({ "body": "x" })),
        ),
        (
            "POST",
            format!("/api/v1/tickets/{}/assign", tk.id),
            Some(json!({})),
        ),
        ("GET", format!("/api/v1/ticket-types/{}", ty.id), None),
        (
            "PUT",
            format!("/api/v1/ticket-types/{}", ty.id),
            Some(complaint_workflow()),
        ),
        ("DELETE", format!("/api/v1/sla-policies/{}", sla.id), None),
    ] {
        let mut req = b.admin.request(method.parse().unwrap(), app.url(&path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
    }
    // B cannot file a ticket of A's type, and finds none of A's tickets.
    problem(
        b.admin
            .post(app.url("/api/v1/tickets"))
            .json(&json!({ "type_id": ty.id, "subject": "x" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let page: Page<TicketDto> = ok_json(
        b.admin
            .get(app.url("/api/v1/tickets?q=secret"))
            .send()
            .await,
    )
    .await;
    assert_eq!(page.total, 0);
    // B sees only its own (default) ticket type, never A's.
    let types: Vec<TicketTypeDto> =
        ok_json(b.admin.get(app.url("/api/v1/ticket-types")).send().await).await;
    assert!(types.iter().all(|x| x.id != ty.id && x.name != "Complaint"));
    let t: TicketDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/tickets/{}", tk.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(t.status.key, "accepted");
}

fn ids(p: &Page<TicketDto>) -> Vec<uuid::Uuid> {
    let mut v: Vec<_> = p.items.iter().map(|t| t.id).collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<uuid::Uuid>) -> Vec<uuid::Uuid> {
    v.sort();
    v
}

#[tokio::test]
async fn saved_views_category_filter_and_comment_search() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Views Co").await;
    let a = &t.admin;
    let ty = complaint_type(&app, a).await;
    let cat = |name: &'static str, parent| category(&app, a, name, parent);
    let complaint = cat("Complaint", None).await;
    let water = cat("Water", Some(complaint.id)).await;
    let other = cat("Other", None).await;
    let (_, ag) = t.user(&app, "views1@tickets.test", "Agent").await;
    let (_, ag2) = t.user(&app, "views2@tickets.test", "Agent").await;
    let mk = |subject: &str, category: uuid::Uuid, priority: &str| {
        let c = ag.clone();
        let url = app.url("/api/v1/tickets");
        let body = json!({ "type_id": ty.id, "subject": subject, "category_id": category, "priority": priority });
        async move { created::<TicketDto>(c.post(url).json(&body).send().await).await }
    };
    let t1 = mk("Pipe burst", water.id, "urgent").await;
    let t2 = mk("Rude operator", complaint.id, "normal").await;
    let t3 = mk("Question about tariffs", other.id, "urgent").await;
    let list = |c: &reqwest::Client, query: Vec<(&str, String)>| {
        let req = c.get(app.url("/api/v1/tickets")).query(&query);
        async move { ok_json::<Page<TicketDto>>(req.send().await).await }
    };

    // Search covers comments and internal notes, not just subject and description.
    for (ticket, body, internal) in [
        (t2.id, "The METER was replaced", false),
        (t3.id, "called back about the valve", true),
    ] {
        created::<TicketEventDto>(
            ag.post(app.url(&format!("/api/v1/tickets/{ticket}/comments")))
                .json(&json!({ "body": body, "internal": internal }))
                .send()
                .await,
        )
        .await;
    }
    assert_eq!(ids(&list(&ag, vec![("q", "meter".into())]).await), [t2.id]);
    assert_eq!(ids(&list(&ag, vec![("q", "valve".into())]).await), [t3.id]);
    assert_eq!(ids(&list(&ag, vec![("q", "burst".into())]).await), [t1.id]);
    assert_eq!(
        list(&ag, vec![("q", "nothing-like-this".into())])
            .await
            .total,
        0
    );
    // A category includes its sub-categories.
    assert_eq!(
        ids(&list(&ag, vec![("category_id", complaint.id.to_string())]).await),
        sorted(vec![t1.id, t2.id])
    );
    assert_eq!(
        ids(&list(&ag, vec![("category_id", water.id.to_string())]).await),
        [t1.id]
    );

    // A private view: saved filters apply through `view`; parameters given with it win.
    let urgent_complaints: TicketViewDto = created(
        ag.post(app.url("/api/v1/ticket-views"))
            .json(&json!({ "name": "Urgent complaints", "filters": { "category_id": complaint.id, "priority": "urgent" } }))
            .send()
            .await,
    )
    .await;
    assert!(!urgent_complaints.shared);
    assert_eq!(
        urgent_complaints.filters.priority.as_deref(),
        Some("urgent")
    );
    let v = urgent_complaints.id.to_string();
    assert_eq!(ids(&list(&ag, vec![("view", v.clone())]).await), [t1.id]);
    assert_eq!(
        ids(&list(
            &ag,
            vec![("view", v.clone()), ("priority", "normal".into())]
        )
        .await),
        [t2.id]
    );
    // Same name twice, bad filters, sharing without tickets.admin.
    problem(
        ag.post(app.url("/api/v1/ticket-views"))
            .json(&json!({ "name": "urgent COMPLAINTS" }))
            .send()
            .await,
        409,
        "name_taken",
    )
    .await;
    let p = problem(
        ag.post(app.url("/api/v1/ticket-views"))
            .json(&json!({ "name": " ", "filters": { "priority": "asap" } }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let mut f = field_names(&p);
    f.sort();
    assert_eq!(f, ["filters.priority", "name"]);
    problem(
        ag.post(app.url("/api/v1/ticket-views"))
            .json(&json!({ "name": "Everyone's", "shared": true }))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;

    // A shared view (tickets.admin) is listed for everyone; private ones only for their owner.
    let shared: TicketViewDto = created(
        a.post(app.url("/api/v1/ticket-views"))
            .json(&json!({ "name": "Mentions a meter", "shared": true, "filters": { "q": "meter", "open": true } }))
            .send()
            .await,
    )
    .await;
    let views = |c: &reqwest::Client| {
        let req = c.get(app.url("/api/v1/ticket-views"));
        async move {
            ok_json::<Vec<TicketViewDto>>(req.send().await)
                .await
                .into_iter()
                .map(|v| v.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(views(&ag).await, ["Mentions a meter", "Urgent complaints"]);
    assert_eq!(views(&ag2).await, ["Mentions a meter"]);
    assert_eq!(
        ids(&list(&ag2, vec![("view", shared.id.to_string())]).await),
        [t2.id]
    );
    // Someone else's private view is unknown to ag2, for use and for deletion.
    let p = problem(
        ag2.get(app.url("/api/v1/tickets"))
            .query(&[("view", &v)])
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["view"]);
    problem(
        ag2.delete(app.url(&format!("/api/v1/ticket-views/{v}")))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        ag.delete(app.url(&format!("/api/v1/ticket-views/{}", shared.id)))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
    for (c, id) in [(&ag, urgent_complaints.id), (a, shared.id)] {
        let r = c
            .delete(app.url(&format!("/api/v1/ticket-views/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    assert!(views(&ag).await.is_empty());
    let audit: Page<hotline_wire::api::AuditEntry> = ok_json(
        a.get(app.url("/api/v1/audit"))
            .query(&[("action", "ticket_view.")])
            .send()
            .await,
    )
    .await;
    assert_eq!(audit.total, 4, "two created, two deleted");

    // Another tenant: A's view ids and comment text reach nothing.
    let b = tenant(&app, "Views B").await;
    let mine: TicketViewDto = created(
        a.post(app.url("/api/v1/ticket-views"))
            .json(&json!({ "name": "All urgent", "shared": true, "filters": { "priority": "urgent" } }))
            .send()
            .await,
    )
    .await;
    problem(
        b.admin
            .get(app.url("/api/v1/tickets"))
            .query(&[("view", mine.id.to_string())])
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        b.admin
            .delete(app.url(&format!("/api/v1/ticket-views/{}", mine.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let listed: Vec<TicketViewDto> =
        ok_json(b.admin.get(app.url("/api/v1/ticket-views")).send().await).await;
    assert!(listed.is_empty());
    assert_eq!(list(&b.admin, vec![("q", "meter".into())]).await.total, 0);
}

#[tokio::test]
async fn type_status_and_move_names_are_translated_validated_and_kept_per_tenant() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Tr A").await;
    let b = tenant(&app, "Tr B").await;
    let mut w = complaint_workflow();
    w["name_i18n"] = json!({ "ru": "Жалоба", "az": "Şikayət" });
    w["statuses"][0]["name_i18n"] = json!({ "ru": "Принята", "zh": "已受理" });
    w["transitions"][0]["name_i18n"] = json!({ "ru": "Начать работу", "pl": " Rozpocznij " });
    let ty: TicketTypeDto = created(
        a.admin
            .post(app.url("/api/v1/ticket-types"))
            .json(&w)
            .send()
            .await,
    )
    .await;
    assert_eq!(ty.name_i18n["ru"], "Жалоба");
    assert_eq!(ty.statuses[0].name_i18n["zh"], "已受理");
    assert!(ty.statuses[1].name_i18n.is_empty());
    // Move (button) names too, trimmed; a move without them has none.
    assert_eq!(ty.transitions[0].name, "Start work");
    assert_eq!(ty.transitions[0].name_i18n["ru"], "Начать работу");
    assert_eq!(ty.transitions[0].name_i18n["pl"], "Rozpocznij");
    assert!(ty.transitions[1].name_i18n.is_empty());

    // Edited: the status keeps its id (tickets keep it) and gets the new translations.
    let tk: TicketDto = created(
        a.admin
            .post(app.url("/api/v1/tickets"))
            .json(&json!({ "type_id": ty.id, "subject": "Translated" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(tk.status.name_i18n["ru"], "Принята");
    w["statuses"][0]["name_i18n"] = json!({ "ru": "Принята к работе", "pl": "Przyjęte" });
    w["statuses"][1]["name_i18n"] = json!({ "ru": "В работе" });
    w["transitions"][0]["name_i18n"] = json!({ "az": "İşə başla" });
    w["transitions"][2]["name_i18n"] = json!({ "zh": "批准" });
    let ty: TicketTypeDto = ok_json(
        a.admin
            .put(app.url(&format!("/api/v1/ticket-types/{}", ty.id)))
            .json(&w)
            .send()
            .await,
    )
    .await;
    let listed: Vec<TicketTypeDto> =
        ok_json(a.admin.get(app.url("/api/v1/ticket-types")).send().await).await;
    assert_eq!(listed.iter().find(|t| t.id == ty.id), Some(&ty));
    assert_eq!(ty.statuses[1].name_i18n["ru"], "В работе");
    // Moves are replaced on save: the new translations, not a merge.
    let by_name = |n: &str| ty.transitions.iter().find(|t| t.name == n).unwrap();
    assert_eq!(
        serde_json::to_value(&by_name("Start work").name_i18n).unwrap(),
        json!({ "az": "İşə başla" })
    );
    assert_eq!(by_name("Approve").name_i18n["zh"], "批准");
    let tk: TicketDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/tickets/{}", tk.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(tk.status.name_i18n["ru"], "Принята к работе");
    assert_eq!(tk.status.name_i18n["pl"], "Przyjęte");

    // Bad language keys and over-long values are refused, naming the entry.
    for (status, value, field) in [
        (None, json!({ "de": "Beschwerde" }), "name_i18n.de"),
        (None, json!({ "ru": "Ж".repeat(201) }), "name_i18n.ru"),
        (
            Some(2),
            json!({ "EN": "Awaiting" }),
            "statuses[2].name_i18n.EN",
        ),
        (
            Some(1),
            json!({ "zh": "进".repeat(201) }),
            "statuses[1].name_i18n.zh",
        ),
        (
            Some(10 + 3),
            json!({ "fr": "Rejeter" }),
            "transitions[3].name_i18n.fr",
        ),
        (
            Some(10 + 1),
            json!({ "ru": "  " }),
            "transitions[1].name_i18n.ru",
        ),
    ] {
        let mut bad = complaint_workflow();
        match status {
            None => bad["name_i18n"] = value,
            Some(i) if i >= 10 => bad["transitions"][i - 10]["name_i18n"] = value,
            Some(i) => bad["statuses"][i]["name_i18n"] = value,
        }
        let p = problem(
            a.admin
                .put(app.url(&format!("/api/v1/ticket-types/{}", ty.id)))
                .json(&bad)
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_names(&p), [field]);
    }
    // Nothing of those was saved.
    let again: Vec<TicketTypeDto> =
        ok_json(a.admin.get(app.url("/api/v1/ticket-types")).send().await).await;
    assert_eq!(again.iter().find(|t| t.id == ty.id), Some(&ty));

    // The other tenant sees none of it and cannot change it.
    let theirs: Vec<TicketTypeDto> =
        ok_json(b.admin.get(app.url("/api/v1/ticket-types")).send().await).await;
    assert!(theirs
        .iter()
        .all(|t| t.id != ty.id && !t.name_i18n.values().any(|v| v == "Жалоба")));
    problem(
        b.admin
            .put(app.url(&format!("/api/v1/ticket-types/{}", ty.id)))
            .json(&w)
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
}

/// Renaming a type to another type's name is the same 409 as creating one (not a 500); the
/// admin screen lets a name be edited.
#[tokio::test]
async fn renaming_a_ticket_type_to_a_taken_name_is_a_conflict() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Tix Rename").await;
    let ty = complaint_type(&app, &t.admin).await;
    let mut body = complaint_workflow();
    body["name"] = json!("Service request"); // the default type every tenant starts with
    problem(
        t.admin
            .put(app.url(&format!("/api/v1/ticket-types/{}", ty.id)))
            .json(&body)
            .send()
            .await,
        409,
        "name_taken",
    )
    .await;
}
