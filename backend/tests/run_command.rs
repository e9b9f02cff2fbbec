//! The README's run command (`infra/run.sh`) brings the stack up on a fresh database:
//! `/readyz` answers 200, the printed demo credentials log in, Ctrl-C (SIGTERM) stops it.

use hotline_backend::testkit;
use std::{
    os::unix::process::CommandExt,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// The run command's process group: SIGTERM to all of it (as Ctrl-C would), then reap.
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn run_command_brings_up_the_api_with_a_working_demo_login() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let db = testkit::create_database().await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::env::temp_dir().join(format!("hotline-run-{port}.log"));
    let child = Command::new("bash")
        .arg("infra/run.sh")
        .current_dir(root)
        .env("DATABASE_URL", testkit::database_url(&db))
        .env("HOTLINE_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "HOTLINE_GW_SIP_ADDR",
            format!("127.0.0.1:{}", port.wrapping_add(1).max(1024)),
        )
        .env("HOTLINE_GW_RTP_PORTS", "31000-31099")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("bash runs");
    let group = Group(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "readyz never answered 200; log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let printed = std::fs::read_to_string(&log).unwrap();
    assert!(
        printed.contains(hotline_backend::seed::ADMIN_EMAIL),
        "credentials printed: {printed}"
    );
    for email in [
        hotline_backend::seed::ADMIN_EMAIL,
        "agent1@demo.hotline.test",
    ] {
        let r = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({ "tenant": "demo", "email": email, "password": hotline_backend::seed::DEMO_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{email} logs in");
    }
    let users = client
        .get(format!("{base}/api/v1/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 403, "the last login was an agent's");
    drop(group);
    // It stops on SIGTERM.
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/healthz")).send().await.is_ok() {
        assert!(Instant::now() < deadline, "still serving after SIGTERM");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
