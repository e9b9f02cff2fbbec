//! `hotline seed-demo` makes a demo a newcomer can use at once, and running it again changes
//! nothing; a freshly signed-up tenant can create tickets from the first minute.

mod common;

use common::*;
use hotline_backend::{seed, testkit::TestApp};
use hotline_wire::{
    api::{Page, QueueDto, SkillDto, UserDto},
    calls::{DidDto, FlowDto},
    campaigns::CampaignDto,
    crm::{CategoryDto, CustomerDto, CustomerLookup, KbArticleDto, KbCategoryDto, KbSearchResult},
    tickets::{AssignmentRuleDto, SlaPolicyDto, TicketDto, TicketTypeDto},
};
use redis::AsyncCommands;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

const AGENTS: [&str; 2] = ["agent1@demo.hotline.test", "agent2@demo.hotline.test"];

/// A signed-in client of the demo tenant.
async fn demo_login(app: &TestApp, email: &str) -> reqwest::Client {
    let c = app.client();
    login(app, &c, seed::DEMO_SLUG, email, seed::DEMO_PASSWORD).await;
    c
}

async fn get<T: serde::de::DeserializeOwned>(app: &TestApp, c: &reqwest::Client, path: &str) -> T {
    ok_json(c.get(app.url(path)).send().await).await
}

/// What an administrator sees of the demo, reduced to names and counts (to compare runs).
async fn snapshot(app: &TestApp, admin: &reqwest::Client) -> BTreeMap<&'static str, Value> {
    let customers: Page<CustomerDto> = get(app, admin, "/api/v1/customers?per_page=200").await;
    let mut customer_names: Vec<String> = customers.items.iter().map(|c| c.name.clone()).collect();
    customer_names.sort();
    let cats: Vec<CategoryDto> = get(app, admin, "/api/v1/categories").await;
    let parent = |c: &CategoryDto| {
        c.parent_id
            .and_then(|p| cats.iter().find(|x| x.id == p))
            .map(|p| p.name.clone())
    };
    let mut cat_names: Vec<(Option<String>, String)> =
        cats.iter().map(|c| (parent(c), c.name.clone())).collect();
    cat_names.sort();
    let types: Vec<TicketTypeDto> = get(app, admin, "/api/v1/ticket-types").await;
    let slas: Vec<SlaPolicyDto> = get(app, admin, "/api/v1/sla-policies").await;
    let rules: Vec<AssignmentRuleDto> = get(app, admin, "/api/v1/assignment-rules").await;
    let articles: Vec<KbArticleDto> = get(app, admin, "/api/v1/kb/articles").await;
    let kb_cats: Vec<Value> = get(app, admin, "/api/v1/kb/categories").await;
    let flows: Vec<FlowDto> = get(app, admin, "/api/v1/ivr/flows").await;
    let campaigns: Vec<CampaignDto> = get(app, admin, "/api/v1/campaigns").await;
    let contacts: Value = match campaigns.first() {
        Some(c) => get(app, admin, &format!("/api/v1/campaigns/{}/contacts", c.id)).await,
        None => Value::Null,
    };
    let users: Page<UserDto> = get(app, admin, "/api/v1/users").await;
    let queues: Vec<QueueDto> = get(app, admin, "/api/v1/queues").await;
    let skills: Vec<SkillDto> = get(app, admin, "/api/v1/skills").await;
    let fields: Vec<Value> = get(app, admin, "/api/v1/customer-fields").await;
    let mut translations: Vec<(String, BTreeMap<String, String>)> = cats
        .iter()
        .map(|c| (c.name.clone(), c.name_i18n.clone()))
        .collect();
    for t in &types {
        translations.push((t.name.clone(), t.name_i18n.clone()));
        for s in &t.statuses {
            translations.push((format!("{}/{}", t.name, s.key), s.name_i18n.clone()));
        }
        for m in &t.transitions {
            translations.push((
                format!("{}/{}->{}", t.name, m.from, m.to),
                m.name_i18n.clone(),
            ));
        }
    }
    translations.sort();
    BTreeMap::from([
        ("translations", json!(translations)),
        ("customers", json!(customer_names)),
        ("customer_total", json!(customers.total)),
        ("customer_fields", json!(fields.len())),
        ("categories", json!(cat_names)),
        (
            "ticket_types",
            json!(types.iter().map(|t| &t.name).collect::<Vec<_>>()),
        ),
        ("slas", json!(slas.len())),
        ("rules", json!(rules.len())),
        (
            "articles",
            json!(articles
                .iter()
                .map(|a| (&a.title, &a.status))
                .collect::<Vec<_>>()),
        ),
        ("kb_categories", json!(kb_cats.len())),
        (
            "flows",
            json!(flows
                .iter()
                .map(|f| (&f.name, f.latest_version, f.published_version))
                .collect::<Vec<_>>()),
        ),
        (
            "campaigns",
            json!(campaigns
                .iter()
                .map(|c| (&c.input.name, &c.status))
                .collect::<Vec<_>>()),
        ),
        ("contacts", contacts),
        ("users", json!(users.total)),
        ("queues", json!(queues.len())),
        ("skills", json!(skills.len())),
    ])
}

