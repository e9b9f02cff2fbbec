//! What the demo tenant is filled with, ensured through the API (`super::api`): settings, the
//! IVR flow on the demo number, the customer template and customers, request categories,
//! ticket types, SLA policies, assignment rules, the knowledge base and a draft campaign.
//!
//! Each piece is found by its natural key (a name, a title, an account number) and created
//! only when missing; nothing that exists is changed (an unpublished demo flow or a draft
//! article is published), except that categories, ticket types, statuses and workflow moves
//! made by an older seed get the translations of their names they lack (`name_i18n`: a
//! language the admin already translated is kept).

use super::{
    api::Api,
    kb_i18n::{self, KbLanguage},
    DEMO_CALLER, DEMO_CUSTOMER, DEMO_DID, DEMO_FLOW, TEAM,
};
use crate::{auth::TenantRef, db, state::AppState, tenants};
use hotline_wire::{
    calls::{DidDto, FlowDto},
    campaigns::{CampaignDto, ContactsAdded},
    crm::{CategoryDto, CategoryInput, CustomerDto, CustomerFieldDto, KbArticleDto, KbCategoryDto},
    names::Translations,
    sla::BusinessCalendar,
    tickets::{
        AssignmentRuleDto, SlaPolicyDto, StatusDef, TicketTypeDto, TicketTypeInput, TransitionDef,
    },
};
use serde_json::{json, Value};
use std::collections::HashSet;
use uuid::Uuid;

/// Counts what one run created, for the printed summary.
#[derive(Default)]
struct Made(u32);

impl Made {
    fn one(&mut self) {
        self.0 += 1;
    }
}

/// Ensures every part; answers one line for the seed's output.
pub async fn ensure(state: &AppState, tenant: &TenantRef, api: &Api) -> anyhow::Result<String> {
    let mut made = Made::default();
    settings(api, &mut made).await?;
    ivr(api, &mut made).await?;
    crate::gateway_sync::publish_flow_mode(state, tenant.id, true).await?;
    customer_fields(api, &mut made).await?;
    let customers = customers(state, tenant, api, &mut made).await?;
    let categories = categories(api, &mut made).await?;
    let team = team(api).await?;
    let types = ticket_types(api, &mut made).await?;
    slas(api, &categories, team, &mut made).await?;
    rules(api, &types, team, &mut made).await?;
    let articles = kb(api, &mut made).await?;
    campaign(api, &mut made).await?;
    Ok(format!(
        "Demo content: IVR flow published on {DEMO_DID}, {customers} customers, {} request categories, \
         {} ticket types, {articles} published KB articles, campaign '{CAMPAIGN}' (draft); \
         {} items created by this run",
        categories.len(),
        types.len(),
        made.0
    ))
}

// ------------------------------------------------------------------ settings

/// National numbers typed in the desktop (`050 123 45 67`) are read as Azerbaijani, and SLA
/// business hours are Baku's — unless the admin has set their own.
async fn settings(api: &Api, made: &mut Made) -> anyhow::Result<()> {
    let crm: Value = api.get("/api/v1/settings/crm").await?;
    if crm["country_code"].is_null() {
        let _: Value = api
            .put("/api/v1/settings/crm", json!({ "country_code": "994" }))
            .await?;
        made.one();
    }
    let mut cal: BusinessCalendar = api.get("/api/v1/business-calendar").await?;
    if cal.time_zone == "UTC" {
        cal.time_zone = "Asia/Baku".into();
        let _: BusinessCalendar = api.put("/api/v1/business-calendar", &cal).await?;
        made.one();
    }
    Ok(())
}

// ------------------------------------------------------------------ IVR

/// The menu's prompt, a built-in one: "For billing, press 1. For support, press 2."
pub const MENU_PROMPT: &str = "menu-demo";

/// Greeting, then "1 billing, 2 support"; no key or a wrong one (after the retries) goes to
/// Support, so a caller always reaches a person.
pub fn flow_graph() -> Value {
    json!({
        "start": "greeting",
        "nodes": {
            "greeting": { "type": "play", "prompt": "greeting", "next": "menu" },
            "menu": { "type": "menu", "prompt": MENU_PROMPT,
                      "options": { "1": "billing", "2": "support" },
                      "timeout_ms": 6000, "retries": 2, "fallback": "support" },
            "billing": { "type": "queue", "queue": "Billing" },
            "support": { "type": "queue", "queue": "Support" }
        }
    })
}

