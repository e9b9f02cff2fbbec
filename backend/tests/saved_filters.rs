//! Saved filters (tenant migration 0027): a user saves named filters per screen, saving the
//! same name again replaces it, bad input is a 422 naming the field; a colleague and another
//! tenant see none of them and cannot delete them.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::SavedFilterDto;
use serde_json::json;

#[tokio::test]
async fn saved_filters_are_per_user_per_screen_and_replaced_by_name() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Filters A").await;
    let b = tenant(&app, "Filters B").await;
    let save = |c: &reqwest::Client, body: serde_json::Value| {
        c.post(app.url("/api/v1/saved-filters")).json(&body).send()
    };
    let list = |c: &reqwest::Client, screen: &str| {
        c.get(app.url(&format!("/api/v1/saved-filters?screen={screen}")))
            .send()
    };

    let smiths: SavedFilterDto = ok_json(
        save(
            &a.admin,
            json!({ "screen": "customers", "name": " Smiths ", "query": { "q": "smith" } }),
        )
        .await,
    )
    .await;
    assert_eq!(smiths.name, "Smiths");
    ok_json::<SavedFilterDto>(
        save(
            &a.admin,
            json!({ "screen": "customers", "name": "Baku", "query": { "q": "baku" } }),
        )
        .await,
    )
    .await;
    // The same name again replaces the query.
    let again: SavedFilterDto = ok_json(
        save(
            &a.admin,
            json!({ "screen": "customers", "name": "Smiths", "query": { "q": "smyth" } }),
        )
        .await,
    )
    .await;
    assert_eq!(again.id, smiths.id);
    let mine: Vec<SavedFilterDto> = ok_json(list(&a.admin, "customers").await).await;
    let names: Vec<_> = mine
        .iter()
        .map(|f| (f.name.as_str(), f.query["q"].as_str()))
        .collect();
    assert_eq!(names, vec![("Baku", "baku"), ("Smiths", "smyth")]);
    let calls: Vec<SavedFilterDto> = ok_json(list(&a.admin, "calls").await).await;
    assert!(calls.is_empty(), "per screen");

    // Bad input names the field.
    let long = "x".repeat(201);
    for (body, field) in [
        (
            json!({ "screen": "rockets", "name": "x", "query": {} }),
            "screen",
        ),
        (
            json!({ "screen": "customers", "name": "  ", "query": {} }),
            "name",
        ),
        (
            json!({ "screen": "customers", "name": "x", "query": { "q": long } }),
            "query",
        ),
    ] {
        let p = problem(save(&a.admin, body).await, 422, "validation_failed").await;
        assert_eq!(field_names(&p), vec![field]);
    }
    let p = problem(list(&a.admin, "rockets").await, 422, "validation_failed").await;
    assert_eq!(field_names(&p), vec!["screen"]);

    // A colleague and another tenant see none and delete none.
    let (_, colleague) = a.user(&app, "colleague@filters.test", "Supervisor").await;
    let theirs: Vec<SavedFilterDto> = ok_json(list(&colleague, "customers").await).await;
    assert!(theirs.is_empty());
    let other: Vec<SavedFilterDto> = ok_json(list(&b.admin, "customers").await).await;
    assert!(other.is_empty());
    let url = app.url(&format!("/api/v1/saved-filters/{}", smiths.id));
    problem(colleague.delete(&url).send().await, 404, "not_found").await;
    problem(b.admin.delete(&url).send().await, 404, "not_found").await;

    let r = a.admin.delete(&url).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let mine: Vec<SavedFilterDto> = ok_json(list(&a.admin, "customers").await).await;
    assert_eq!(mine.len(), 1);
    problem(a.admin.delete(&url).send().await, 404, "not_found").await;
}