#[tokio::test]
async fn the_demo_works_in_the_first_minute_and_a_second_run_changes_nothing() {
    let app = TestApp::spawn().await;
    let printed = seed::demo(&app.state).await.unwrap().join("\n");
    // Every login and the numbers to call are printed.
    for needle in [
        seed::ADMIN_EMAIL,
        "supervisor@demo.hotline.test",
        AGENTS[0],
        AGENTS[1],
        seed::OPERATOR_EMAIL,
        seed::DEMO_PASSWORD,
        seed::DEMO_DID,
        seed::DEMO_CALLER,
    ] {
        assert!(printed.contains(needle), "{needle} not printed:\n{printed}");
    }
    let admin = demo_login(&app, seed::ADMIN_EMAIL).await;
    let first = snapshot(&app, &admin).await;

    // Again: the same demo, nothing duplicated, nothing created.
    let again = seed::demo(&app.state).await.unwrap().join("\n");
    assert!(
        again.contains(" 0 items created by this run"),
        "second run created something:\n{again}"
    );
    assert_eq!(snapshot(&app, &admin).await, first);

    // The demo number answers with the published flow: greeting, then 1 → Billing, 2 → Support.
    let flows: Vec<FlowDto> = get(&app, &admin, "/api/v1/ivr/flows").await;
    assert_eq!(flows.len(), 1, "{flows:?}");
    let flow = &flows[0];
    assert_eq!(flow.name, seed::DEMO_FLOW);
    assert_eq!(flow.published_version, Some(flow.latest_version));
    let dids: Vec<DidDto> = get(&app, &admin, "/api/v1/ivr/dids").await;
    assert_eq!(
        dids.iter()
            .find(|d| d.did == seed::DEMO_DID)
            .unwrap()
            .flow_id,
        Some(flow.id),
        "the demo number runs the demo flow"
    );
    let g = &flow.graph;
    assert_eq!(
        g["nodes"][g["start"].as_str().unwrap()]["prompt"],
        "greeting"
    );
    let menu = &g["nodes"]["menu"];
    assert_eq!(menu["type"], "menu");
    assert_eq!(
        menu["prompt"], "menu-demo",
        "\"For billing, press 1. For support, press 2.\""
    );
    for (key, queue) in [("1", "Billing"), ("2", "Support")] {
        let target = menu["options"][key].as_str().unwrap();
        assert_eq!(g["nodes"][target]["type"], "queue");
        assert_eq!(g["nodes"][target]["queue"], queue);
    }
    // The gateway hands the demo's calls to the backend's flows.
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM platform.tenants WHERE slug = 'demo'")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let mode: Option<String> = app
        .state
        .redis()
        .hget(hotline_wire::gateway::flow_key(tenant), "mode")
        .await
        .unwrap();
    assert_eq!(mode.as_deref(), Some("backend"));

    // Both agents have the skills both queues require.
    let queues: Vec<QueueDto> = get(&app, &admin, "/api/v1/queues").await;
    let users: Page<UserDto> = get(&app, &admin, "/api/v1/users").await;
    for q in ["Billing", "Support"] {
        let q = queues.iter().find(|x| x.name == q).expect("queue");
        assert!(!q.required_skills.is_empty());
        for email in AGENTS {
            let u = users.items.iter().find(|u| u.email == email).unwrap();
            for need in &q.required_skills {
                assert!(
                    u.skills
                        .iter()
                        .any(|s| s.skill_id == need.skill_id && s.level >= need.level),
                    "{email} cannot serve {}",
                    q.name
                );
            }
        }
    }

    // Every demo login works.
    for email in [seed::ADMIN_EMAIL, "supervisor@demo.hotline.test", AGENTS[1]] {
        demo_login(&app, email).await;
    }
    let agent = demo_login(&app, AGENTS[0]).await;

    // The demo caller's number screen-pops Rashad, in international and national notation.
    for number in ["%2B994501234567", "050%20123%2045%2067"] {
        let pop: CustomerLookup = get(
            &app,
            &agent,
            &format!("/api/v1/customers/lookup?phone={number}"),
        )
        .await;
        assert_eq!(pop.number, seed::DEMO_CALLER);
        assert_eq!(pop.matches.len(), 1, "{pop:?}");
        assert_eq!(pop.matches[0].name, seed::DEMO_CUSTOMER);
        assert!(pop.matches[0].fields.contains_key("account_no"));
    }
    let customers: Page<CustomerDto> = get(&app, &agent, "/api/v1/customers").await;
    assert_eq!(customers.total, 50);

    // The agent's desktop has ticket types and categories: a leak complaint is created,
    // assigned to the front line and due within four hours.
    let types: Vec<TicketTypeDto> = get(&app, &agent, "/api/v1/ticket-types").await;
    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Complaint", "New connection", "Service request"]);
    let approval = types.iter().find(|t| t.name == "New connection").unwrap();
    assert!(approval
        .transitions
        .iter()
        .any(|t| t.name == "Approve" && t.permission.as_deref() == Some("tickets.admin")));
    let cats: Vec<CategoryDto> = get(&app, &agent, "/api/v1/categories").await;
    let support = cats
        .iter()
        .find(|c| c.name == "Support" && c.parent_id.is_none())
        .unwrap();
    let leak = cats
        .iter()
        .find(|c| c.name == "Leak" && c.parent_id == Some(support.id))
        .unwrap();
    for (root, children) in [
        ("Billing", vec!["Debt", "Meter reading", "Payment"]),
        ("Support", vec!["Leak", "No water", "Water quality"]),
        ("General enquiry", vec![]),
    ] {
        let r = cats
            .iter()
            .find(|c| c.name == root && c.parent_id.is_none())
            .unwrap_or_else(|| panic!("no {root}"));
        let mut kids: Vec<&str> = cats
            .iter()
            .filter(|c| c.parent_id == Some(r.id))
            .map(|c| c.name.as_str())
            .collect();
        kids.sort();
        assert_eq!(kids, children);
    }
    let rashad = &customers
        .items
        .iter()
        .find(|c| c.name == seed::DEMO_CUSTOMER)
        .unwrap();
    let t: TicketDto = created(
        agent
            .post(app.url("/api/v1/tickets"))
            .json(
                &json!({ "type_id": types[0].id, "subject": "Water leaking in the stairwell",
                           "category_id": leak.id, "customer_id": rashad.id }),
            )
            .send()
            .await,
    )
    .await;
    assert_eq!(t.status.key, "new");
    assert_eq!(t.category_path, ["Support", "Leak"]);
    // The path's translations come with it, and so do the status's.
    let ru: Vec<&str> = t
        .category_path_i18n
        .iter()
        .map(|m| m["ru"].as_str())
        .collect();
    assert_eq!(ru, ["Поддержка", "Протечка"]);
    assert_eq!(t.status.name_i18n["ru"], "Новая");
    assert!(t.assignee_team_id.is_some() && t.assignee_user_id.is_some());
    let minutes = (t.due_at.expect("an SLA applies") - t.created_at).num_minutes();
    assert!((239..=240).contains(&minutes), "leak SLA: {minutes} min");

    // The knowledge base answers the agent, and the campaign waits in draft with contacts.
    let found: KbSearchResult = get(&app, &agent, "/api/v1/kb/search?q=leak").await;
    assert!(
        found
            .hits
            .iter()
            .any(|h| h.title == "Reporting a water leak"),
        "{found:?}"
    );
    let articles: Vec<KbArticleDto> = get(&app, &agent, "/api/v1/kb/articles").await;
    assert_eq!(articles.len(), 5 * 12);
    assert!(articles.iter().all(|a| a.status == "published"));
    assert_eq!(
        kb_by_language(&app, &agent).await,
        KB_LANGUAGES.map(|l| (l.to_string(), 12))
    );
    // A Russian agent finds the Russian article in Russian.
    let found: KbSearchResult = get(&app, &agent, "/api/v1/kb/search?q=утечка").await;
    assert_eq!(
        found.hits.first().map(|h| h.title.as_str()),
        Some("Сообщение об утечке воды"),
        "{found:?}"
    );
    let campaigns: Vec<CampaignDto> = get(&app, &admin, "/api/v1/campaigns").await;
    assert_eq!(campaigns.len(), 1);
    assert_eq!(campaigns[0].status, "draft");
    assert!(
        campaigns[0].counts.contacts > 0,
        "{:?}",
        campaigns[0].counts
    );
}