/// The demo flow exists, is published, and answers the demo number. An existing flow of that
/// name is left as the admin made it (published if it never was).
async fn ivr(api: &Api, made: &mut Made) -> anyhow::Result<()> {
    let flows: Vec<FlowDto> = api.get("/api/v1/ivr/flows").await?;
    let existing = flows
        .into_iter()
        .find(|f| f.name.eq_ignore_ascii_case(DEMO_FLOW));
    let (flow, publish) = match existing {
        None => {
            let f: FlowDto = api
                .post(
                    "/api/v1/ivr/flows",
                    json!({ "name": DEMO_FLOW, "is_default": true, "graph": flow_graph() }),
                )
                .await?;
            made.one();
            (f, true)
        }
        Some(f) => {
            let unpublished = f.published_version.is_none();
            (f, unpublished)
        }
    };
    if publish {
        let _: FlowDto = api
            .post(
                &format!("/api/v1/ivr/flows/{}/publish", flow.id),
                json!({ "version": flow.latest_version }),
            )
            .await?;
    }
    let dids: Vec<DidDto> = api.get("/api/v1/ivr/dids").await?;
    let did = dids
        .iter()
        .find(|d| d.did == DEMO_DID)
        .ok_or_else(|| anyhow::anyhow!("{DEMO_DID} is not the demo tenant's number"))?;
    if did.flow_id.is_none() {
        let _: Value = api
            .put(
                "/api/v1/ivr/dids",
                json!({ "did": DEMO_DID, "flow_id": flow.id }),
            )
            .await?;
        made.one();
    }
    Ok(())
}

// ------------------------------------------------------------------ CRM

/// (key, label, kind, options)
const FIELDS: &[(&str, &str, &str, &[&str])] = &[
    ("account_no", "Account number", "text", &[]),
    ("address", "Address", "address", &[]),
    (
        "tariff",
        "Tariff",
        "choice",
        &["Residential", "Business", "Social"],
    ),
    (
        "payment_status",
        "Payment status",
        "choice",
        &["Paid up", "In debt"],
    ),
    ("meter_no", "Meter number", "text", &[]),
];

async fn customer_fields(api: &Api, made: &mut Made) -> anyhow::Result<()> {
    let have: Vec<CustomerFieldDto> = api.get("/api/v1/customer-fields").await?;
    for (i, (key, label, kind, options)) in FIELDS.iter().enumerate() {
        if have.iter().any(|f| f.key == *key) {
            continue;
        }
        let _: CustomerFieldDto = api
            .post(
                "/api/v1/customer-fields",
                json!({ "key": key, "label": label, "kind": kind, "options": options,
                        "position": i as i32 + 1 }),
            )
            .await?;
        made.one();
    }
    Ok(())
}

const FIRST_MALE: &[&str] = &[
    "Javid", "Elvin", "Tural", "Orkhan", "Farid", "Kamran", "Anar", "Ilgar", "Murad", "Vugar",
    "Sergey", "Nijat", "Emil", "Ruslan", "Zaur",
];
const FIRST_FEMALE: &[&str] = &[
    "Aysel", "Leyla", "Gunel", "Nigar", "Sevinj", "Aynur", "Narmin", "Lala", "Konul", "Sabina",
    "Olga", "Gulnar", "Fidan", "Ulviyya", "Shahla",
];
/// Male form; the female one adds "a" (Mammadov → Mammadova).
const SURNAMES: &[&str] = &[
    "Mammadov",
    "Aliyev",
    "Huseynov",
    "Hasanov",
    "Guliyev",
    "Ismayilov",
    "Abbasov",
    "Rzayev",
    "Karimov",
    "Babayev",
    "Jafarov",
    "Mustafayev",
    "Nasirov",
    "Valiyev",
    "Ibrahimov",
    "Petrov",
];
const STREETS: &[&str] = &[
    "Nizami St",
    "Fuzuli St",
    "Istiglaliyyat St",
    "Samad Vurgun St",
    "Azadlig Ave",
    "Heydar Aliyev Ave",
    "Tbilisi Ave",
    "Rashid Behbudov St",
    "Khagani St",
    "Uzeyir Hajibeyov St",
    "Ataturk Ave",
    "Zarifa Aliyeva St",
];
const DISTRICTS: &[&str] = &[
    "Sabail",
    "Nasimi",
    "Yasamal",
    "Narimanov",
    "Khatai",
    "Binagadi",
    "Nizami",
];
const MOBILE_PREFIXES: &[&str] = &["50", "51", "55", "70", "77", "99"];

/// How many demo customers there are.
pub const CUSTOMERS: usize = 50;

