//! CRM (template, customers, screen pop, search, merge), categories and interactions, and the
//! knowledge base (versions, workflow, typo-tolerant search), each with tenant isolation.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{api::Page, crm::*};
use serde_json::{json, Value};

async fn template(app: &TestApp, t: &Tenant) {
    for f in [
        json!({ "key": "account", "label": "Account no.", "kind": "text", "required": true, "position": 1 }),
        json!({ "key": "district", "label": "District", "kind": "choice", "options": ["Nasimi", "Sabail"], "position": 2 }),
        json!({ "key": "debt", "label": "Debt", "kind": "number", "position": 3 }),
        json!({ "key": "since", "label": "Customer since", "kind": "date", "position": 4 }),
    ] {
        created::<CustomerFieldDto>(
            t.admin
                .post(app.url("/api/v1/customer-fields"))
                .json(&f)
                .send()
                .await,
        )
        .await;
    }
}

#[tokio::test]
async fn customer_template_validation_screen_pop_search_and_merge() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Crm Co").await;
    template(&app, &t).await;
    let a = &t.admin;
    // Template rules.
    let p = problem(
        a.post(app.url("/api/v1/customer-fields"))
            .json(&json!({ "key": "X y", "label": "", "kind": "colour" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let mut f = field_names(&p);
    f.sort();
    assert_eq!(f, ["key", "kind", "label"]);
    problem(
        a.post(app.url("/api/v1/customer-fields"))
            .json(&json!({ "key": "debt", "label": "Debt 2", "kind": "number" }))
            .send()
            .await,
        409,
        "key_taken",
    )
    .await;
    let fields: Vec<CustomerFieldDto> =
        ok_json(a.get(app.url("/api/v1/customer-fields")).send().await).await;
    let debt = fields.iter().find(|f| f.key == "debt").unwrap();
    let p = problem(
        a.put(app.url(&format!("/api/v1/customer-fields/{}", debt.id)))
            .json(&json!({ "key": "debt", "label": "Debt", "kind": "text" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["kind"]);

    // Values are checked against the template.
    let p = problem(
        a.post(app.url("/api/v1/customers"))
            .json(&json!({ "name": "Bad", "phones": [{ "number": "call me" }],
                           "fields": { "district": "Mars", "debt": "lots", "since": "31/01/2020", "shoe_size": 42 } }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let mut f = field_names(&p);
    f.sort();
    assert_eq!(
        f,
        [
            "fields.account",
            "fields.debt",
            "fields.district",
            "fields.shoe_size",
            "fields.since",
            "phones[0].number"
        ]
    );

    // National numbers need the tenant's country code.
    ok_json::<Value>(
        a.put(app.url("/api/v1/settings/crm"))
            .json(&json!({ "country_code": "994" }))
            .send()
            .await,
    )
    .await;
    let aysel: CustomerDto = created(
        a.post(app.url("/api/v1/customers"))
            .json(&json!({ "name": "Aysel Mammadova", "phones": [{ "number": "(012) 555-01-00", "label": "home" }, { "number": "+994 50 111 22 33" }],
                           "fields": { "account": "A-100", "district": "Nasimi", "debt": "12.5", "since": "2020-01-31" } }))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        aysel
            .phones
            .iter()
            .map(|p| p.number.as_str())
            .collect::<Vec<_>>(),
        ["+994125550100", "+994501112233"]
    );
    assert_eq!(aysel.fields["debt"], json!(12.5));

    // Screen pop by caller number, in any notation.
    let (_, agent) = t.user(&app, "agent@crm.test", "Agent").await;
    let pop: CustomerLookup = ok_json(
        agent
            .get(app.url("/api/v1/customers/lookup?phone=%2B994125550100"))
            .send()
            .await,
    )
    .await;
    assert_eq!(pop.matches.len(), 1);
    assert_eq!(pop.matches[0].id, aysel.id);
    let pop: CustomerLookup = ok_json(
        agent
            .get(app.url("/api/v1/customers/lookup?phone=0125550100"))
            .send()
            .await,
    )
    .await;
    assert_eq!(pop.matches[0].id, aysel.id);
    let pop: CustomerLookup = ok_json(
        agent
            .get(app.url("/api/v1/customers/lookup?phone=%2B48221234567"))
            .send()
            .await,
    )
    .await;
    assert!(pop.matches.is_empty(), "a new caller gets an empty card");
    assert_eq!(pop.number, "+48221234567");
    problem(
        agent
            .get(app.url("/api/v1/customers/lookup?phone=abc"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;

    // Search by a fragment of the name, a field value, a number.
    for q in ["mammad", "A-100", "nasimi", "050 111 22 33"] {
        let page: Page<CustomerDto> = ok_json(
            agent
                .get(app.url("/api/v1/customers"))
                .query(&[("q", q)])
                .send()
                .await,
        )
        .await;
        assert_eq!(page.total, 1, "search {q:?}");
    }

    // Deactivating a field keeps its values.
    ok_json::<Value>(
        a.put(app.url(&format!("/api/v1/customer-fields/{}", debt.id)))
            .json(&json!({ "key": "debt", "label": "Debt", "kind": "number", "active": false }))
            .send()
            .await,
    )
    .await;
    let edited: CustomerDto = ok_json(
        agent
            .put(app.url(&format!("/api/v1/customers/{}", aysel.id)))
            .json(&json!({ "name": "Aysel Mammadova", "phones": aysel.phones, "fields": { "account": "A-100", "district": "Sabail" } }))
            .send()
            .await,
    )
    .await;
    assert_eq!(edited.fields["district"], "Sabail");
    assert_eq!(
        edited.fields["debt"],
        json!(12.5),
        "the deactivated field's value survives"
    );

    // Merge a duplicate: its number and history move over; it is no longer listed.
    let dup: CustomerDto = created(
        a.post(app.url("/api/v1/customers"))
            .json(&json!({ "name": "A. Mammadova", "phones": [{ "number": "+994702223344" }], "fields": { "account": "A-100-dup" } }))
            .send()
            .await,
    )
    .await;
    let i: InteractionDto = created(
        agent
            .post(app.url("/api/v1/interactions"))
            .json(&json!({ "customer_id": dup.id, "channel": "call", "notes": "old call" }))
            .send()
            .await,
    )
    .await;
    problem(
        agent
            .post(app.url(&format!("/api/v1/customers/{}/merge", aysel.id)))
            .json(&json!({ "duplicate_id": dup.id }))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
    let merged: CustomerDto = ok_json(
        a.post(app.url(&format!("/api/v1/customers/{}/merge", aysel.id)))
            .json(&json!({ "duplicate_id": dup.id }))
            .send()
            .await,
    )
    .await;
    assert_eq!(merged.phones.len(), 3);
    assert_eq!(
        merged.fields["account"], "A-100",
        "the kept customer's values win"
    );
    problem(
        a.get(app.url(&format!("/api/v1/customers/{}", dup.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let history: Vec<InteractionDto> = ok_json(
        a.get(app.url(&format!("/api/v1/customers/{}/interactions", aysel.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(history[0].id, i.id);
    let pop: CustomerLookup = ok_json(
        agent
            .get(app.url("/api/v1/customers/lookup?phone=%2B994702223344"))
            .send()
            .await,
    )
    .await;
    assert_eq!(pop.matches[0].id, aysel.id);
}

async fn category(
    app: &TestApp,
    t: &Tenant,
    name: &str,
    parent: Option<uuid::Uuid>,
) -> CategoryDto {
    created(
        t.admin
            .post(app.url("/api/v1/categories"))
            .json(&json!({ "name": name, "parent_id": parent }))
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn kb_versions_workflow_search_and_interactions() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Kb Co").await;
    let (_, agent) = t.user(&app, "agent@kb.test", "Agent").await;
    let (_, sup) = t.user(&app, "sup@kb.test", "Supervisor").await;
    let water: KbCategoryDto = created(
        sup.post(app.url("/api/v1/kb/categories"))
            .json(&json!({ "name": "Water" }))
            .send()
            .await,
    )
    .await;
    let leaks: KbCategoryDto = created(
        sup.post(app.url("/api/v1/kb/categories"))
            .json(&json!({ "name": "Leaks", "parent_id": water.id }))
            .send()
            .await,
    )
    .await;
    problem(
        agent
            .post(app.url("/api/v1/kb/categories"))
            .json(&json!({ "name": "X" }))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;

    let art: KbArticleDto = created(
        sup.post(app.url("/api/v1/kb/articles"))
            .json(&json!({ "category_id": leaks.id, "title": "Reporting a water leak",
                           "body": "Version one. Close the main valve.<script>alert('x')</script>", "note": "first" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(art.version, 1);
    assert_eq!(art.status, "draft");
    assert!(!art.body.contains("<script"), "sanitised: {}", art.body);
    // Agents do not see drafts.
    problem(
        agent
            .get(app.url(&format!("/api/v1/kb/articles/{}", art.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    for (i, body) in [
        "Version two. Close the main valve and call us.",
        "Version three: a leak in the street? Call 112.",
    ]
    .iter()
    .enumerate()
    {
        let a: KbArticleDto = ok_json(
            sup.put(app.url(&format!("/api/v1/kb/articles/{}", art.id)))
                .json(&json!({ "category_id": leaks.id, "title": "Reporting a water leak", "body": body }))
                .send()
                .await,
        )
        .await;
        assert_eq!(a.version, i as i32 + 2);
    }
    let versions: Vec<KbVersionDto> = ok_json(
        sup.get(app.url(&format!("/api/v1/kb/articles/{}/versions", art.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    let restored: KbArticleDto = ok_json(
        sup.post(app.url(&format!(
            "/api/v1/kb/articles/{}/versions/1/restore",
            art.id
        )))
        .send()
        .await,
    )
    .await;
    assert_eq!(restored.version, 4);
    assert_eq!(
        restored.body, versions[2].body,
        "version 4 has version 1's content"
    );
    let diff: Vec<KbDiffLine> = ok_json(
        sup.get(app.url(&format!("/api/v1/kb/articles/{}/diff?from=1&to=3", art.id)))
            .send()
            .await,
    )
    .await;
    assert!(diff
        .iter()
        .any(|l| l.op == "+" && l.text.contains("Version three")));
    assert!(diff
        .iter()
        .any(|l| l.op == "-" && l.text.contains("Version one")));

    // Workflow: submit, only a reviewer approves, then agents see and find it.
    ok_json::<KbArticleDto>(
        sup.post(app.url(&format!("/api/v1/kb/articles/{}/transition", art.id)))
            .json(&json!({ "action": "submit" }))
            .send()
            .await,
    )
    .await;
    problem(
        sup.post(app.url(&format!("/api/v1/kb/articles/{}/transition", art.id)))
            .json(&json!({ "action": "submit" }))
            .send()
            .await,
        409,
        "invalid_transition",
    )
    .await;
    let published: KbArticleDto = ok_json(
        sup.post(app.url(&format!("/api/v1/kb/articles/{}/transition", art.id)))
            .json(&json!({ "action": "approve" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(published.status, "published");
    let seen: KbArticleDto = ok_json(
        agent
            .get(app.url(&format!("/api/v1/kb/articles/{}?view=true", art.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(seen.views, 1);

    // A misspelt search still finds it, with the match highlighted and everything escaped.
    let found: KbSearchResult = ok_json(
        agent
            .get(app.url("/api/v1/kb/search?q=watr%20leek"))
            .send()
            .await,
    )
    .await;
    assert_eq!(found.hits.len(), 1, "{found:?}");
    assert_eq!(found.hits[0].id, art.id);
    assert!(
        found
            .corrections
            .contains(&("leek".to_string(), "leak".to_string())),
        "{:?}",
        found.corrections
    );
    assert!(
        found.hits[0].snippet.contains("<mark>"),
        "{}",
        found.hits[0].snippet
    );
    let none: KbSearchResult =
        ok_json(agent.get(app.url("/api/v1/kb/search?q=zebra")).send().await).await;
    assert!(none.hits.is_empty());
    problem(
        agent
            .get(app.url("/api/v1/kb/search?q=%20%21"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;

    // The interaction: category tree path and the article used.
    let complaint = category(&app, &t, "Complaint", None).await;
    let w = category(&app, &t, "Water", Some(complaint.id)).await;
    let leak = category(&app, &t, "Leak", Some(w.id)).await;
    let p = problem(
        t.admin
            .put(app.url(&format!("/api/v1/categories/{}", complaint.id)))
            .json(&json!({ "name": "Complaint", "parent_id": leak.id }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["parent_id"]);
    let i: InteractionDto = created(
        agent
            .post(app.url("/api/v1/interactions"))
            .json(&json!({ "channel": "call", "phone": "+994125550100", "category_id": leak.id }))
            .send()
            .await,
    )
    .await;
    assert_eq!(i.category_path, ["Complaint", "Water", "Leak"]);
    let i: InteractionDto = ok_json(
        agent
            .post(app.url(&format!("/api/v1/interactions/{}/articles", i.id)))
            .json(&json!({ "article_id": art.id }))
            .send()
            .await,
    )
    .await;
    assert_eq!(i.articles.len(), 1);
    assert_eq!(i.articles[0].version, 4);

    // Agents read the knowledge base but cannot edit it.
    problem(
        agent
            .put(app.url(&format!("/api/v1/kb/articles/{}", art.id)))
            .json(&json!({ "category_id": leaks.id, "title": "x", "body": "y" }))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
}

/// Creates an article as the tenant's admin and, unless `draft`, submits and approves it.
async fn kb_article(
    app: &TestApp,
    t: &Tenant,
    category: uuid::Uuid,
    title: &str,
    body: &str,
    draft: bool,
) -> KbArticleDto {
    let a: KbArticleDto = created(
        t.admin
            .post(app.url("/api/v1/kb/articles"))
            .json(&json!({ "category_id": category, "title": title, "body": body }))
            .send()
            .await,
    )
    .await;
    if draft {
        return a;
    }
    for action in ["submit", "approve"] {
        ok_json::<KbArticleDto>(
            t.admin
                .post(app.url(&format!("/api/v1/kb/articles/{}/transition", a.id)))
                .json(&json!({ "action": action }))
                .send()
                .await,
        )
        .await;
    }
    a
}

async fn kb_search(client: &reqwest::Client, app: &TestApp, query: &str) -> KbSearchResult {
    ok_json(
        client
            .get(app.url(&format!("/api/v1/kb/search?{query}")))
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn kb_search_ranks_by_relevance_and_keeps_large_articles() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Kb Rank Co").await;
    let (_, agent) = t.user(&app, "agent@rank.test", "Agent").await;
    let cat: KbCategoryDto = created(
        t.admin
            .post(app.url("/api/v1/kb/categories"))
            .json(&json!({ "name": "Plumbing" }))
            .send()
            .await,
    )
    .await;
    // The word in the title (weight A) and twice in the body beats it once in the body.
    let body_only = kb_article(
        &app,
        &t,
        cat.id,
        "Frozen pipes",
        "If a pipe bursts in winter, close the valve and call us.",
        false,
    )
    .await;
    let title = kb_article(
        &app,
        &t,
        cat.id,
        "Valve replacement",
        "Turn the valve clockwise, then check the valve for drips.",
        false,
    )
    .await;
    // An article whose search vector is too large to stay in its row (it goes out of line):
    // 20,000 distinct words, the searched one last.
    let mut long: String = (0..20_000).map(|i| format!("w{i}q ")).collect();
    long.push_str("the valve at the end");
    let large = kb_article(&app, &t, cat.id, "Big manual", &long, false).await;
    let draft = kb_article(&app, &t, cat.id, "Valve draft", "Valve valve valve.", true).await;

    let found = kb_search(&agent, &app, "q=valve").await;
    let ids: Vec<_> = found.hits.iter().map(|h| h.id).collect();
    assert_eq!(ids.len(), 3, "published only: {found:?}");
    assert_eq!(ids[0], title.id, "title match first: {found:?}");
    assert!(
        ids.contains(&body_only.id) && ids.contains(&large.id),
        "{found:?}"
    );
    assert!(!ids.contains(&draft.id));
    assert!(
        found.hits.windows(2).all(|w| w[0].rank >= w[1].rank),
        "ranked by relevance: {found:?}"
    );
    assert!(
        found.hits.iter().all(|h| h.snippet.contains("<mark>")),
        "{found:?}"
    );
    let big = found.hits.iter().find(|h| h.id == large.id).unwrap();
    assert!(
        big.snippet.contains("<mark>valve</mark>"),
        "{}",
        big.snippet
    );

    // The page is cut after ranking.
    let top = kb_search(&agent, &app, "q=valve&limit=1").await;
    assert_eq!(
        top.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        [title.id]
    );
    // Writers may include drafts; the draft says the word four times, title included.
    let all = kb_search(&t.admin, &app, "q=valve&all=true").await;
    assert_eq!(all.hits.len(), 4, "{all:?}");
    assert_eq!(all.hits[0].id, draft.id, "{all:?}");
    problem(
        agent
            .get(app.url("/api/v1/kb/search?q=valve&all=true"))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn crm_and_kb_are_isolated_between_tenants() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Iso A").await;
    let b = tenant(&app, "Iso B").await;
    let cust: CustomerDto = created(
        a.admin
            .post(app.url("/api/v1/customers"))
            .json(&json!({ "name": "Secret Customer", "phones": [{ "number": "+994125550199" }] }))
            .send()
            .await,
    )
    .await;
    let cat: KbCategoryDto = created(
        a.admin
            .post(app.url("/api/v1/kb/categories"))
            .json(&json!({ "name": "Secret" }))
            .send()
            .await,
    )
    .await;
    let art: KbArticleDto = created(
        a.admin.post(app.url("/api/v1/kb/articles")).json(&json!({ "category_id": cat.id, "title": "Secret valve", "body": "secret valve text" })).send().await,
    )
    .await;
    for action in ["submit", "approve"] {
        ok_json::<Value>(
            a.admin
                .post(app.url(&format!("/api/v1/kb/articles/{}/transition", art.id)))
                .json(&json!({ "action": action }))
                .send()
                .await,
        )
        .await;
    }
    let reqcat = category(&app, &a, "Secret cat", None).await;
    let inter: InteractionDto = created(
        a.admin
            .post(app.url("/api/v1/interactions"))
            .json(&json!({ "channel": "call", "customer_id": cust.id }))
            .send()
            .await,
    )
    .await;
    let field: CustomerFieldDto = created(
        a.admin
            .post(app.url("/api/v1/customer-fields"))
            .json(&json!({ "key": "secret", "label": "S", "kind": "text" }))
            .send()
            .await,
    )
    .await;

    let bb = &b.admin;
    let mine: CustomerDto = created(
        bb.post(app.url("/api/v1/customers"))
            .json(&json!({ "name": "Mine" }))
            .send()
            .await,
    )
    .await;
    let my_inter: InteractionDto = created(
        bb.post(app.url("/api/v1/interactions"))
            .json(&json!({ "channel": "manual" }))
            .send()
            .await,
    )
    .await;
    for (method, path, body) in [
        ("GET", format!("/api/v1/customers/{}", cust.id), None),
        (
            "PUT",
            format!("/api/v1/customers/{}", cust.id),
            Some(json!({ "name": "x" })),
        ),
        (
            "GET",
            format!("/api/v1/customers/{}/interactions", cust.id),
            None,
        ),
        (
            "POST",
            format!("/api/v1/customers/{}/merge", cust.id),
            Some(json!({ "duplicate_id": mine.id })),
        ),
        (
            "POST",
            format!("/api/v1/customers/{}/merge", mine.id),
            Some(json!({ "duplicate_id": cust.id })),
        ),
        (
            "PUT",
            format!("/api/v1/customer-fields/{}", field.id),
            Some(json!({ "key": "secret", "label": "x", "kind": "text" })),
        ),
        (
            "PUT",
            format!("/api/v1/categories/{}", reqcat.id),
            Some(json!({ "name": "x" })),
        ),
        ("DELETE", format!("/api/v1/categories/{}", reqcat.id), None),
        ("GET", format!("/api/v1/interactions/{}", inter.id), None),
        (
            "PATCH",
            format!("/api/v1/interactions/{}", inter.id),
            Some(json!({ "notes": "x" })),
        ),
        (
            "POST",
            format!("/api/v1/interactions/{}/articles", inter.id),
            Some(json!({ "article_id": art.id })),
        ),
        ("GET", format!("/api/v1/kb/articles/{}", art.id), None),
        (
            "PUT",
            format!("/api/v1/kb/articles/{}", art.id),
            Some(json!({ "category_id": cat.id, "title": "x", "body": "y" })),
        ),
        (
            "GET",
            format!("/api/v1/kb/articles/{}/versions", art.id),
            None,
        ),
        (
            "POST",
            format!("/api/v1/kb/articles/{}/versions/1/restore", art.id),
            None,
        ),
        (
            "GET",
            format!("/api/v1/kb/articles/{}/diff?from=1&to=1", art.id),
            None,
        ),
        (
            "POST",
            format!("/api/v1/kb/articles/{}/transition", art.id),
            Some(json!({ "action": "archive" })),
        ),
        (
            "PUT",
            format!("/api/v1/kb/categories/{}", cat.id),
            Some(json!({ "name": "x" })),
        ),
        ("DELETE", format!("/api/v1/kb/categories/{}", cat.id), None),
    ] {
        let mut req = bb.request(method.parse().unwrap(), app.url(&path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        assert_eq!(
            r.status(),
            404,
            "{method} {path}: {}",
            r.text().await.unwrap_or_default()
        );
    }
    // References to A's rows from B's own records are refused, not linked.
    let r = bb
        .post(app.url(&format!("/api/v1/interactions/{}/articles", my_inter.id)))
        .json(&json!({ "article_id": art.id }))
        .send()
        .await;
    problem(r, 422, "validation_failed").await;
    let r = bb
        .patch(app.url(&format!("/api/v1/interactions/{}", my_inter.id)))
        .json(&json!({ "customer_id": cust.id }))
        .send()
        .await;
    problem(r, 422, "validation_failed").await;
    // Searches find nothing of A's.
    let pop: CustomerLookup = ok_json(
        bb.get(app.url("/api/v1/customers/lookup?phone=%2B994125550199"))
            .send()
            .await,
    )
    .await;
    assert!(pop.matches.is_empty());
    let page: Page<CustomerDto> =
        ok_json(bb.get(app.url("/api/v1/customers?q=secret")).send().await).await;
    assert_eq!(page.total, 0);
    let found: KbSearchResult = ok_json(
        bb.get(app.url("/api/v1/kb/search?q=secret%20valve"))
            .send()
            .await,
    )
    .await;
    assert!(found.hits.is_empty());
    for path in [
        "/api/v1/customer-fields",
        "/api/v1/categories",
        "/api/v1/kb/categories",
        "/api/v1/kb/articles",
        "/api/v1/customers",
    ] {
        let text = bb
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.to_lowercase().contains("secret"), "{path}: {text}");
    }
    // And A's data is intact.
    let c: CustomerDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/customers/{}", cust.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(c.name, "Secret Customer");
    let k: KbArticleDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/kb/articles/{}", art.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(k.status, "published");
}

#[tokio::test]
async fn category_names_are_translated_validated_and_kept_per_tenant() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Names A").await;
    let b = tenant(&app, "Names B").await;
    // Created with translations; an old client's body (no name_i18n) still works.
    let root: CategoryDto = created(
        a.admin
            .post(app.url("/api/v1/categories"))
            .json(&json!({ "name": "Complaint",
                           "name_i18n": { "ru": " Жалоба ", "pl": "Reklamacja" } }))
            .send()
            .await,
    )
    .await;
    assert_eq!(root.name_i18n["ru"], "Жалоба");
    assert_eq!(root.name_i18n.len(), 2);
    let leak = category(&app, &a, "Leak", Some(root.id)).await;
    assert!(leak.name_i18n.is_empty());
    let leak: CategoryDto = ok_json(
        a.admin
            .put(app.url(&format!("/api/v1/categories/{}", leak.id)))
            .json(&json!({ "name": "Leak", "parent_id": root.id,
                           "name_i18n": { "ru": "Протечка", "zh": "漏水" } }))
            .send()
            .await,
    )
    .await;
    let listed: Vec<CategoryDto> =
        ok_json(a.admin.get(app.url("/api/v1/categories")).send().await).await;
    let got = listed.iter().find(|c| c.id == leak.id).unwrap();
    assert_eq!(got.name_i18n, leak.name_i18n);
    assert_eq!(got.name_i18n["zh"], "漏水");

    // An interaction's path carries each name's translations.
    let i: InteractionDto = created(
        a.admin
            .post(app.url("/api/v1/interactions"))
            .json(&json!({ "channel": "manual", "category_id": leak.id }))
            .send()
            .await,
    )
    .await;
    assert_eq!(i.category_path, ["Complaint", "Leak"]);
    let ru: Vec<Option<&str>> = i
        .category_path_i18n
        .iter()
        .map(|m| m.get("ru").map(String::as_str))
        .collect();
    assert_eq!(ru, [Some("Жалоба"), Some("Протечка")]);

    // Unknown language, too long, empty, NUL: 422 naming the entry.
    for (i18n, field) in [
        (json!({ "fr": "Plainte" }), "name_i18n.fr"),
        (json!({ "ru": "Ж".repeat(201) }), "name_i18n.ru"),
        (json!({ "zh": "  " }), "name_i18n.zh"),
        (json!({ "pl": "a\u{0}b" }), "name_i18n.pl"),
    ] {
        let p = problem(
            a.admin
                .post(app.url("/api/v1/categories"))
                .json(&json!({ "name": "Other", "name_i18n": i18n }))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_names(&p), [field]);
        let p = problem(
            a.admin
                .put(app.url(&format!("/api/v1/categories/{}", root.id)))
                .json(&json!({ "name": "Complaint", "name_i18n": i18n }))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_names(&p), [field]);
    }
    // 200 characters are fine.
    let ok: CategoryDto = ok_json(
        a.admin
            .put(app.url(&format!("/api/v1/categories/{}", root.id)))
            .json(&json!({ "name": "Complaint", "name_i18n": { "ru": "Ж".repeat(200) } }))
            .send()
            .await,
    )
    .await;
    assert_eq!(ok.name_i18n["ru"].chars().count(), 200);

    // The other tenant neither sees nor can translate them.
    let theirs: Vec<CategoryDto> =
        ok_json(b.admin.get(app.url("/api/v1/categories")).send().await).await;
    assert!(theirs.iter().all(|c| c.id != root.id && c.id != leak.id));
    assert!(theirs
        .iter()
        .all(|c| !c.name_i18n.values().any(|v| v == "Протечка")));
    problem(
        b.admin
            .put(app.url(&format!("/api/v1/categories/{}", leak.id)))
            .json(&json!({ "name": "Leak", "name_i18n": { "ru": "Взлом" } }))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let still: Vec<CategoryDto> =
        ok_json(a.admin.get(app.url("/api/v1/categories")).send().await).await;
    assert_eq!(
        still.iter().find(|c| c.id == leak.id).unwrap().name_i18n["ru"],
        "Протечка"
    );
}
