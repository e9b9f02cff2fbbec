//! Telephone number self-service (issue 18, "Numbers"): the platform's pool and tenants'
//! requests, over HTTP against the real server. The operator fills the pool (bad numbers and
//! ranges refused by name), gives and takes back numbers — a pool number routes to nobody: it
//! is never in the gateways' Redis copy —; tenants see only free numbers, race for one (one
//! wins, the other gets a 409), cancel, and learn why a request was rejected; no tenant sees
//! or maps another's numbers or requests; both sides are audited.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    api::{AuditEntry, Page},
    calls::{DidDto, FlowDto},
    numbers::{
        FreeNumber, NumberRequestDto, NumberState, PlatformNumberRequest, PoolNumber, RequestStatus,
    },
};
use redis::AsyncCommands;
use reqwest::Client;
use serde_json::{json, Value};
use uuid::Uuid;

/// A block of numbers no other test uses (the gateways' Redis copy is shared by every test):
/// `+99477` and six random digits; the caller appends two more.
fn block() -> String {
    format!("+99477{:06}", Uuid::new_v4().as_u128() % 1_000_000)
}

/// The gateways' copy of `did`: the tenant it routes to, if any.
async fn routed_to(app: &TestApp, did: &str) -> Option<Uuid> {
    let mut r = app.state.redis();
    let v: Option<String> = r.hget("platform:dids", did).await.unwrap();
    v.map(|v| {
        let v: Value = serde_json::from_str(&v).unwrap();
        v["tenant_id"].as_str().unwrap().parse().unwrap()
    })
}

async fn pool(app: &TestApp, op: &Client, query: &str) -> Page<PoolNumber> {
    ok_json(
        op.get(app.url(&format!("/api/v1/platform/numbers{query}")))
            .send()
            .await,
    )
    .await
}

fn enc(did: &str) -> String {
    did.replace('+', "%2B")
}

async fn add(app: &TestApp, op: &Client, body: Value) -> Vec<PoolNumber> {
    created(
        op.post(app.url("/api/v1/platform/numbers"))
            .json(&body)
            .send()
            .await,
    )
    .await
}

/// A published flow of the tenant that hangs up.
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

async fn audit(app: &TestApp, c: &Client, action: &str) -> Vec<AuditEntry> {
    let page: Page<AuditEntry> = ok_json(
        c.get(app.url(&format!("/api/v1/audit?action={action}")))
            .send()
            .await,
    )
    .await;
    page.items
}