/// The demo customers (deterministic, so every run wants the same ones); the first is the
/// demo caller.
pub fn demo_customers() -> Vec<Value> {
    let mut out = Vec::with_capacity(CUSTOMERS);
    let mut numbers = HashSet::from([DEMO_CALLER.to_string()]);
    for i in 0..CUSTOMERS {
        let female = i % 2 == 1;
        let (name, mobile) = if i == 0 {
            (DEMO_CUSTOMER.to_string(), DEMO_CALLER.to_string())
        } else {
            let first = if female {
                FIRST_FEMALE[(i / 2) % FIRST_FEMALE.len()]
            } else {
                FIRST_MALE[(i / 2) % FIRST_MALE.len()]
            };
            let surname = SURNAMES[(i * 7 + 3) % SURNAMES.len()];
            let name = if female {
                format!("{first} {surname}a")
            } else {
                format!("{first} {surname}")
            };
            let mut n = 2_000_000 + (i as u64 * 1_637_411) % 7_000_000;
            let prefix = MOBILE_PREFIXES[i % MOBILE_PREFIXES.len()];
            while !numbers.insert(format!("+994{prefix}{n:07}")) {
                n += 1;
            }
            (name, format!("+994{prefix}{n:07}"))
        };
        let mut phones = vec![json!({ "number": mobile, "label": "mobile" })];
        if i % 3 == 0 {
            phones.push(json!({
                "number": format!("+99412{}{:06}", 4 + i % 5, 100_000 + i * 3_517),
                "label": "home"
            }));
        }
        let tariff = match i % 10 {
            3 | 7 => "Business",
            9 => "Social",
            _ => "Residential",
        };
        let in_debt = i == 0 || i % 4 == 2;
        out.push(json!({
            "name": name,
            "phones": phones,
            "fields": {
                "account_no": format!("WU-{:06}", 100_001 + i),
                "address": format!(
                    "{} {}, apt {}, {} district, Baku",
                    STREETS[(i * 5) % STREETS.len()],
                    3 + (i * 11) % 140,
                    1 + (i * 13) % 90,
                    DISTRICTS[i % DISTRICTS.len()]
                ),
                "tariff": tariff,
                "payment_status": if in_debt { "In debt" } else { "Paid up" },
                "meter_no": format!("M-{:07}", 4_400_000 + i * 7_919),
            }
        }));
    }
    out
}

