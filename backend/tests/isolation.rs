//! Tenant isolation: with tenant A's credentials, every endpoint called on tenant B's ids
//! answers 404 (never 403, which would leak existence), lists never show B's rows, and B's
//! data is unchanged afterwards.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use serde_json::{json, Value};
use uuid::Uuid;

struct Ids {
    user: Uuid,
    team: Uuid,
    skill: Uuid,
    queue: Uuid,
    reason: Uuid,
    role: Uuid,
    key: Uuid,
}

async fn populate(app: &TestApp, t: &Tenant, tag: &str) -> Ids {
    let post = |path: &str, body: Value| {
        let c = t.admin.clone();
        let url = app.url(path);
        async move { created::<Value>(c.post(url).json(&body).send().await).await }
    };
    let id = |v: &Value| Uuid::parse_str(v["id"].as_str().unwrap()).unwrap();
    let team = id(&post("/api/v1/teams", json!({ "name": format!("{tag} team") })).await);
    let skill = id(&post("/api/v1/skills", json!({ "name": format!("{tag} skill") })).await);
    let queue = id(&post(
        "/api/v1/queues",
        json!({ "name": format!("{tag} queue"), "strategy": "skills_based", "max_wait_seconds": 60,
                "wrap_up_seconds": 10, "required_skills": [{ "skill_id": skill, "level": 2 }] }),
    )
    .await);
    let reason = id(&post(
        "/api/v1/reason-codes",
        json!({ "name": format!("{tag} reason"), "kind": "break" }),
    )
    .await);
    let role = id(&post(
        "/api/v1/roles",
        json!({ "name": format!("{tag} role"), "permissions": ["users.read"] }),
    )
    .await);
    let user = id(&post(
        "/api/v1/users",
        json!({ "email": format!("agent@{tag}.test"), "name": format!("{tag} agent"), "password": PASSWORD,
                "role_id": role, "team_id": team, "skills": [{ "skill_id": skill, "level": 5 }] }),
    )
    .await);
    let key = id(&post(
        "/api/v1/api-keys",
        json!({ "name": format!("{tag} key"), "role_id": role }),
    )
    .await["key"]);
    Ids {
        user,
        team,
        skill,
        queue,
        reason,
        role,
        key,
    }
}

