//! The backend serves the built SPA: MIME types, long caching for hashed files only, and the
//! SPA fallback for client-side routes (but never for unknown API paths).

use hotline_backend::testkit::TestApp;

#[tokio::test]
async fn serves_the_spa_with_caching_and_fallback() {
    let dir = std::env::temp_dir().join(format!("hotline-spa-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Hotline</title>",
    )
    .unwrap();
    std::fs::write(dir.join("hotline-0123456789ab.js"), "console.log(1)").unwrap();
    std::fs::write(dir.join("hotline-0123456789ab.wasm"), b"\0asm").unwrap();
    let spa = dir.clone();
    let app = TestApp::spawn_with(move |c| c.spa_dir = spa).await;
    let c = app.client();

    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(r.headers()["cache-control"], "no-cache");

    let r = c
        .get(app.url("/hotline-0123456789ab.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let r = c
        .get(app.url("/hotline-0123456789ab.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(&r.bytes().await.unwrap()[..], b"\0asm");
    // With the gzip copy build.sh writes, a browser that accepts gzip gets it.
    let gz = std::process::Command::new("gzip")
        .args(["-9", "-c", "-n"])
        .arg(dir.join("hotline-0123456789ab.wasm"))
        .output()
        .unwrap()
        .stdout;
    std::fs::write(dir.join("hotline-0123456789ab.wasm.gz"), &gz).unwrap();
    let r = c
        .get(app.url("/hotline-0123456789ab.wasm"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.bytes().await.unwrap(), gz);
    // A client without gzip still gets the plain file.
    let r = c
        .get(app.url("/hotline-0123456789ab.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(&r.bytes().await.unwrap()[..], b"\0asm");

    // A client-side route reloads into the app.
    let r = c.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<title>Hotline</title>"));
    // An unknown API path is a JSON 404, not the app.
    let r = c
        .get(app.url("/api/v1/does-not-exist"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    std::fs::remove_dir_all(dir).ok();
}
