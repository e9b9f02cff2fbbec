//! A desk phone set up through the API, end to end (issue 18): the admin creates the
//! extension's SIP account and gets its password once; a SIPp phone REGISTERs with it to the
//! real gateway and is accepted; after a rotation the old password is refused (403) and the
//! new one accepted; the registration shows in the API with the phone's User-Agent; a caller
//! on the tenant's number is then offered to the agent on that phone, which rings (INVITE)
//! and talks.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use common::{
    bridged, caller, finished, gateway, register, register_expecting, set_state, tenant, workdir,
    ANSWERING_PHONE,
};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{free_port, scenario, sipp};
use hotline_wire::desk_phones::{DeskPhoneCredentials, DeskPhoneDto};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_phone_registers_with_the_api_password_and_rings_for_a_call() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Desk Water").await;
    let did = "+994125559261";
    let number = "+15550007261";
    t.queue_on_number(
        &app,
        json!({ "name": "Front desk", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        did,
    )
    .await;
    let aysel = t
        .agent(&app, "aysel@desk.test", "Aysel", Some("1001"), &[])
        .await;
    let work = workdir("deskphone");
    let gw = gateway(&app, &work, 0, false);
    let domain = format!("{}.hotline.test", t.slug);
    let url = app.url(&format!("/api/v1/users/{aysel}/desk-phone"));
    let create = |expect: u16| {
        let (c, url) = (t.admin.clone(), url.clone());
        async move {
            let r = c.post(url).send().await.unwrap();
            assert_eq!(r.status().as_u16(), expect);
            r.json::<DeskPhoneCredentials>().await.unwrap()
        }
    };
    // A REGISTER from a fresh port with `password`, expecting `status`.
    let try_register = |name: &'static str, password: String, status: u16| {
        let dir = work.join(name);
        let (gw_addr, domain) = (gw.addr.clone(), domain.clone());
        async move {
            std::fs::create_dir_all(&dir).unwrap();
            let reg = sipp(
                &dir,
                "register",
                &register_expecting(&domain, "1001", &password, status),
                &["-p", &free_port().to_string(), "-s", "1001", &gw_addr],
            );
            finished(reg, &dir, name).await;
        }
    };

    // The admin creates the account: the first password registers.
    let first = create(201).await;
    assert_eq!(first.domain, domain);
    try_register("first", first.password.clone(), 200).await;
    // Rotated: the old password is refused, the new one accepted.
    let second = create(200).await;
    assert!(second.rotated);
    try_register("old-after-rotation", first.password.clone(), 403).await;

    // The phone on the new password registers, then waits for calls on the same port.
    let phone_dir = work.join("phone");
    std::fs::create_dir_all(&phone_dir).unwrap();
    let port = free_port().to_string();
    let reg = sipp(
        &phone_dir,
        "register",
        &register(&domain, "1001", &second.password),
        &["-p", &port, "-s", "1001", &gw.addr],
    );
    finished(reg, &phone_dir, "REGISTER").await;
    let phone = sipp(
        &phone_dir,
        "phone",
        &scenario(ANSWERING_PHONE),
        &["-p", &port, "-mp", &free_port().to_string()],
    );
    // The users page's status: registered, since when, by which phone.
    let list: Vec<DeskPhoneDto> = t
        .admin
        .get(app.url("/api/v1/desk-phones"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reg = list[0].registration.clone().expect("registered");
    assert_eq!(reg.user_agent.as_deref(), Some("SIPp desk phone"));
    assert!(reg.contact.starts_with("sip:1001@127.0.0.1:"), "{reg:?}");
    assert!(reg.since.is_some() && reg.expires_at > reg.since);

    // Aysel is Ready: a caller on the number rings her desk phone, which answers.
    let ca = t.login(&app, "aysel@desk.test").await;
    set_state(&app, &ca, "ready").await;
    let cust_dir = work.join("cust");
    std::fs::create_dir_all(&cust_dir).unwrap();
    let customer = sipp(
        &cust_dir,
        "customer",
        &scenario(&caller(number, 3_000, 1_000)),
        &["-s", did, "-mp", &free_port().to_string(), &gw.addr],
    );
    bridged(&app, number).await;
    finished(customer, &cust_dir, "caller").await;
    finished(phone, &phone_dir, "the desk phone").await;
    drop(gw);
}
