//! Desk phones (issue 18): an admin creates a SIP account for a user's extension and gets
//! the generated password once; only its digest HA1 reaches the gateway's Redis copy;
//! rotating replaces it (the old one no longer matches, the old phone's binding is dropped);
//! changing the extension or deleting ends the account; bad requests are clear 4xx; another
//! tenant reaches nothing. The real gateway accepting and refusing these passwords is
//! `tests/tests/desk_phone.rs`.

mod common;

use common::*;
use hotline_backend::desk_phones::ha1;
use hotline_backend::testkit::TestApp;
use hotline_wire::desk_phones::{DeskPhoneCredentials, DeskPhoneDto};
use hotline_wire::gateway as wire;
use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn desk_phone_passwords_are_shown_once_rotated_and_isolated() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Phones A").await;
    let b = tenant(&app, "Phones B").await;
    let ta = a.info.tenant.id;
    let role = a.role(&app, "Agent").await;
    let agent: hotline_wire::api::UserDto = created(
        a.admin
            .post(app.url("/api/v1/users"))
            .json(
                &json!({ "email": "desk@phones-a.test", "name": "Desk Agent",
                           "password": PASSWORD, "role_id": role.id, "extension": "2001" }),
            )
            .send()
            .await,
    )
    .await;
    let (no_ext, agent_c) = a.user(&app, "noext@phones-a.test", "Agent").await;
    let url = |u: uuid::Uuid| app.url(&format!("/api/v1/users/{u}/desk-phone"));
    let mut r = app.state.redis();
    let stored_ha1 = |ext: &'static str| {
        let mut r = r.clone();
        async move {
            let v: Option<String> = r
                .hget(wire::sip_extension_key(ta, ext), "ha1")
                .await
                .unwrap();
            v
        }
    };

    // Created: the password comes back once, with what a softphone needs.
    let first: DeskPhoneCredentials = created(a.admin.post(url(agent.id)).send().await).await;
    assert_eq!(first.extension, "2001");
    assert!(!first.rotated);
    assert_eq!(first.password.len(), 20);
    assert_eq!(first.domain, format!("{}.hotline.test", a.slug()));
    for part in [
        first.password.as_str(),
        first.domain.as_str(),
        "SIP user: 2001",
        "Transport: UDP",
        "Port: 5080",
    ] {
        assert!(first.provisioning.contains(part), "{}", first.provisioning);
    }
    // The QR code holds a one-time address serving the account to a softphone (Linphone's
    // remote provisioning): no session needed, the password inside, gone after one fetch.
    assert!(
        first
            .provisioning_url
            .starts_with(&app.url("/api/v1/provisioning/")),
        "{}",
        first.provisioning_url
    );
    assert_eq!(
        first.provisioning_qr,
        hotline_backend::desk_phones::qr_data_url(&first.provisioning_url).unwrap(),
        "the QR code encodes the provisioning address"
    );
    let anonymous = reqwest::Client::new();
    let doc = anonymous.get(&first.provisioning_url).send().await.unwrap();
    assert_eq!(doc.status(), StatusCode::OK);
    assert!(doc.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    let xml = doc.text().await.unwrap();
    for part in [
        format!("<entry name=\"passwd\">{}</entry>", first.password),
        "<entry name=\"username\">2001</entry>".to_string(),
        format!(
            "<entry name=\"reg_identity\">sip:2001@{}</entry>",
            first.domain
        ),
    ] {
        assert!(xml.contains(&part), "{part} not in {xml}");
    }
    let again = anonymous.get(&first.provisioning_url).send().await.unwrap();
    assert_eq!(
        again.status(),
        StatusCode::NOT_FOUND,
        "a provisioning address works once"
    );
    for bad in ["nope", "0123456789abcdef0123456789abcdef", "%00"] {
        let r = anonymous
            .get(app.url(&format!("/api/v1/provisioning/{bad}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
    }

    // What the gateway checks a REGISTER against: HA1 with the tenant slug as realm.
    assert_eq!(
        stored_ha1("2001").await.as_deref(),
        Some(ha1("2001", a.slug(), &first.password).as_str())
    );

    // The list shows the account and never the password; not registered yet.
    let raw = a
        .admin
        .get(app.url("/api/v1/desk-phones"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!raw.contains(&first.password), "{raw}");
    let list: Vec<DeskPhoneDto> = serde_json::from_str(&raw).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].user_id, agent.id);
    assert!(list[0].registration.is_none());
    // Registered (the gateway's record of a REGISTER): shown with its contact.
    register_desk_phone(&app, ta, "2001", "gw-test").await;
    let list: Vec<DeskPhoneDto> =
        ok_json(a.admin.get(app.url("/api/v1/desk-phones")).send().await).await;
    let reg = list[0].registration.clone().expect("registered");
    assert_eq!(reg.contact, "sip:2001@127.0.0.1:5099");

    // Rotated: a new password, the old one no longer matches, the old phone is dropped.
    let second: DeskPhoneCredentials = ok_json(a.admin.post(url(agent.id)).send().await).await;
    assert!(second.rotated);
    assert_ne!(second.password, first.password);
    let now = stored_ha1("2001").await.unwrap();
    assert_eq!(now, ha1("2001", a.slug(), &second.password));
    assert_ne!(now, ha1("2001", a.slug(), &first.password));
    let list: Vec<DeskPhoneDto> =
        ok_json(a.admin.get(app.url("/api/v1/desk-phones")).send().await).await;
    assert!(list[0].registration.is_none());
    assert!(list[0].rotated_at >= list[0].created_at);

    // Bad requests: no extension, unknown user, malformed id, no permission.
    problem(
        a.admin.post(url(no_ext.id)).send().await,
        409,
        "no_extension",
    )
    .await;
    problem(
        a.admin.post(url(uuid::Uuid::new_v4())).send().await,
        404,
        "not_found",
    )
    .await;
    let bad = a
        .admin
        .post(app.url("/api/v1/users/not-a-uuid/desk-phone"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    problem(agent_c.post(url(agent.id)).send().await, 403, "forbidden").await;
    problem(
        agent_c.get(app.url("/api/v1/desk-phones")).send().await,
        403,
        "forbidden",
    )
    .await;

    // Another tenant sees nothing and changes nothing.
    problem(b.admin.post(url(agent.id)).send().await, 404, "not_found").await;
    problem(b.admin.delete(url(agent.id)).send().await, 404, "not_found").await;
    let theirs: Vec<DeskPhoneDto> =
        ok_json(b.admin.get(app.url("/api/v1/desk-phones")).send().await).await;
    assert!(theirs.is_empty());
    assert_eq!(
        stored_ha1("2001").await.unwrap(),
        ha1("2001", a.slug(), &second.password)
    );

    // A new extension ends the account (the HA1 was for the old user name).
    let patched = a
        .admin
        .patch(app.url(&format!("/api/v1/users/{}", agent.id)))
        .json(&json!({ "extension": "2002" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    assert_eq!(stored_ha1("2001").await, None);
    let list: Vec<DeskPhoneDto> =
        ok_json(a.admin.get(app.url("/api/v1/desk-phones")).send().await).await;
    assert!(list.is_empty());

    // Created again for the new extension, then deleted: gone from the gateway's copy.
    let third: DeskPhoneCredentials = created(a.admin.post(url(agent.id)).send().await).await;
    assert_eq!(third.extension, "2002");
    assert!(stored_ha1("2002").await.is_some());
    let del = a.admin.delete(url(agent.id)).send().await.unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    assert_eq!(stored_ha1("2002").await, None);
    problem(a.admin.delete(url(agent.id)).send().await, 404, "not_found").await;

    // Every change is audited, and no password is in the audit log.
    let audit = a
        .admin
        .get(app.url("/api/v1/audit?action=desk_phone."))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for action in [
        "desk_phone.create",
        "desk_phone.rotate",
        "desk_phone.delete",
    ] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
    for p in [&first.password, &second.password, &third.password] {
        assert!(!audit.contains(p.as_str()));
    }
    let _: () = r.del(wire::registration_key(ta, "2001")).await.unwrap();
}
