//! Tenant SIP trunks ("bring your own carrier"), over HTTP against the real server with the
//! real Redis: an administrator adds, reads, changes, disables and deletes a trunk; the
//! gateways' copy (`platform:trunks`, `platform:dids`) follows every change; the live state a
//! gateway writes (`platform:trunk_status`) is read back; the password never leaves the
//! server (answers, audit); bad input is refused by name; a trunk's numbers are unique on the
//! platform and map to a flow like the pool's; another tenant reaches nothing.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    api::{AuditEntry, Page},
    calls::{DidDto, FlowDto},
    trunks::{
        NumberFormat, TrunkConfig, TrunkDto, TrunkMode, TrunkState, TrunkStatus, TRUNKS_KEY,
        TRUNK_STATUS_KEY,
    },
};
use redis::AsyncCommands;
use reqwest::Client;
use serde_json::{json, Value};
use uuid::Uuid;

const SECRET: &str = "Carrier-Secret-7781";

/// Numbers no other test uses (the gateways' Redis copy is shared by every test): `+48 58`
/// and five random digits; the caller appends two more.
fn block() -> String {
    format!("+4858{:05}", Uuid::new_v4().as_u128() % 100_000)
}

fn register_trunk(name: &str, dids: &[String]) -> Value {
    json!({
        "name": name, "mode": "register", "host": "sip.carrier.example", "port": 5060,
        "username": "48581000", "password": SECRET, "codecs": ["PCMA", "PCMU"],
        "callee_format": "national", "country_code": "48", "national_prefix": "0",
        "inbound_dids": dids,
    })
}

async fn copy_of(app: &TestApp, id: Uuid) -> Option<TrunkConfig> {
    let mut r = app.state.redis();
    let v: Option<String> = r.hget(TRUNKS_KEY, id.to_string()).await.unwrap();
    v.map(|v| serde_json::from_str(&v).unwrap())
}

async fn routed_to(app: &TestApp, did: &str) -> Option<Uuid> {
    let mut r = app.state.redis();
    let v: Option<String> = r.hget("platform:dids", did).await.unwrap();
    v.map(|v| {
        let v: Value = serde_json::from_str(&v).unwrap();
        v["tenant_id"].as_str().unwrap().parse().unwrap()
    })
}

/// What a gateway writes after a REGISTER transaction.
async fn report(app: &TestApp, id: Uuid, s: &TrunkStatus) {
    let mut r = app.state.redis();
    let _: () = r
        .hset(
            TRUNK_STATUS_KEY,
            id.to_string(),
            serde_json::to_string(s).unwrap(),
        )
        .await
        .unwrap();
}

