//! A queue's announcements through the API (issue 17): the interval is 0 (off) or 15–600 s and
//! is required when an announcement is on; every refusal is a 422 naming
//! `announce_interval_seconds`; what is saved comes back on the queue.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::QueueDto;
use serde_json::{json, Value};

fn queue(position: bool, wait: bool, every: i64) -> Value {
    json!({ "name": "Front desk", "strategy": "longest_idle", "max_wait_seconds": 0,
            "wrap_up_seconds": 30, "announce_position": position, "announce_wait": wait,
            "announce_interval_seconds": every })
}

#[tokio::test]
async fn the_announcement_interval_is_off_or_15_to_600_seconds_and_is_saved() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Announcing").await;
    let url = app.url("/api/v1/queues");
    for (position, wait, every) in [
        (true, false, 14),
        (false, true, 601),
        (true, true, 0),
        (false, false, -5),
    ] {
        let p = problem(
            t.admin
                .post(&url)
                .json(&queue(position, wait, every))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(
            field_names(&p),
            ["announce_interval_seconds"],
            "position {position}, wait {wait}, every {every}: {p:?}"
        );
    }

    // An older client that sends no announcement fields: off.
    let mut plain = queue(false, false, 0);
    for f in [
        "announce_position",
        "announce_wait",
        "announce_interval_seconds",
    ] {
        plain.as_object_mut().unwrap().remove(f);
    }
    let q: QueueDto = created(t.admin.post(&url).json(&plain).send().await).await;
    assert!(!q.announce_position && !q.announce_wait);
    assert_eq!(q.announce_interval_seconds, 0);

    // On, at the shortest interval; then changed and read back.
    let put = app.url(&format!("/api/v1/queues/{}", q.id));
    let q: QueueDto = ok_json(t.admin.put(&put).json(&queue(true, true, 15)).send().await).await;
    assert!(q.announce_position && q.announce_wait);
    assert_eq!(q.announce_interval_seconds, 15);
    let p = problem(
        t.admin.put(&put).json(&queue(true, false, 5)).send().await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["announce_interval_seconds"]);
    let q: QueueDto = ok_json(
        t.admin
            .put(&put)
            .json(&queue(false, true, 600))
            .send()
            .await,
    )
    .await;
    let got: QueueDto = ok_json(t.admin.get(&put).send().await).await;
    assert_eq!(got, q);
    assert!(!got.announce_position && got.announce_wait);
    assert_eq!(got.announce_interval_seconds, 600);
}