/// The 50 customers, found by account number; answers how many there are.
async fn customers(
    state: &AppState,
    tenant: &TenantRef,
    api: &Api,
    made: &mut Made,
) -> anyhow::Result<usize> {
    let mut tx = db::begin_in_schema(&state.db, &tenant.schema()).await?;
    let have: HashSet<String> = sqlx::query_scalar(
        "SELECT fields->>'account_no' FROM customers
          WHERE merged_into IS NULL AND fields ? 'account_no'",
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    tx.commit().await?;
    // Only values of fields that are active (an admin may have switched one off).
    let active: HashSet<String> = api
        .get::<Vec<CustomerFieldDto>>("/api/v1/customer-fields")
        .await?
        .into_iter()
        .filter(|f| f.active)
        .map(|f| f.key)
        .collect();
    let wanted = demo_customers();
    for mut c in wanted.iter().cloned() {
        let account = c["fields"]["account_no"].as_str().unwrap_or_default();
        if have.contains(account) {
            continue;
        }
        if let Some(fields) = c["fields"].as_object_mut() {
            fields.retain(|k, _| active.contains(k));
        }
        let _: CustomerDto = api.post("/api/v1/customers", c).await?;
        made.one();
    }
    Ok(wanted.len())
}

// ------------------------------------------------------------------ request categories

/// The request category tree (the roots are every tenant's defaults).
const CATEGORY_TREE: &[(&str, &[&str])] = &[
    ("Billing", &["Payment", "Debt", "Meter reading"]),
    ("Support", &["Leak", "No water", "Water quality"]),
    ("General enquiry", &[]),
];

/// A category's path, e.g. `["Support", "Leak"]`, and its id.
type Categories = Vec<(Vec<&'static str>, Uuid)>;

async fn categories(api: &Api, made: &mut Made) -> anyhow::Result<Categories> {
    let mut have: Vec<CategoryDto> = api.get("/api/v1/categories").await?;
    let mut out = Categories::new();
    for (position, (root, children)) in CATEGORY_TREE.iter().enumerate() {
        let root_id = ensure_category(api, &mut have, root, None, position, made).await?;
        out.push((vec![root], root_id));
        for (position, child) in children.iter().enumerate() {
            let id = ensure_category(api, &mut have, child, Some(root_id), position, made).await?;
            out.push((vec![root, child], id));
        }
    }
    Ok(out)
}

async fn ensure_category(
    api: &Api,
    have: &mut Vec<CategoryDto>,
    name: &str,
    parent: Option<Uuid>,
    position: usize,
    made: &mut Made,
) -> anyhow::Result<Uuid> {
    let wanted = tenants::name_translations(name);
    if let Some(c) = have
        .iter_mut()
        .find(|c| c.parent_id == parent && c.name.to_lowercase() == name.to_lowercase())
    {
        if add_missing(&mut c.name_i18n, &wanted) {
            let input = CategoryInput {
                name: c.name.clone(),
                name_i18n: c.name_i18n.clone(),
                parent_id: c.parent_id,
                position: c.position,
                active: c.active,
            };
            *c = api
                .put(&format!("/api/v1/categories/{}", c.id), &input)
                .await?;
            made.one();
        }
        return Ok(c.id);
    }
    let c: CategoryDto = api
        .post(
            "/api/v1/categories",
            json!({ "name": name, "name_i18n": wanted, "parent_id": parent,
                    "position": position as i32 }),
        )
        .await?;
    made.one();
    let id = c.id;
    have.push(c);
    Ok(id)
}

/// Adds the languages of `wanted` that `have` lacks (a translation already there is the
/// admin's and stays); true when something was added.
fn add_missing(have: &mut Translations, wanted: &Translations) -> bool {
    let mut added = false;
    for (lang, name) in wanted {
        if !have.contains_key(lang) {
            have.insert(lang.clone(), name.clone());
            added = true;
        }
    }
    added
}

fn category(cats: &Categories, path: &[&str]) -> anyhow::Result<Uuid> {
    cats.iter()
        .find(|(p, _)| p == path)
        .map(|(_, id)| *id)
        .ok_or_else(|| anyhow::anyhow!("no category {path:?}"))
}

async fn team(api: &Api) -> anyhow::Result<Uuid> {
    let teams: Vec<Value> = api.get("/api/v1/teams").await?;
    teams
        .iter()
        .find(|t| t["name"].as_str() == Some(TEAM) && t["parent_id"].is_null())
        .and_then(|t| t["id"].as_str())
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no team {TEAM}"))
}

// ------------------------------------------------------------------ tickets

pub const COMPLAINT: &str = "Complaint";
pub const NEW_CONNECTION: &str = "New connection";

fn status(key: &str, name: &str, color: &str, initial: bool, is_final: bool) -> StatusDef {
    StatusDef {
        key: key.into(),
        name: name.into(),
        name_i18n: tenants::name_translations(name),
        color: color.into(),
        initial,
        is_final,
    }
}

fn transition(from: &str, to: &str, name: &str, permission: Option<&str>) -> TransitionDef {
    TransitionDef {
        from: from.into(),
        to: to.into(),
        name: name.into(),
        name_i18n: tenants::name_translations(name),
        permission: permission.map(String::from),
    }
}

/// The demo's ticket types besides the default "Service request": a complaint (new → in
/// progress → resolved → closed, reopen) and a new water connection, which a supervisor or
/// admin (`tickets.admin`) must approve or reject before the works are scheduled.
pub fn demo_ticket_types() -> Vec<TicketTypeInput> {
    let admin = Some(hotline_wire::permissions::TICKETS_ADMIN);
    vec![
        TicketTypeInput {
            name: COMPLAINT.into(),
            name_i18n: tenants::name_translations(COMPLAINT),
            statuses: vec![
                status("new", "New", "#1f6feb", true, false),
                status("in_progress", "In progress", "#d29922", false, false),
                status("resolved", "Resolved", "#1a7f37", false, false),
                status("closed", "Closed", "#6e7781", false, true),
            ],
            transitions: vec![
                transition("new", "in_progress", "Start work", None),
                transition("in_progress", "resolved", "Resolve", None),
                transition("resolved", "closed", "Close", None),
                transition("resolved", "in_progress", "Reopen", None),
            ],
        },
        TicketTypeInput {
            name: NEW_CONNECTION.into(),
            name_i18n: tenants::name_translations(NEW_CONNECTION),
            statuses: vec![
                status("new", "New", "#1f6feb", true, false),
                status(
                    "awaiting_approval",
                    "Awaiting approval",
                    "#8250df",
                    false,
                    false,
                ),
                status("approved", "Approved", "#0969da", false, false),
                status("in_progress", "Works scheduled", "#d29922", false, false),
                status("connected", "Connected", "#1a7f37", false, true),
                status("rejected", "Rejected", "#cf222e", false, true),
            ],
            transitions: vec![
                transition("new", "awaiting_approval", "Send for approval", None),
                transition("awaiting_approval", "approved", "Approve", admin),
                transition("awaiting_approval", "rejected", "Reject", admin),
                transition("approved", "in_progress", "Schedule works", None),
                transition("in_progress", "connected", "Connected", None),
            ],
        },
    ]
}

async fn ticket_types(api: &Api, made: &mut Made) -> anyhow::Result<Vec<TicketTypeDto>> {
    let mut have: Vec<TicketTypeDto> = api.get("/api/v1/ticket-types").await?;
    let mut wanted = vec![tenants::default_ticket_type()];
    wanted.extend(demo_ticket_types());
    for ty in wanted {
        if let Some(t) = have
            .iter_mut()
            .find(|t| t.name.eq_ignore_ascii_case(&ty.name))
        {
            // An older demo's type: add the translations it lacks, workflow untouched.
            let mut changed = add_missing(&mut t.name_i18n, &ty.name_i18n);
            for s in &mut t.statuses {
                if let Some(w) = ty.statuses.iter().find(|w| w.key == s.key) {
                    if s.name.eq_ignore_ascii_case(&w.name) {
                        changed |= add_missing(&mut s.name_i18n, &w.name_i18n);
                    }
                }
            }
            for m in &mut t.transitions {
                let same = |w: &&TransitionDef| {
                    w.from == m.from && w.to == m.to && m.name.eq_ignore_ascii_case(&w.name)
                };
                if let Some(w) = ty.transitions.iter().find(same) {
                    changed |= add_missing(&mut m.name_i18n, &w.name_i18n);
                }
            }
            if changed {
                let input = TicketTypeInput {
                    name: t.name.clone(),
                    name_i18n: t.name_i18n.clone(),
                    statuses: t.statuses.clone(),
                    transitions: t.transitions.clone(),
                };
                *t = api
                    .put(&format!("/api/v1/ticket-types/{}", t.id), &input)
                    .await?;
                made.one();
            }
            continue;
        }
        let t: TicketTypeDto = api.post("/api/v1/ticket-types", &ty).await?;
        made.one();
        have.push(t);
    }
    Ok(have)
}

/// Every root category gets the default policy (two working days); a leak is four hours
/// around the clock, escalated to the front line and reported to supervisors.
async fn slas(api: &Api, cats: &Categories, team: Uuid, made: &mut Made) -> anyhow::Result<()> {
    let have: Vec<SlaPolicyDto> = api.get("/api/v1/sla-policies").await?;
    let mut wanted = vec![];
    for (root, _) in CATEGORY_TREE {
        wanted.push(json!({
            "category_id": category(cats, &[root])?,
            "resolve_minutes": tenants::DEFAULT_SLA_MINUTES,
            "business_hours": true,
            "warn_percent": tenants::DEFAULT_SLA_WARN_PERCENT,
            "notify_supervisors": true
        }));
    }
    wanted.push(json!({
        "category_id": category(cats, &["Support", "Leak"])?,
        "resolve_minutes": 240,
        "business_hours": false,
        "warn_percent": 50,
        "escalate_team_id": team,
        "notify_supervisors": true
    }));
    for w in wanted {
        let cat: Option<Uuid> = serde_json::from_value(w["category_id"].clone())?;
        if have
            .iter()
            .any(|p| p.category_id == cat && p.priority.is_none())
        {
            continue;
        }
        let _: SlaPolicyDto = api.post("/api/v1/sla-policies", w).await?;
        made.one();
    }
    Ok(())
}

/// Complaints go round-robin to the front line; new connections to its least-loaded member.
async fn rules(
    api: &Api,
    types: &[TicketTypeDto],
    team: Uuid,
    made: &mut Made,
) -> anyhow::Result<()> {
    let have: Vec<AssignmentRuleDto> = api.get("/api/v1/assignment-rules").await?;
    for (name, strategy) in [(COMPLAINT, "round_robin"), (NEW_CONNECTION, "least_loaded")] {
        let Some(ty) = types.iter().find(|t| t.name.eq_ignore_ascii_case(name)) else {
            continue;
        };
        if have.iter().any(|r| r.type_id == ty.id) {
            continue;
        }
        let _: AssignmentRuleDto = api
            .post(
                "/api/v1/assignment-rules",
                json!({ "type_id": ty.id, "team_id": team, "strategy": strategy }),
            )
            .await?;
        made.one();
    }
    Ok(())
}

// ------------------------------------------------------------------ knowledge base

const KB_TREE: &[(&str, &[&str])] = &[
    ("Billing", &["Payments", "Tariffs"]),
    ("Water service", &["Outages and leaks", "Water quality"]),
    ("Call handling", &[]),
];

/// (category path, title, body)
pub const ARTICLES: &[(&[&str], &str, &str)] = &[
    (
        &["Billing", "Payments"],
        "How customers can pay their bill",
        "<p>Customers can pay in any of these ways:</p>\
         <ul><li>online with a bank card on the utility's website (no fee);</li>\
         <li>in a bank branch or a payment kiosk, with the <strong>account number</strong> (WU-…);</li>\
         <li>by standing order from their bank account.</li></ul>\
         <p>Payments reach the account within one working day; kiosk payments can take up to three.</p>",
    ),
    (
        &["Billing", "Payments"],
        "A payment is not showing on the account",
        "<p>Ask for the date, the amount and where the customer paid. Kiosk and bank payments can \
         take up to three working days.</p><p>If it is older than that, ask the customer to keep \
         the receipt and create a <strong>Complaint</strong> ticket in <em>Billing › Payment</em> \
         with the receipt number; billing checks it within two working days.</p>",
    ),
    (
        &["Billing", "Tariffs"],
        "Residential, business and social tariffs",
        "<p><strong>Residential</strong>: homes and flats, billed by meter reading.</p>\
         <p><strong>Business</strong>: shops, offices and workshops; billed monthly at the \
         business rate.</p><p><strong>Social</strong>: households with a social benefit \
         certificate; the discount applies from the month after the certificate is received.</p>",
    ),
    (
        &["Billing"],
        "Submitting a meter reading",
        "<p>Ask for the <strong>meter number</strong> (M-…, on the meter's face) and the black \
         digits only, left to right. A reading much lower than the last one usually means the \
         red digits were included — read them back to the customer.</p><p>Record it as an \
         interaction in <em>Billing › Meter reading</em>.</p>",
    ),
    (
        &["Billing"],
        "Debt, instalment plans and disconnection warnings",
        "<p>A customer <em>In debt</em> receives a reminder after 30 days and a disconnection \
         warning after 60. Supply is never cut without a written warning.</p><p>Customers can \
         ask for an instalment plan of up to six months: create a <strong>Service request</strong> \
         in <em>Billing › Debt</em>.</p>",
    ),
    (
        &["Water service", "Outages and leaks"],
        "Reporting a water leak",
        "<p>Ask whether the water is coming from the street, the building's pipes or inside the \
         flat. Inside the flat: tell the caller to close the main valve.</p><p>Take the exact \
         address and create a <strong>Complaint</strong> in <em>Support › Leak</em>: a leak must be \
         fixed within four hours, day and night.</p>",
    ),
    (
        &["Water service", "Outages and leaks"],
        "Planned and unplanned outages",
        "<p>Planned works are announced three days ahead. For an unplanned outage, check whether \
         neighbours are affected; if the whole street is, the crew is usually already on site.</p>\
         <p>Otherwise create a <strong>Complaint</strong> in <em>Support › No water</em>.</p>",
    ),
    (
        &["Water service", "Water quality"],
        "Discoloured or cloudy water",
        "<p>Cloudy water that clears from the bottom of a glass is air and is harmless. Brown or \
         yellow water after works usually clears after running the cold tap for a few minutes.</p>\
         <p>If it does not clear, or smells, create a <strong>Complaint</strong> in \
         <em>Support › Water quality</em>: a sample will be taken.</p>",
    ),
    (
        &["Water service", "Water quality"],
        "Low water pressure",
        "<p>Ask whether it is one tap or the whole home, and since when. One tap: the aerator is \
         usually blocked. The whole building: it may be the building's pump — check the outage \
         list first.</p>",
    ),
    (
        &["Water service"],
        "Applying for a new connection",
        "<p>Take the property's address, the owner's name and a contact number, and create a \
         <strong>New connection</strong> ticket. A supervisor approves it (or rejects it, with \
         the reason) before the works are scheduled.</p>",
    ),
    (
        &["Call handling"],
        "Greeting and closing phrases in five languages",
        "<p>English — <em>Demo Water Utility, good morning, this is …. How can I help you?</em> / \
         <em>Thank you for calling, goodbye.</em></p>\
         <p>Azərbaycanca — <em>Demo Su Təchizatı, sabahınız xeyir, mən …. Sizə necə kömək edə \
         bilərəm?</em> / <em>Zəng etdiyiniz üçün təşəkkür edirik, sağ olun.</em></p>\
         <p>Polski — <em>Demo Wodociągi, dzień dobry, mówi …. W czym mogę pomóc?</em> / \
         <em>Dziękuję za telefon, do widzenia.</em></p>\
         <p>Русский — <em>Демо Водоканал, доброе утро, меня зовут …. Чем могу помочь?</em> / \
         <em>Спасибо за звонок, до свидания.</em></p>\
         <p>中文 — <em>演示供水公司，早上好，我是……。请问有什么可以帮您？</em> / \
         <em>感谢您的来电，再见。</em></p>",
    ),
    (
        &["Call handling"],
        "Verifying the caller's identity",
        "<p>Before talking about an account, ask for two of: the account number, the address, \
         the name of the account holder. The screen pop shows the customer whose number is \
         calling — still verify: family members share phones.</p>",
    ),
];

/// The English knowledge base (`ARTICLES` under `KB_TREE`) and its translations.
fn kb_languages() -> [KbLanguage; 5] {
    [
        KbLanguage {
            root: "English",
            tree: KB_TREE,
            articles: ARTICLES,
        },
        kb_i18n::AZ,
        kb_i18n::PL,
        kb_i18n::RU,
        kb_i18n::ZH,
    ]
}

/// The KB: one top-level folder per language ("English", "Azərbaycanca", "Polski",
/// "Русский", "中文") holding the topic tree and the twelve articles in that language,
/// published; answers how many of them are published. An older demo's English topic folders
/// (top-level then) move into "English", articles and all.
async fn kb(api: &Api, made: &mut Made) -> anyhow::Result<usize> {
    let mut cats: Vec<KbCategoryDto> = api.get("/api/v1/kb/categories").await?;
    let have: Vec<KbArticleDto> = api.get("/api/v1/kb/articles").await?;
    let mut published = 0;
    for (position, lang) in kb_languages().iter().enumerate() {
        let root = ensure_kb_category(api, &mut cats, lang.root, None, position, made).await?;
        let mut paths: Vec<(Vec<&str>, Uuid)> = vec![];
        for (position, (topic, children)) in lang.tree.iter().enumerate() {
            let old = cats
                .iter_mut()
                .find(|c| c.parent_id.is_none() && c.name.to_lowercase() == topic.to_lowercase());
            if let Some(c) = old.filter(|_| lang.root == "English") {
                *c = api
                    .put(
                        &format!("/api/v1/kb/categories/{}", c.id),
                        json!({ "name": c.name, "parent_id": root, "position": c.position }),
                    )
                    .await?;
                made.one();
            }
            let topic_id =
                ensure_kb_category(api, &mut cats, topic, Some(root), position, made).await?;
            paths.push((vec![topic], topic_id));
            for (position, child) in children.iter().enumerate() {
                let id = ensure_kb_category(api, &mut cats, child, Some(topic_id), position, made)
                    .await?;
                paths.push((vec![topic, child], id));
            }
        }
        for (path, title, body) in lang.articles {
            let article = match have.iter().find(|a| a.title == *title) {
                Some(a) => a.clone(),
                None => {
                    let category = paths
                        .iter()
                        .find(|(p, _)| p == path)
                        .map(|(_, id)| *id)
                        .ok_or_else(|| anyhow::anyhow!("no KB category {path:?}"))?;
                    made.one();
                    api.post(
                        "/api/v1/kb/articles",
                        json!({ "category_id": category, "title": title, "body": body,
                                "note": "Demo content" }),
                    )
                    .await?
                }
            };
            // Drafts and articles in review are published; archived ones stay archived.
            let steps: &[&str] = match article.status.as_str() {
                "draft" => &["submit", "approve"],
                "review" => &["approve"],
                _ => &[],
            };
            let mut status = article.status.clone();
            for action in steps {
                let a: KbArticleDto = api
                    .post(
                        &format!("/api/v1/kb/articles/{}/transition", article.id),
                        json!({ "action": action }),
                    )
                    .await?;
                status = a.status;
            }
            if status == "published" {
                published += 1;
            }
        }
    }
    Ok(published)
}

async fn ensure_kb_category(
    api: &Api,
    have: &mut Vec<KbCategoryDto>,
    name: &str,
    parent: Option<Uuid>,
    position: usize,
    made: &mut Made,
) -> anyhow::Result<Uuid> {
    if let Some(c) = have
        .iter()
        .find(|c| c.parent_id == parent && c.name.to_lowercase() == name.to_lowercase())
    {
        return Ok(c.id);
    }
    let c: KbCategoryDto = api
        .post(
            "/api/v1/kb/categories",
            json!({ "name": name, "parent_id": parent, "position": position as i32 }),
        )
        .await?;
    made.one();
    let id = c.id;
    have.push(c);
    Ok(id)
}

// ------------------------------------------------------------------ outbound campaign

pub const CAMPAIGN: &str = "Debt reminder";

/// A preview campaign (the agent sees the customer and clicks to dial) for the Billing queue,
/// calling the customers in debt, with a short script; left in draft.
async fn campaign(api: &Api, made: &mut Made) -> anyhow::Result<()> {
    let have: Vec<CampaignDto> = api.get("/api/v1/campaigns").await?;
    let existing = have
        .into_iter()
        .find(|c| c.input.name.eq_ignore_ascii_case(CAMPAIGN));
    let campaign = match existing {
        Some(c) => c,
        None => {
            let queues: Vec<Value> = api.get("/api/v1/queues").await?;
            let billing = queues
                .iter()
                .find(|q| q["name"].as_str() == Some("Billing"))
                .and_then(|q| q["id"].as_str())
                .ok_or_else(|| anyhow::anyhow!("no Billing queue"))?;
            let weekday = json!(["09:00", "18:00"]);
            made.one();
            api.post(
                "/api/v1/campaigns",
                json!({
                    "name": CAMPAIGN,
                    "kind": "agent",
                    "dial_mode": "preview",
                    "queue_id": billing,
                    "caller_id": DEMO_DID,
                    "calling_hours": [weekday, weekday, weekday, weekday, weekday,
                                      ["10:00", "14:00"], null],
                    "timezone": "Asia/Baku",
                    "max_attempts": 3,
                    "retry_interval_secs": 3600,
                    "script": [
                        { "id": "holder", "text": "Am I speaking with the account holder?",
                          "kind": "choice", "options": [
                              { "value": "yes", "label": "Yes" },
                              { "value": "no", "label": "No — ask when to call back", "next": "end" } ] },
                        { "id": "aware", "text": "Our records show an unpaid balance on your account. Were you aware of it?",
                          "kind": "choice", "options": [
                              { "value": "yes", "label": "Yes" },
                              { "value": "no", "label": "No — explain the bill" } ] },
                        { "id": "promise", "text": "When can you pay?",
                          "kind": "choice", "options": [
                              { "value": "this_week", "label": "This week" },
                              { "value": "this_month", "label": "This month" },
                              { "value": "plan", "label": "Needs an instalment plan" } ] },
                        { "id": "notes", "text": "Notes", "kind": "text" }
                    ]
                }),
            )
            .await?
        }
    };
    if campaign.status == "draft" {
        let added: ContactsAdded = api
            .post(
                &format!("/api/v1/campaigns/{}/contacts/from-customers", campaign.id),
                json!({ "fields": { "payment_status": "In debt" }, "phone_label": "mobile" }),
            )
            .await?;
        made.0 += added.added as u32;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_customers_are_fifty_distinct_with_the_demo_caller_first() {
        let cs = demo_customers();
        assert_eq!(cs.len(), CUSTOMERS);
        assert_eq!(cs[0]["name"], DEMO_CUSTOMER);
        assert_eq!(cs[0]["phones"][0]["number"], DEMO_CALLER);
        let mut numbers = HashSet::new();
        let mut accounts = HashSet::new();
        for c in &cs {
            for p in c["phones"].as_array().unwrap() {
                let n = p["number"].as_str().unwrap();
                assert!(crate::validate::is_e164(n), "{n}");
                assert!(numbers.insert(n.to_string()), "{n} twice");
            }
            assert!(accounts.insert(c["fields"]["account_no"].to_string()));
        }
    }

    #[test]
    fn demo_workflows_pass_the_api_checks() {
        for t in demo_ticket_types() {
            crate::ticket_types::check_workflow(&t).unwrap();
            for m in &t.transitions {
                let langs: Vec<_> = m.name_i18n.keys().collect();
                assert_eq!(langs, ["az", "pl", "ru", "zh"], "{}", m.name);
            }
        }
    }

    #[test]
    fn demo_flow_is_valid_and_plays_built_in_prompts() {
        let flow: hotline_flows::Flow = serde_json::from_value(flow_graph()).unwrap();
        assert!(flow.validate().is_empty(), "{:?}", flow.validate());
        assert!(hotline_wire::prompts::is_builtin_prompt(MENU_PROMPT));
        assert!(hotline_wire::prompts::is_builtin_prompt("greeting"));
    }
}