async fn get_text(app: &TestApp, c: &Client, path: &str) -> String {
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn published_flow(app: &TestApp, t: &Tenant, name: &str) -> FlowDto {
    let graph = json!({ "start": "bye", "nodes": { "bye": { "type": "hangup", "prompt": null } } });
    let flow: FlowDto = created(
        t.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": name, "graph": graph }))
            .send()
            .await,
    )
    .await;
    ok_json(
        t.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn trunks_are_stored_copied_to_the_gateways_and_report_their_state() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Trunks A").await;
    let ta = a.info.tenant.id;
    let b = block();
    let (d1, d2, d3) = (format!("{b}01"), format!("{b}02"), format!("{b}03"));

    // Created: the answer says a password is set and never shows it.
    let r = a
        .admin
        .post(app.url("/api/v1/trunks"))
        .json(&register_trunk("Carrier PL", &[d2.clone(), d1.clone()]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let raw = r.text().await.unwrap();
    assert!(!raw.contains(SECRET), "{raw}");
    let t: TrunkDto = serde_json::from_str(&raw).unwrap();
    assert!(t.has_password && t.enabled && !t.outbound);
    assert_eq!(t.mode, TrunkMode::Register);
    assert_eq!(t.callee_format, NumberFormat::National);
    assert_eq!(t.inbound_dids, [d1.clone(), d2.clone()]);
    assert_eq!(t.register_expires, 300);
    assert!(t.status.is_none(), "no gateway reported yet");

    // The gateways' copy: the whole config with the password; the numbers route to A.
    let cfg = copy_of(&app, t.id).await.expect("copied");
    assert_eq!(cfg.tenant_id, ta);
    assert_eq!(cfg.password, SECRET);
    assert_eq!(cfg.host, "sip.carrier.example");
    assert_eq!(cfg.username, "48581000");
    assert_eq!(cfg.inbound_dids, [d1.clone(), d2.clone()]);
    assert_eq!(routed_to(&app, &d1).await, Some(ta));
    assert_eq!(routed_to(&app, &d2).await, Some(ta));

    // The list and the trunk: no password either.
    for path in [
        "/api/v1/trunks".to_string(),
        format!("/api/v1/trunks/{}", t.id),
    ] {
        let raw = get_text(&app, &a.admin, &path).await;
        assert!(!raw.contains(SECRET), "{raw}");
        assert!(raw.contains("\"has_password\":true"), "{raw}");
    }

    // A gateway reports the registration: shown with the list.
    let until = chrono::Utc::now() + chrono::Duration::seconds(300);
    report(
        &app,
        t.id,
        &TrunkStatus {
            state: TrunkState::Registered,
            status: Some(200),
            reason: Some("OK".into()),
            gateway_id: "gw-1".into(),
            at: chrono::Utc::now(),
            expires_at: Some(until),
        },
    )
    .await;
    let list: Vec<TrunkDto> = ok_json(a.admin.get(app.url("/api/v1/trunks")).send().await).await;
    assert_eq!(list.len(), 1);
    let s = list[0].status.clone().expect("reported");
    assert_eq!(s.state, TrunkState::Registered);
    assert_eq!(s.expires_at.map(|e| e.timestamp()), Some(until.timestamp()));
    // …then a refusal.
    report(
        &app,
        t.id,
        &TrunkStatus {
            state: TrunkState::Failed,
            status: Some(403),
            reason: Some("Forbidden".into()),
            gateway_id: "gw-1".into(),
            at: chrono::Utc::now(),
            expires_at: None,
        },
    )
    .await;
    let one: TrunkDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/trunks/{}", t.id)))
            .send()
            .await,
    )
    .await;
    let s = one.status.expect("reported");
    assert_eq!((s.state, s.status), (TrunkState::Failed, Some(403)));
    assert_eq!(s.reason.as_deref(), Some("Forbidden"));

    // The trunk's number maps to a flow like a pool number (`/ivr/dids`).
    let dids: Vec<DidDto> = ok_json(a.admin.get(app.url("/api/v1/ivr/dids")).send().await).await;
    let listed = dids
        .iter()
        .find(|d| d.did == d1)
        .expect("trunk number listed");
    assert_eq!(listed.description, "Carrier PL");
    let flow = published_flow(&app, &a, "Main").await;
    let _: Value = ok_json(
        a.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": d2, "flow_id": flow.id }))
            .send()
            .await,
    )
    .await;

    // Replaced without a password: the stored one is kept. d2 leaves (with its flow), d3 comes.
    let mut body = register_trunk("Carrier PL main", &[d1.clone(), d3.clone()]);
    body.as_object_mut().unwrap().remove("password");
    body["port"] = json!(5080);
    body["outbound_proxy"] = json!("Proxy.Carrier.example:5062");
    body["allowed_ips"] = json!(["203.0.113.0/24"]);
    let t2: TrunkDto = ok_json(
        a.admin
            .put(app.url(&format!("/api/v1/trunks/{}", t.id)))
            .json(&body)
            .send()
            .await,
    )
    .await;
    assert!(t2.has_password);
    assert_eq!(t2.name, "Carrier PL main");
    assert_eq!(
        t2.outbound_proxy.as_deref(),
        Some("proxy.carrier.example:5062")
    );
    assert_eq!(t2.inbound_dids, [d1.clone(), d3.clone()]);
    let cfg = copy_of(&app, t.id).await.unwrap();
    assert_eq!((cfg.password.as_str(), cfg.port), (SECRET, 5080));
    assert_eq!(cfg.allowed_ips, ["203.0.113.0/24"]);
    assert_eq!(
        routed_to(&app, &d2).await,
        None,
        "removed number still routes"
    );
    assert_eq!(routed_to(&app, &d3).await, Some(ta));
    let dids: Vec<DidDto> = ok_json(a.admin.get(app.url("/api/v1/ivr/dids")).send().await).await;
    assert!(dids.iter().all(|d| d.did != d2), "{dids:?}");

    // Disabled: out of the gateways' trunks, its numbers still the tenant's.
    body["enabled"] = json!(false);
    let off: TrunkDto = ok_json(
        a.admin
            .put(app.url(&format!("/api/v1/trunks/{}", t.id)))
            .json(&body)
            .send()
            .await,
    )
    .await;
    assert!(!off.enabled);
    assert!(
        copy_of(&app, t.id).await.is_none(),
        "a disabled trunk is copied"
    );
    assert_eq!(routed_to(&app, &d1).await, Some(ta));

    // Enabled and outbound; a second trunk taking the outbound role clears it on the first.
    body["enabled"] = json!(true);
    body["outbound"] = json!(true);
    let on: TrunkDto = ok_json(
        a.admin
            .put(app.url(&format!("/api/v1/trunks/{}", t.id)))
            .json(&body)
            .send()
            .await,
    )
    .await;
    assert!(on.outbound && copy_of(&app, t.id).await.unwrap().outbound);
    let ip: TrunkDto = created(
        a.admin
            .post(app.url("/api/v1/trunks"))
            .json(
                &json!({ "name": "Carrier IP", "mode": "ip", "host": "198.51.100.10",
                           "allowed_ips": ["198.51.100.10", "198.51.100.0/28"],
                           "outbound": true, "caller_id": { "fixed": d1 } }),
            )
            .send()
            .await,
    )
    .await;
    assert!(ip.outbound && !ip.has_password);
    assert_eq!(ip.caller_id.fixed.as_deref(), Some(d1.as_str()));
    let first: TrunkDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/trunks/{}", t.id)))
            .send()
            .await,
    )
    .await;
    assert!(!first.outbound, "two outbound trunks");
    assert!(!copy_of(&app, t.id).await.unwrap().outbound);
    assert!(copy_of(&app, ip.id).await.unwrap().outbound);

    // A password cleared with "" on an IP trunk; a register trunk cannot lose it.
    let mut cleared = body.clone();
    cleared["password"] = json!("");
    let p = problem(
        a.admin
            .put(app.url(&format!("/api/v1/trunks/{}", t.id)))
            .json(&cleared)
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["password"]);

    // Audited by name; the password is in no audit detail.
    let page: Page<AuditEntry> = ok_json(
        a.admin
            .get(app.url("/api/v1/audit?action=trunk."))
            .send()
            .await,
    )
    .await;
    let actions: Vec<&str> = page.items.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"trunk.create") && actions.contains(&"trunk.update"),
        "{actions:?}"
    );
    let created_entry = page
        .items
        .iter()
        .find(|e| e.action == "trunk.create" && e.target_id == Some(t.id.to_string()))
        .unwrap();
    assert_eq!(
        created_entry.target_name.as_deref(),
        Some("Carrier PL main")
    );
    let audit_raw = get_text(&app, &a.admin, "/api/v1/audit?action=trunk.").await;
    assert!(!audit_raw.contains(SECRET), "{audit_raw}");

    // Deleted: gone from Postgres, the gateways' copy and the routing; audited by name.
    let r = a
        .admin
        .delete(app.url(&format!("/api/v1/trunks/{}", t.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(copy_of(&app, t.id).await.is_none());
    assert_eq!(routed_to(&app, &d1).await, None);
    assert_eq!(routed_to(&app, &d3).await, None);
    let mut r = app.state.redis();
    let st: Option<String> = r.hget(TRUNK_STATUS_KEY, t.id.to_string()).await.unwrap();
    assert!(st.is_none());
    problem(
        a.admin
            .get(app.url(&format!("/api/v1/trunks/{}", t.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let page: Page<AuditEntry> = ok_json(
        a.admin
            .get(app.url("/api/v1/audit?action=trunk.delete"))
            .send()
            .await,
    )
    .await;
    assert_eq!(page.items[0].details["name"], "Carrier PL main");
    // The IP trunk's fixed caller ID was d1, now no number of A's: the IP trunk stays (it is
    // checked again when saved); its copy is intact.
    assert!(copy_of(&app, ip.id).await.is_some());

    // A start rewrites the copy from Postgres (Redis emptied of this tenant's trunk).
    let _: () = r.hdel(TRUNKS_KEY, ip.id.to_string()).await.unwrap();
    hotline_backend::trunks::publish_all(&app.state)
        .await
        .unwrap();
    assert!(
        copy_of(&app, ip.id).await.is_some(),
        "not repaired at start"
    );
}

#[tokio::test]
async fn trunk_input_is_refused_by_name() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Trunks Input").await;
    let b = block();
    let url = app.url("/api/v1/trunks");
    let base = register_trunk("Good", &[]);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name", json!(""), "name"),
        ("host", json!("sip:carrier.example"), "host"),
        ("host", json!("https://carrier.example"), "host"),
        ("host", json!("carrier example"), "host"),
        ("host", json!("carrier.example:5060"), "host"),
        ("port", json!(0), "port"),
        (
            "outbound_proxy",
            json!("proxy.example:99999"),
            "outbound_proxy",
        ),
        ("allowed_ips", json!(["10.0.0.0/33"]), "allowed_ips.0"),
        (
            "allowed_ips",
            json!(["10.0.0.1", "carrier.example"]),
            "allowed_ips.1",
        ),
        ("inbound_dids", json!(["0221234567"]), "inbound_dids.0"),
        (
            "inbound_dids",
            json!([format!("{b}01"), format!("{b}01")]),
            "inbound_dids.1",
        ),
        ("codecs", json!([]), "codecs"),
        ("codecs", json!(["PCMU", "PCMU"]), "codecs"),
        ("username", json!(""), "username"),
        ("username", json!("a b"), "username"),
        ("password", json!(""), "password"),
        ("country_code", json!(""), "country_code"),
        ("country_code", json!("+4a"), "country_code"),
        ("national_prefix", json!("0x"), "national_prefix"),
        ("register_expires", json!(10), "register_expires"),
        (
            "caller_id",
            json!({ "fixed": "48221234567" }),
            "caller_id.fixed",
        ),
    ];
    for (key, value, field) in cases {
        let mut body = base.clone();
        body[key] = value.clone();
        let p = problem(
            a.admin.post(&url).json(&body).send().await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_names(&p), [field], "{key} = {value}");
    }
    // An IP trunk without the carrier's addresses.
    let p = problem(
        a.admin
            .post(&url)
            .json(&json!({ "name": "IP", "mode": "ip", "host": "198.51.100.1" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["allowed_ips"]);
    // A port out of range, an unknown mode or codec: not the body we take.
    for (key, value) in [
        ("port", json!(70000)),
        ("mode", json!("peer")),
        ("codecs", json!(["G729"])),
    ] {
        let mut body = base.clone();
        body[key] = value;
        problem(
            a.admin.post(&url).json(&body).send().await,
            400,
            "malformed_body",
        )
        .await;
    }
    // A fixed caller ID that is not the tenant's.
    let mut body = base.clone();
    body["caller_id"] = json!({ "fixed": "+48221234567" });
    let p = problem(
        a.admin.post(&url).json(&body).send().await,
        422,
        "caller_id_not_owned",
    )
    .await;
    assert_eq!(field_names(&p), ["caller_id.fixed"]);
    // …but one of the trunk's own numbers is.
    let own = format!("{b}05");
    let mut body = register_trunk("Own caller ID", std::slice::from_ref(&own));
    body["caller_id"] = json!({ "fixed": own, "same_format_as_callee": true });
    let t: TrunkDto = created(a.admin.post(&url).json(&body).send().await).await;
    assert!(t.caller_id.same_format_as_callee);
    // Nothing was stored by the refused ones.
    let list: Vec<TrunkDto> = ok_json(a.admin.get(&url).send().await).await;
    assert_eq!(list.len(), 1);
    // The same name twice (whatever the case).
    problem(
        a.admin
            .post(&url)
            .json(&register_trunk("own caller id", &[]))
            .send()
            .await,
        409,
        "trunk_name_taken",
    )
    .await;
    // Not an administrator.
    let (_, agent) = a.user(&app, "agent@trunks-input.test", "Agent").await;
    problem(agent.get(&url).send().await, 403, "forbidden").await;
    problem(agent.post(&url).json(&base).send().await, 403, "forbidden").await;
}

#[tokio::test]
async fn trunk_numbers_are_unique_on_the_platform_and_tenants_are_isolated() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Trunks Iso A").await;
    let bt = tenant(&app, "Trunks Iso B").await;
    let op = operator(&app).await;
    let b = block();
    let (pool, mine, other) = (format!("{b}11"), format!("{b}12"), format!("{b}13"));
    let url = app.url("/api/v1/trunks");

    // A pool number (free) cannot come in on a trunk.
    let _: Value = created(
        op.post(app.url("/api/v1/platform/numbers"))
            .json(&json!({ "numbers": [pool], "region": "Gdańsk" }))
            .send()
            .await,
    )
    .await;
    problem(
        a.admin
            .post(&url)
            .json(&register_trunk("A", std::slice::from_ref(&pool)))
            .send()
            .await,
        409,
        "did_pool_number",
    )
    .await;
    let t: TrunkDto = created(
        a.admin
            .post(&url)
            .json(&register_trunk("A", std::slice::from_ref(&mine)))
            .send()
            .await,
    )
    .await;
    // Another of A's trunks, another tenant: refused; A's number keeps routing to A.
    problem(
        a.admin
            .post(&url)
            .json(&register_trunk("A2", std::slice::from_ref(&mine)))
            .send()
            .await,
        409,
        "did_on_other_trunk",
    )
    .await;
    let p = problem(
        bt.admin
            .post(&url)
            .json(&register_trunk("B", &[other.clone(), mine.clone()]))
            .send()
            .await,
        409,
        "did_taken",
    )
    .await;
    assert!(p.detail.as_deref().unwrap_or("").contains(&mine), "{p:?}");
    assert!(!p.detail.unwrap_or_default().contains("Trunks Iso A"));
    assert_eq!(routed_to(&app, &mine).await, Some(a.info.tenant.id));
    assert_eq!(
        routed_to(&app, &other).await,
        None,
        "a refused trunk's number routes"
    );
    // The operator cannot add it to the pool, take it back or delete it.
    let p = problem(
        op.post(app.url("/api/v1/platform/numbers"))
            .json(&json!({ "numbers": [mine] }))
            .send()
            .await,
        409,
        "number_exists",
    )
    .await;
    assert!(p.detail.unwrap_or_default().contains(&mine));
    let enc = mine.replace('+', "%2B");
    problem(
        op.post(app.url(&format!("/api/v1/platform/numbers/{enc}/release")))
            .send()
            .await,
        409,
        "trunk_number",
    )
    .await;
    problem(
        op.delete(app.url(&format!("/api/v1/platform/dids/{enc}")))
            .send()
            .await,
        409,
        "trunk_number",
    )
    .await;
    // Nor can B map it to a flow; B sees no trunk of A's.
    let flow = published_flow(&app, &bt, "B main").await;
    problem(
        bt.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": mine, "flow_id": flow.id }))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let b_list: Vec<TrunkDto> = ok_json(bt.admin.get(&url).send().await).await;
    assert!(b_list.is_empty());
    let one = app.url(&format!("/api/v1/trunks/{}", t.id));
    problem(bt.admin.get(&one).send().await, 404, "not_found").await;
    problem(
        bt.admin
            .put(&one)
            .json(&register_trunk("Stolen", &[]))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    problem(bt.admin.delete(&one).send().await, 404, "not_found").await;
    // A's trunk untouched.
    let still: TrunkDto = ok_json(a.admin.get(&one).send().await).await;
    assert_eq!(
        (still.name.as_str(), still.inbound_dids.clone()),
        ("A", vec![mine.clone()])
    );
    assert!(copy_of(&app, t.id).await.is_some());
    // Once A removes the number, B may bring it.
    let _: TrunkDto = ok_json(
        a.admin
            .put(&one)
            .json(&register_trunk("A", &[]))
            .send()
            .await,
    )
    .await;
    let bt_trunk: TrunkDto = created(
        bt.admin
            .post(&url)
            .json(&register_trunk("B", std::slice::from_ref(&mine)))
            .send()
            .await,
    )
    .await;
    assert_eq!(routed_to(&app, &mine).await, Some(bt.info.tenant.id));
    assert_eq!(
        copy_of(&app, bt_trunk.id).await.unwrap().tenant_id,
        bt.info.tenant.id
    );
}