#[tokio::test]
async fn an_older_demo_gets_the_missing_parts() {
    let app = TestApp::spawn().await;
    seed::demo(&app.state).await.unwrap();
    let admin = demo_login(&app, seed::ADMIN_EMAIL).await;
    let full = snapshot(&app, &admin).await;
    // What a demo made by an older seed lacked: no flow, customers, categories, ticket setup,
    // knowledge base or campaign.
    let schema: String =
        sqlx::query_scalar("SELECT schema_name FROM platform.tenants WHERE slug = 'demo'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SET LOCAL search_path = {schema}"
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    for statement in [
        "DELETE FROM ivr_did_flows",
        "DELETE FROM ivr_flows",
        "DELETE FROM campaigns",
        "DELETE FROM customers",
        "DELETE FROM customer_fields",
        "DELETE FROM assignment_rules",
        "DELETE FROM sla_policies",
        "DELETE FROM ticket_types",
        "DELETE FROM categories WHERE parent_id IS NOT NULL",
        "DELETE FROM categories",
        "DELETE FROM kb_articles",
        "DELETE FROM kb_categories WHERE parent_id IS NOT NULL",
        "DELETE FROM kb_categories",
        "DELETE FROM queue_skills",
        "DELETE FROM queues WHERE name = 'Support'",
        "DELETE FROM user_skills us USING skills s WHERE s.id = us.skill_id AND s.name = 'Support'",
        "DELETE FROM skills WHERE name = 'Support'",
    ] {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    let stripped = snapshot(&app, &admin).await;
    assert_eq!(stripped["customer_total"], json!(0));
    assert_eq!(stripped["flows"], json!([]));

    seed::demo(&app.state).await.unwrap();
    let mut after = snapshot(&app, &admin).await;
    // Contacts are listed with their ids, which are new; their count is what matters.
    let contacts = |s: &BTreeMap<&str, Value>| s["contacts"]["total"].clone();
    assert_eq!(contacts(&after), contacts(&full));
    let mut full = full;
    full.remove("contacts");
    after.remove("contacts");
    assert_eq!(after, full);
}

const OTHER_LANGS: [&str; 4] = ["az", "pl", "ru", "zh"];

const KB_LANGUAGES: [&str; 5] = ["English", "Azərbaycanca", "Polski", "Русский", "中文"];

/// The KB's top-level folders with how many published articles each holds (at any depth).
async fn kb_by_language(app: &TestApp, c: &reqwest::Client) -> Vec<(String, usize)> {
    let cats: Vec<KbCategoryDto> = get(app, c, "/api/v1/kb/categories").await;
    let articles: Vec<KbArticleDto> = get(app, c, "/api/v1/kb/articles").await;
    let root_of = |mut id: uuid::Uuid| loop {
        let cat = cats.iter().find(|c| c.id == id).unwrap();
        match cat.parent_id {
            Some(p) => id = p,
            None => return cat,
        }
    };
    let mut roots: Vec<&KbCategoryDto> = cats.iter().filter(|c| c.parent_id.is_none()).collect();
    roots.sort_by_key(|c| c.position);
    roots
        .iter()
        .map(|r| {
            let n = articles
                .iter()
                .filter(|a| a.status == "published" && root_of(a.category_id).id == r.id)
                .count();
            (r.name.clone(), n)
        })
        .collect()
}

#[tokio::test]
async fn an_older_demo_gets_the_kb_in_every_language() {
    let app = TestApp::spawn().await;
    seed::demo(&app.state).await.unwrap();
    let admin = demo_login(&app, seed::ADMIN_EMAIL).await;
    let full = snapshot(&app, &admin).await;
    // An older demo: the English topic folders at the top, no other language.
    let schema: String =
        sqlx::query_scalar("SELECT schema_name FROM platform.tenants WHERE slug = 'demo'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SET LOCAL search_path = {schema}"
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    let others = "WITH RECURSIVE sub(id) AS (
                      SELECT id FROM kb_categories WHERE parent_id IS NULL
                         AND name IN ('Azərbaycanca', 'Polski', 'Русский', '中文')
                      UNION ALL SELECT c.id FROM kb_categories c JOIN sub ON c.parent_id = sub.id)
                  SELECT id FROM sub";
    let mut statements = vec![format!(
        "DELETE FROM kb_articles WHERE category_id IN ({others})"
    )];
    // Leaves first: the folders are three deep.
    for _ in 0..3 {
        statements.push(format!(
            "DELETE FROM kb_categories c WHERE c.id IN ({others})
                AND NOT EXISTS (SELECT 1 FROM kb_categories k WHERE k.parent_id = c.id)"
        ));
    }
    statements.push(
        "UPDATE kb_categories SET parent_id = NULL WHERE parent_id =
             (SELECT id FROM kb_categories WHERE parent_id IS NULL AND name = 'English')"
            .into(),
    );
    statements
        .push("DELETE FROM kb_categories WHERE parent_id IS NULL AND name = 'English'".into());
    for statement in statements {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let old = kb_by_language(&app, &admin).await;
    let names: Vec<&str> = old.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Billing", "Water service", "Call handling"]);
    assert_eq!(old.iter().map(|(_, n)| n).sum::<usize>(), 12);

    seed::demo(&app.state).await.unwrap();
    assert_eq!(
        kb_by_language(&app, &admin).await,
        KB_LANGUAGES.map(|l| (l.to_string(), 12))
    );
    let mut after = snapshot(&app, &admin).await;
    let mut full = full;
    for s in [&mut full, &mut after] {
        s.remove("contacts");
    }
    assert_eq!(after, full);
}

/// Every category, ticket type, status and workflow move name of the tenant is translated into az, pl, ru
/// and zh; answers how many names were checked.
async fn assert_all_translated(app: &TestApp, c: &reqwest::Client) -> usize {
    let cats: Vec<CategoryDto> = get(app, c, "/api/v1/categories").await;
    let types: Vec<TicketTypeDto> = get(app, c, "/api/v1/ticket-types").await;
    let mut names: Vec<(&str, &BTreeMap<String, String>)> = cats
        .iter()
        .map(|c| (c.name.as_str(), &c.name_i18n))
        .collect();
    for t in &types {
        names.push((t.name.as_str(), &t.name_i18n));
        names.extend(t.statuses.iter().map(|s| (s.name.as_str(), &s.name_i18n)));
        names.extend(
            t.transitions
                .iter()
                .map(|m| (m.name.as_str(), &m.name_i18n)),
        );
    }
    for (name, t) in &names {
        let langs: Vec<&str> = t.keys().map(String::as_str).collect();
        assert_eq!(langs, OTHER_LANGS, "{name}: {t:?}");
        assert!(
            t.values().all(|v| !v.trim().is_empty() && v != name),
            "{name}: {t:?}"
        );
    }
    names.len()
}

#[tokio::test]
async fn the_demo_names_are_translated_and_an_older_demo_gets_the_translations() {
    let app = TestApp::spawn().await;
    seed::demo(&app.state).await.unwrap();
    let admin = demo_login(&app, seed::ADMIN_EMAIL).await;
    // 3 roots + 6 children, 3 types with 4 + 4 + 6 statuses and 4 + 5 + 5 moves.
    assert_eq!(assert_all_translated(&app, &admin).await, 9 + 3 + 14 + 14);
    let types: Vec<TicketTypeDto> = get(&app, &admin, "/api/v1/ticket-types").await;
    let approve = types
        .iter()
        .flat_map(|t| &t.transitions)
        .find(|m| m.name == "Approve")
        .unwrap();
    assert_eq!(approve.name_i18n["ru"], "Одобрить");
    assert_eq!(approve.name_i18n["zh"], "批准");
    let cats: Vec<CategoryDto> = get(&app, &admin, "/api/v1/categories").await;
    let billing = cats.iter().find(|c| c.name == "Billing").unwrap();
    assert_eq!(billing.name_i18n["ru"], "Расчёты");
    assert_eq!(billing.name_i18n["az"], "Hesablaşma");
    assert_eq!(billing.name_i18n["pl"], "Rozliczenia");
    assert_eq!(billing.name_i18n["zh"], "账单");

    // A demo seeded before names were translated: no translations at all, except one the
    // admin wrote since (it is kept).
    let schema: String =
        sqlx::query_scalar("SELECT schema_name FROM platform.tenants WHERE slug = 'demo'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SET LOCAL search_path = {schema}"
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    for statement in [
        "UPDATE categories SET name_i18n = '{}'",
        "UPDATE ticket_types SET name_i18n = '{}'",
        "UPDATE ticket_statuses SET name_i18n = '{}'",
        "UPDATE ticket_transitions SET name_i18n = '{}'",
        r#"UPDATE categories SET name_i18n = '{"ru": "Биллинг"}' WHERE name = 'Billing'"#,
        r#"UPDATE ticket_transitions SET name_i18n = '{"ru": "Утвердить"}' WHERE name = 'Approve'"#,
    ] {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    let before = snapshot(&app, &admin).await;

    seed::demo(&app.state).await.unwrap();
    assert_eq!(assert_all_translated(&app, &admin).await, 9 + 3 + 14 + 14);
    let types: Vec<TicketTypeDto> = get(&app, &admin, "/api/v1/ticket-types").await;
    let approve = types
        .iter()
        .flat_map(|t| &t.transitions)
        .find(|m| m.name == "Approve")
        .unwrap();
    assert_eq!(approve.name_i18n["ru"], "Утвердить");
    assert_eq!(approve.name_i18n["pl"], "Zatwierdź");
    let cats: Vec<CategoryDto> = get(&app, &admin, "/api/v1/categories").await;
    let billing = cats.iter().find(|c| c.name == "Billing").unwrap();
    assert_eq!(billing.name_i18n["ru"], "Биллинг");
    assert_eq!(billing.name_i18n["pl"], "Rozliczenia");
    // Nothing else changed and nothing was duplicated.
    let mut after = snapshot(&app, &admin).await;
    let mut before = before;
    for s in [&mut before, &mut after] {
        s.remove("translations");
        s.remove("contacts");
    }
    assert_eq!(after, before);
}

#[tokio::test]
async fn a_new_tenant_can_create_tickets_from_the_first_minute() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Fresh Gas").await;
    let (_, agent) = t.user(&app, "agent@fresh.test", "Agent").await;

    // The agent desktop's "Create ticket" needs a ticket type; the category list is filled.
    let types: Vec<TicketTypeDto> = get(&app, &agent, "/api/v1/ticket-types").await;
    assert_eq!(types.len(), 1, "{types:?}");
    let ty = &types[0];
    assert_eq!(ty.name, "Service request");
    assert_eq!(ty.statuses.iter().filter(|s| s.initial).count(), 1);
    assert!(ty.statuses.iter().any(|s| s.is_final));
    let cats: Vec<CategoryDto> = get(&app, &agent, "/api/v1/categories").await;
    let names: Vec<&str> = cats.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Billing", "Support", "General enquiry"]);
    // Sign-up's defaults are translated too.
    // 3 categories, the type, 4 statuses and 5 moves.
    assert_eq!(assert_all_translated(&app, &agent).await, 3 + 1 + 4 + 5);
    let slas: Vec<SlaPolicyDto> = get(&app, &agent, "/api/v1/sla-policies").await;
    assert_eq!(slas.len(), cats.len());
    assert!(slas
        .iter()
        .all(|p| p.business_hours && cats.iter().any(|c| Some(c.id) == p.category_id)));

    // A ticket from the desktop: default type, a default category, a due time from the
    // default SLA, and it moves along the workflow.
    let tk: TicketDto = created(
        agent
            .post(app.url("/api/v1/tickets"))
            .json(
                &json!({ "type_id": ty.id, "subject": "Gas smell near the meter",
                           "category_id": cats[1].id }),
            )
            .send()
            .await,
    )
    .await;
    assert_eq!(tk.status.key, "new");
    assert_eq!(tk.category_path, ["Support"]);
    assert!(tk.due_at.is_some_and(|d| d > tk.created_at), "{tk:?}");
    let moved: TicketDto = ok_json(
        agent
            .post(app.url(&format!("/api/v1/tickets/{}/move", tk.id)))
            .json(&json!({ "to": "in_progress" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(moved.status.name, "In progress");

    // The admin can change the defaults through the API.
    let mut input = serde_json::to_value(ty).unwrap();
    input["name"] = json!("Request");
    let renamed: TicketTypeDto = ok_json(
        t.admin
            .put(app.url(&format!("/api/v1/ticket-types/{}", ty.id)))
            .json(&input)
            .send()
            .await,
    )
    .await;
    assert_eq!(renamed.name, "Request");
    let r = t
        .admin
        .delete(app.url(&format!("/api/v1/sla-policies/{}", slas[0].id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}