async fn platform_audit(app: &TestApp, action: &str, did: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM platform.audit WHERE action = $1 AND target_id = $2")
        .bind(action)
        .bind(did)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn operators_add_numbers_and_bad_numbers_are_named() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let b = block();
    let url = app.url("/api/v1/platform/numbers");

    // A list and a range in one go, with the region label.
    let added = add(
        &app,
        &op,
        json!({
            "numbers": [format!("{b}90"), format!(" {b}95 ")],
            "range_first": format!("{b}00"), "range_last": format!("{b}04"),
            "region": "Azerbaijan, Baku", "description": "Batch 1"
        }),
    )
    .await;
    let dids: Vec<&str> = added.iter().map(|n| n.did.as_str()).collect();
    let want: Vec<String> = ["00", "01", "02", "03", "04", "90", "95"]
        .iter()
        .map(|s| format!("{b}{s}"))
        .collect();
    assert_eq!(dids, want);
    assert!(added.iter().all(|n| n.state == NumberState::Free
        && n.tenant_id.is_none()
        && n.region == "Azerbaijan, Baku"
        && n.description == "Batch 1"));
    // Free numbers route to nobody.
    for d in &want {
        assert_eq!(routed_to(&app, d).await, None, "{d} routes");
    }

    // Malformed numbers: each named, with what an E.164 number is.
    let p = problem(
        op.post(&url)
            .json(&json!({ "numbers": [format!("{b}10"), "+994 12 555 01 00", "0994125550100", "+12"] }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["numbers.1", "numbers.2", "numbers.3"]);
    assert_eq!(
        p.errors[0].message,
        "\"+994 12 555 01 00\" is not an E.164 number: write + and then 7 to 15 digits, the \
         first not 0, without spaces (like +994125550100)"
    );
    // A range too big, backwards, of two lengths, or with one end missing.
    let p = problem(
        op.post(&url)
            .json(&json!({ "range_first": format!("{b}00"), "range_last": "+994770000000000" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["range_last"]);
    assert!(p.errors[0].message.contains("as many digits"), "{p:?}");
    let first = format!("+99478{:04}00000", Uuid::new_v4().as_u128() % 10_000);
    let last = format!("{}1000", &first[..first.len() - 4]);
    let p = problem(
        op.post(&url)
            .json(&json!({ "range_first": first, "range_last": last }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["range_last"]);
    assert_eq!(
        p.errors[0].message,
        format!("a range holds at most 1000 numbers; {first} to {last} is 1001")
    );
    let p = problem(
        op.post(&url)
            .json(&json!({ "range_first": format!("{b}09"), "range_last": format!("{b}05") }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        p.errors[0].message.contains("must not come before"),
        "{p:?}"
    );
    let p = problem(
        op.post(&url)
            .json(&json!({ "range_first": format!("{b}09") }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["range_last"]);
    let p = problem(
        op.post(&url)
            .json(&json!({ "region": "Baku" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["numbers"]);
    // Not even the right JSON shape: 400 naming the field.
    let p = problem(
        op.post(&url)
            .json(&json!({ "numbers": "+994125550100" }))
            .send()
            .await,
        400,
        "malformed_body",
    )
    .await;
    assert!(format!("{p:?}").contains("numbers"), "{p:?}");
    // Numbers already there: a 409 naming them, and nothing of the batch is added.
    let p = problem(
        op.post(&url)
            .json(&json!({ "numbers": [format!("{b}50"), format!("{b}03")] }))
            .send()
            .await,
        409,
        "number_exists",
    )
    .await;
    assert!(
        p.detail
            .as_deref()
            .unwrap_or_default()
            .contains(&format!("{b}03")),
        "{p:?}"
    );
    let all = pool(&app, &op, &format!("?q={}", enc(&b))).await;
    assert_eq!(all.total, 7, "the refused batch added {:?}", all.items);

    // Filters: the region (any case), a number's start.
    let baku = pool(&app, &op, "?q=bAKU").await;
    assert_eq!(baku.total, 7);
    let nineties = pool(&app, &op, &format!("?q={}9", enc(&b))).await;
    assert_eq!(nineties.items.len(), 2);
    let paged = pool(&app, &op, &format!("?q={}&per_page=3&page=3", enc(&b))).await;
    assert_eq!((paged.total, paged.items.len()), (7, 1));
    problem(
        op.get(app.url("/api/v1/platform/numbers?state=gone"))
            .send()
            .await,
        400,
        "malformed_query",
    )
    .await;

    // Delete a free number; the operator's audit has the batch and the deletion.
    let r = op
        .delete(app.url(&format!("/api/v1/platform/numbers/{}", enc(&want[6]))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(pool(&app, &op, &format!("?q={}", enc(&b))).await.total, 6);
    assert_eq!(platform_audit(&app, "number.add", &want[0]).await, 1);
    assert_eq!(platform_audit(&app, "number.delete", &want[6]).await, 1);
    problem(
        op.delete(app.url(&format!("/api/v1/platform/numbers/{}", enc(&want[6]))))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn assigned_numbers_route_and_released_ones_stop_with_their_flow_mapping() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let t = tenant(&app, "Pool Taker").await;
    let b = block();
    let did = format!("{b}00");
    add(&app, &op, json!({ "numbers": [did], "region": "Baku" })).await;
    // A stale copy (an older release that never removed it) is cleaned by the full sync.
    let mut r = app.state.redis();
    let _: () = r
        .hset(
            "platform:dids",
            &did,
            json!({ "tenant_id": t.info.tenant.id }).to_string(),
        )
        .await
        .unwrap();
    hotline_backend::gateway_sync::sync_all(&app.state)
        .await
        .unwrap();
    assert_eq!(routed_to(&app, &did).await, None, "a pool number routes");
    // The tenant cannot map a pool number to a flow.
    let flow = published_flow(&app, &t, "Main").await;
    problem(
        t.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": did, "flow_id": flow.id }))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;

    let assign = app.url(&format!("/api/v1/platform/numbers/{}/assign", enc(&did)));
    let p = problem(
        op.post(&assign)
            .json(&json!({ "tenant_id": Uuid::new_v4() }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["tenant_id"]);
    let n: PoolNumber = ok_json(
        op.post(&assign)
            .json(&json!({ "tenant_id": t.info.tenant.id }))
            .send()
            .await,
    )
    .await;
    assert_eq!(n.state, NumberState::Assigned);
    assert_eq!(n.tenant_name.as_deref(), Some("Pool Taker"));
    assert!(n.assigned_at.is_some());
    assert_eq!(routed_to(&app, &did).await, Some(t.info.tenant.id));
    problem(
        op.post(&assign)
            .json(&json!({ "tenant_id": t.info.tenant.id }))
            .send()
            .await,
        409,
        "number_assigned",
    )
    .await;
    problem(
        op.delete(app.url(&format!("/api/v1/platform/numbers/{}", enc(&did))))
            .send()
            .await,
        409,
        "number_assigned",
    )
    .await;
    let mine = pool(
        &app,
        &op,
        &format!("?state=assigned&tenant_id={}", t.info.tenant.id),
    )
    .await;
    assert_eq!(
        mine.items.iter().map(|n| &n.did).collect::<Vec<_>>(),
        [&did]
    );
    assert_eq!(
        pool(&app, &op, &format!("?state=free&q={}", enc(&b)))
            .await
            .total,
        0
    );
    // A full sync keeps it (it has a tenant).
    hotline_backend::gateway_sync::sync_all(&app.state)
        .await
        .unwrap();
    assert_eq!(routed_to(&app, &did).await, Some(t.info.tenant.id));

    // The tenant maps it to a flow, and sees its region.
    ok_json::<Value>(
        t.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": did, "flow_id": flow.id }))
            .send()
            .await,
    )
    .await;
    let dids: Vec<DidDto> = ok_json(t.admin.get(app.url("/api/v1/ivr/dids")).send().await).await;
    assert_eq!(dids.len(), 1);
    assert_eq!(
        (dids[0].flow_id, dids[0].region.as_str()),
        (Some(flow.id), "Baku")
    );

    let ids: Value = ok_json(t.admin.get(app.url("/api/v1/caller-ids")).send().await).await;
    assert_eq!(ids["dids"], json!([did]), "the tenant's caller IDs");

    // Released: routes to nobody, the mapping is gone from the tenant's schema, both audited.
    let n: PoolNumber = ok_json(
        op.post(app.url(&format!("/api/v1/platform/numbers/{}/release", enc(&did))))
            .send()
            .await,
    )
    .await;
    assert_eq!((n.state, n.tenant_id), (NumberState::Free, None));
    assert_eq!(routed_to(&app, &did).await, None);
    let dids: Vec<DidDto> = ok_json(t.admin.get(app.url("/api/v1/ivr/dids")).send().await).await;
    assert!(dids.is_empty(), "{dids:?}");
    let mapped: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM tenant_{}.ivr_did_flows",
        t.info.tenant.id.simple()
    )))
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(mapped, 0);
    problem(
        op.post(app.url(&format!("/api/v1/platform/numbers/{}/release", enc(&did))))
            .send()
            .await,
        409,
        "number_free",
    )
    .await;
    let released = audit(&app, &t.admin, "number.released").await;
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].target_id.as_deref(), Some(did.as_str()));
    assert!(
        released[0].actor.starts_with("operator:op-"),
        "{:?}",
        released[0]
    );
    assert_eq!(released[0].details["flow_assignment_removed"], true);
    assert_eq!(audit(&app, &t.admin, "number.assigned").await.len(), 1);
    assert_eq!(platform_audit(&app, "number.release", &did).await, 1);
    // The number is no longer the tenant's caller ID either.
    let ids: Value = ok_json(t.admin.get(app.url("/api/v1/caller-ids")).send().await).await;
    assert_eq!(ids["dids"], json!([]), "the tenant's caller IDs");
}

#[tokio::test]
async fn two_tenants_race_for_a_number_and_requests_are_decided() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let a = tenant(&app, "Racer A").await;
    let b = tenant(&app, "Racer B").await;
    let blk = block();
    let (n1, n2, n3) = (format!("{blk}01"), format!("{blk}02"), format!("{blk}03"));
    add(
        &app,
        &op,
        json!({ "numbers": [n1, n2, n3], "region": "Ganja" }),
    )
    .await;

    // Tenants see the free numbers: the number and the region, nothing else.
    let free: Value = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/numbers/pool?q={}", enc(&blk))))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        free,
        json!([
            { "did": n1, "region": "Ganja" },
            { "did": n2, "region": "Ganja" },
            { "did": n3, "region": "Ganja" }
        ])
    );

    // Both ask for the same number at once: one gets it, the other a clear 409.
    let ask = |c: &Client, note: &str| {
        c.post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": n1, "note": note }))
            .send()
    };
    let (ra, rb) = tokio::join!(ask(&a.admin, "For sales"), ask(&b.admin, "Ours!"));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let (winner, loser, loser_resp) = if ra.status() == 201 {
        (&a, &b, rb)
    } else {
        (&b, &a, ra)
    };
    let p: hotline_wire::api::Problem = loser_resp.json().await.unwrap();
    assert_eq!(p.code, "number_requested");
    assert_eq!(
        p.detail.as_deref(),
        Some(
            format!("Another call center has asked for {n1} first: choose another number.")
                .as_str()
        )
    );
    // Asking again for a number one asked for already, and asking for a number not offered.
    problem(ask(&winner.admin, "again").await, 409, "number_requested").await;
    problem(
        winner
            .admin
            .post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": format!("{blk}77") }))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let p = problem(
        winner
            .admin
            .post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": "12345", "note": "x".repeat(501) }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["did", "note"]);
    // The requested number is no longer offered to anyone.
    let free: Vec<FreeNumber> = ok_json(
        loser
            .admin
            .get(app.url(&format!("/api/v1/numbers/pool?q={}", enc(&blk))))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        free.iter().map(|f| f.did.as_str()).collect::<Vec<_>>(),
        [n2.as_str(), n3.as_str()]
    );

    // The operator sees it pending with who asked; it is marked in the pool.
    let pending: Vec<PlatformNumberRequest> = ok_json(
        op.get(app.url("/api/v1/platform/number-requests"))
            .send()
            .await,
    )
    .await;
    assert_eq!(pending.len(), 1);
    let req = &pending[0];
    assert_eq!(req.did, n1);
    assert_eq!(req.tenant_id, winner.info.tenant.id);
    assert_eq!(req.region, "Ganja");
    assert_eq!(req.requested_name, format!("{} Admin", req.tenant_name));
    assert_eq!(
        req.note,
        if winner.info.tenant.id == a.info.tenant.id {
            "For sales"
        } else {
            "Ours!"
        }
    );
    let requested = pool(&app, &op, "?state=requested").await;
    assert_eq!(requested.items.len(), 1);
    assert_eq!(requested.items[0].request_id, Some(req.id));

    // Approved: the winner's number, routed to it.
    let approved: PlatformNumberRequest = ok_json(
        op.post(app.url(&format!(
            "/api/v1/platform/number-requests/{}/approve",
            req.id
        )))
        .send()
        .await,
    )
    .await;
    assert_eq!(approved.status, RequestStatus::Approved);
    assert_eq!(routed_to(&app, &n1).await, Some(winner.info.tenant.id));
    let theirs: Vec<DidDto> =
        ok_json(winner.admin.get(app.url("/api/v1/ivr/dids")).send().await).await;
    assert_eq!(
        theirs.iter().map(|d| d.did.as_str()).collect::<Vec<_>>(),
        [n1.as_str()]
    );
    problem(
        op.post(app.url(&format!(
            "/api/v1/platform/number-requests/{}/approve",
            req.id
        )))
        .send()
        .await,
        409,
        "already_decided",
    )
    .await;
    // Now assigned: the loser is told it is gone, the winner that it is theirs.
    problem(ask(&loser.admin, "please").await, 409, "number_unavailable").await;
    problem(ask(&winner.admin, "more").await, 409, "number_assigned").await;

    // The loser asks for another; the operator rejects it, saying why.
    let mine: NumberRequestDto = created(
        loser
            .admin
            .post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": n2, "note": "Second line" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(mine.status, RequestStatus::Pending);
    let p = problem(
        op.post(app.url(&format!(
            "/api/v1/platform/number-requests/{}/reject",
            mine.id
        )))
        .json(&json!({ "reason": "  " }))
        .send()
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["reason"]);
    ok_json::<PlatformNumberRequest>(
        op.post(app.url(&format!(
            "/api/v1/platform/number-requests/{}/reject",
            mine.id
        )))
        .json(&json!({ "reason": "Reserved for the city council" }))
        .send()
        .await,
    )
    .await;
    let seen: Vec<NumberRequestDto> = ok_json(
        loser
            .admin
            .get(app.url("/api/v1/numbers/requests"))
            .send()
            .await,
    )
    .await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].status, RequestStatus::Rejected);
    assert_eq!(seen[0].reason, "Reserved for the city council");
    assert_eq!(routed_to(&app, &n2).await, None);
    let rejected: Vec<PlatformNumberRequest> = ok_json(
        op.get(app.url("/api/v1/platform/number-requests?status=rejected"))
            .send()
            .await,
    )
    .await;
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        rejected[0]
            .decided_by
            .as_deref()
            .map(|s| s.starts_with("op-")),
        Some(true)
    );

    // Asked again and cancelled by the tenant: offered again; a second cancel is refused.
    let again: NumberRequestDto = created(
        loser
            .admin
            .post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": n2 }))
            .send()
            .await,
    )
    .await;
    let cancelled: NumberRequestDto = ok_json(
        loser
            .admin
            .post(app.url(&format!("/api/v1/numbers/requests/{}/cancel", again.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(cancelled.status, RequestStatus::Cancelled);
    problem(
        loser
            .admin
            .post(app.url(&format!("/api/v1/numbers/requests/{}/cancel", again.id)))
            .send()
            .await,
        409,
        "already_decided",
    )
    .await;
    problem(
        op.post(app.url(&format!(
            "/api/v1/platform/number-requests/{}/reject",
            again.id
        )))
        .json(&json!({ "reason": "late" }))
        .send()
        .await,
        409,
        "already_decided",
    )
    .await;

    // A pending request closes when the operator gives the number to someone else.
    let third: NumberRequestDto = created(
        loser
            .admin
            .post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": n3 }))
            .send()
            .await,
    )
    .await;
    ok_json::<PoolNumber>(
        op.post(app.url(&format!("/api/v1/platform/numbers/{}/assign", enc(&n3))))
            .json(&json!({ "tenant_id": winner.info.tenant.id }))
            .send()
            .await,
    )
    .await;
    let seen: Vec<NumberRequestDto> = ok_json(
        loser
            .admin
            .get(app.url("/api/v1/numbers/requests"))
            .send()
            .await,
    )
    .await;
    let third = seen.iter().find(|r| r.id == third.id).unwrap();
    assert_eq!(third.status, RequestStatus::Rejected);
    assert_eq!(third.reason, "The number was given to another call center.");

    // Audited on both sides.
    let asked = audit(&app, &loser.admin, "number.request").await;
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert_eq!(
        audit(&app, &loser.admin, "number.request_cancel")
            .await
            .len(),
        1
    );
    let rej = audit(&app, &loser.admin, "number.request_rejected").await;
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].details["reason"], "Reserved for the city council");
    assert_eq!(
        audit(&app, &winner.admin, "number.request_approved")
            .await
            .len(),
        1
    );
    assert_eq!(platform_audit(&app, "number.request.approve", &n1).await, 1);
    assert_eq!(platform_audit(&app, "number.request.reject", &n2).await, 1);
}

#[tokio::test]
async fn tenants_never_see_or_touch_each_others_numbers_and_requests() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let a = tenant(&app, "Iso A").await;
    let b = tenant(&app, "Iso B").await;
    let blk = block();
    let (n1, n2) = (format!("{blk}01"), format!("{blk}02"));
    add(&app, &op, json!({ "numbers": [n1, n2], "region": "Baku" })).await;
    ok_json::<PoolNumber>(
        op.post(app.url(&format!("/api/v1/platform/numbers/{}/assign", enc(&n1))))
            .json(&json!({ "tenant_id": a.info.tenant.id }))
            .send()
            .await,
    )
    .await;
    let asked: NumberRequestDto = created(
        a.admin
            .post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": n2, "note": "private note" }))
            .send()
            .await,
    )
    .await;

    // B sees neither A's number nor its request; A's number is not on B's free list.
    let b_dids: Vec<DidDto> = ok_json(b.admin.get(app.url("/api/v1/ivr/dids")).send().await).await;
    assert!(b_dids.is_empty(), "{b_dids:?}");
    let b_reqs: Vec<NumberRequestDto> = ok_json(
        b.admin
            .get(app.url("/api/v1/numbers/requests"))
            .send()
            .await,
    )
    .await;
    assert!(b_reqs.is_empty(), "{b_reqs:?}");
    let b_free: Vec<FreeNumber> = ok_json(
        b.admin
            .get(app.url(&format!("/api/v1/numbers/pool?q={}", enc(&blk))))
            .send()
            .await,
    )
    .await;
    assert!(b_free.is_empty(), "{b_free:?}");
    // B cannot cancel A's request (404, as if it did not exist) nor map A's number.
    problem(
        b.admin
            .post(app.url(&format!("/api/v1/numbers/requests/{}/cancel", asked.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let b_flow = published_flow(&app, &b, "B main").await;
    problem(
        b.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": n1, "flow_id": b_flow.id }))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    // A's request is still pending and its number still A's.
    let a_reqs: Vec<NumberRequestDto> = ok_json(
        a.admin
            .get(app.url("/api/v1/numbers/requests"))
            .send()
            .await,
    )
    .await;
    assert_eq!(a_reqs.len(), 1);
    assert_eq!(a_reqs[0].status, RequestStatus::Pending);
    assert_eq!(routed_to(&app, &n1).await, Some(a.info.tenant.id));

    // Only administrators with settings.write ask; tenants never reach the operators' API.
    let (_, agent) = a.user(&app, "agent@iso-a.test", "Agent").await;
    for path in ["/api/v1/numbers/pool", "/api/v1/numbers/requests"] {
        problem(agent.get(app.url(path)).send().await, 403, "forbidden").await;
    }
    problem(
        agent
            .post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": n2 }))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
    for path in [
        "/api/v1/platform/numbers",
        "/api/v1/platform/number-requests",
    ] {
        problem(
            a.admin.get(app.url(path)).send().await,
            401,
            "unauthenticated",
        )
        .await;
    }
    problem(
        a.admin
            .post(app.url(&format!(
                "/api/v1/platform/number-requests/{}/approve",
                asked.id
            )))
            .send()
            .await,
        401,
        "unauthenticated",
    )
    .await;

    // At most ten pending requests per tenant.
    let more: Vec<String> = (10..21).map(|i| format!("{blk}{i}")).collect();
    add(&app, &op, json!({ "numbers": more })).await;
    for d in &more[..9] {
        created::<NumberRequestDto>(
            b.admin
                .post(app.url("/api/v1/numbers/requests"))
                .json(&json!({ "did": d }))
                .send()
                .await,
        )
        .await;
    }
    created::<NumberRequestDto>(
        b.admin
            .post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": more[9] }))
            .send()
            .await,
    )
    .await;
    problem(
        b.admin
            .post(app.url("/api/v1/numbers/requests"))
            .json(&json!({ "did": more[10] }))
            .send()
            .await,
        409,
        "request_limit",
    )
    .await;
}

#[tokio::test]
async fn the_demo_seed_offers_pool_numbers_that_route_nowhere() {
    let app = TestApp::spawn().await;
    hotline_backend::seed::demo(&app.state).await.unwrap();
    for did in hotline_backend::seed::DEMO_POOL {
        let tenant: Option<Option<Uuid>> =
            sqlx::query_scalar("SELECT tenant_id FROM platform.dids WHERE did = $1")
                .bind(did)
                .fetch_optional(&app.state.db)
                .await
                .unwrap();
        assert_eq!(tenant, Some(None), "{did} is not a free pool number");
        assert_eq!(routed_to(&app, did).await, None, "{did} routes");
    }
    // The demo number itself still routes to the demo tenant.
    assert!(routed_to(&app, hotline_backend::seed::DEMO_DID)
        .await
        .is_some());
}