#[tokio::test]
async fn tenant_a_cannot_read_or_change_tenant_b() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Tenant A").await;
    let b = tenant(&app, "Tenant B").await;
    let a_ids = populate(&app, &a, "alpha").await;
    let b_ids = populate(&app, &b, "beta").await;
    let b_admin = b.info.user.id;

    // Every route with an id, called by A on B's ids.
    let u = |p: String| app.url(&p);
    let requests: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/users/{}", b_ids.user), None),
        (
            "PATCH",
            format!("/api/v1/users/{}", b_ids.user),
            Some(json!({ "name": "hacked" })),
        ),
        ("DELETE", format!("/api/v1/users/{}", b_ids.user), None),
        ("DELETE", format!("/api/v1/users/{b_admin}"), None),
        (
            "POST",
            format!("/api/v1/users/{}/reset-password", b_ids.user),
            Some(json!({ "new_password": "taken over!!" })),
        ),
        ("GET", format!("/api/v1/teams/{}", b_ids.team), None),
        (
            "PUT",
            format!("/api/v1/teams/{}", b_ids.team),
            Some(json!({ "name": "hacked" })),
        ),
        ("DELETE", format!("/api/v1/teams/{}", b_ids.team), None),
        ("GET", format!("/api/v1/skills/{}", b_ids.skill), None),
        (
            "PUT",
            format!("/api/v1/skills/{}", b_ids.skill),
            Some(json!({ "name": "hacked" })),
        ),
        ("DELETE", format!("/api/v1/skills/{}", b_ids.skill), None),
        ("GET", format!("/api/v1/queues/{}", b_ids.queue), None),
        (
            "PUT",
            format!("/api/v1/queues/{}", b_ids.queue),
            Some(
                json!({ "name": "hacked", "strategy": "ring_all", "max_wait_seconds": 1, "wrap_up_seconds": 1 }),
            ),
        ),
        ("DELETE", format!("/api/v1/queues/{}", b_ids.queue), None),
        (
            "PUT",
            format!("/api/v1/reason-codes/{}", b_ids.reason),
            Some(json!({ "name": "hacked", "kind": "break" })),
        ),
        (
            "DELETE",
            format!("/api/v1/reason-codes/{}", b_ids.reason),
            None,
        ),
        ("GET", format!("/api/v1/roles/{}", b_ids.role), None),
        (
            "PUT",
            format!("/api/v1/roles/{}", b_ids.role),
            Some(json!({ "name": "hacked", "permissions": [] })),
        ),
        ("DELETE", format!("/api/v1/roles/{}", b_ids.role), None),
        ("DELETE", format!("/api/v1/api-keys/{}", b_ids.key), None),
    ];
    for (method, path, body) in requests {
        let mut req = a.admin.request(method.parse().unwrap(), u(path.clone()));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let p = problem(req.send().await, 404, "not_found").await;
        assert!(
            p.detail.is_none(),
            "{method} {path}: no detail that could leak"
        );
    }

    // References to B's ids inside A's own writes are refused too, never linked.
    let r = a
        .admin
        .patch(app.url(&format!("/api/v1/users/{}", a_ids.user)))
        .json(&json!({ "team_id": b_ids.team }))
        .send()
        .await;
    problem(r, 422, "validation_failed").await;
    let r = a
        .admin
        .patch(app.url(&format!("/api/v1/users/{}", a_ids.user)))
        .json(&json!({ "skills": [{ "skill_id": b_ids.skill, "level": 3 }] }))
        .send()
        .await;
    problem(r, 422, "validation_failed").await;

    // Lists and searches show only A's rows.
    let all_b: Vec<String> = [
        b_ids.user,
        b_ids.team,
        b_ids.skill,
        b_ids.queue,
        b_ids.reason,
        b_ids.role,
        b_ids.key,
        b_admin,
    ]
    .iter()
    .map(Uuid::to_string)
    .collect();
    for path in [
        "/api/v1/users?include_inactive=true&per_page=200",
        "/api/v1/users?q=beta",
        "/api/v1/teams",
        "/api/v1/skills",
        "/api/v1/queues",
        "/api/v1/reason-codes",
        "/api/v1/roles",
        "/api/v1/api-keys",
        "/api/v1/audit?per_page=200",
    ] {
        let text = a
            .admin
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for id in &all_b {
            assert!(!text.contains(id.as_str()), "{path} leaked {id}: {text}");
        }
        assert!(!text.contains("beta"), "{path} leaked a name of B: {text}");
    }

    // A's API key cannot reach B either.
    let key: Value = created(
        a.admin
            .post(app.url("/api/v1/api-keys"))
            .json(&json!({ "name": "k", "role_id": a.role(&app, "Administrator").await.id }))
            .send()
            .await,
    )
    .await;
    let secret = key["secret"].as_str().unwrap();
    problem(
        app.client()
            .get(app.url(&format!("/api/v1/users/{}", b_ids.user)))
            .bearer_auth(secret)
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    // A key whose tenant part is rewritten to B's is not valid in B.
    let forged = secret.replacen(
        &a.info.tenant.id.simple().to_string(),
        &b.info.tenant.id.simple().to_string(),
        1,
    );
    problem(
        app.client()
            .get(app.url("/api/v1/users"))
            .bearer_auth(forged)
            .send()
            .await,
        401,
        "unauthenticated",
    )
    .await;

    // B is unchanged.
    let user: Value = ok_json(
        b.admin
            .get(app.url(&format!("/api/v1/users/{}", b_ids.user)))
            .send()
            .await,
    )
    .await;
    assert_eq!(user["name"], "beta agent");
    assert_eq!(user["active"], true);
    login(&app, &app.client(), b.slug(), "agent@beta.test", PASSWORD).await;
    let teams: Vec<Value> = ok_json(b.admin.get(app.url("/api/v1/teams")).send().await).await;
    assert_eq!(teams[0]["name"], "beta team");
    let queue: Value = ok_json(
        b.admin
            .get(app.url(&format!("/api/v1/queues/{}", b_ids.queue)))
            .send()
            .await,
    )
    .await;
    assert_eq!(queue["name"], "beta queue");
    let keys: Vec<Value> = ok_json(b.admin.get(app.url("/api/v1/api-keys")).send().await).await;
    assert_eq!(keys.len(), 1);
}

#[tokio::test]
async fn same_names_and_emails_live_side_by_side_in_two_tenants() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Twin One").await;
    let b = tenant(&app, "Twin Two").await;
    // The same agent e-mail in both tenants, each with its own password.
    a.user(&app, "same@twin.test", "Agent").await;
    b.user(&app, "same@twin.test", "Agent").await;
    let r = b
        .admin
        .post(app.url("/api/v1/skills"))
        .json(&json!({ "name": "Billing" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = a
        .admin
        .post(app.url("/api/v1/skills"))
        .json(&json!({ "name": "Billing" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let a_skills: Vec<Value> = ok_json(a.admin.get(app.url("/api/v1/skills")).send().await).await;
    assert_eq!(a_skills.len(), 1);
}
