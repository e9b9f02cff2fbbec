//! The demo's own names (interaction categories, ticket types, workflow statuses and moves) follow the
//! language the user picks: an agent of the seeded demo switches to Russian and the agent
//! desktop, the ticket register and a ticket's page show the Russian names, and the knowledge
//! base pane finds the Russian articles.
//!
//! Same requirements as `browser_spa.rs` (Chromium, chromedriver, a built `frontend/dist`,
//! Postgres and Redis); failures leave a screenshot in `tests/artifacts/`.

use anyhow::ensure;
use hotline_backend::{seed, testkit::TestApp};
use hotline_e2e::browser::run;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_demo_names_in_russian() {
    let app = TestApp::spawn().await;
    seed::demo(&app.state).await.expect("demo seeded");
    run(
        "browser_demo_names_in_russian",
        &app.base_url,
        async move |b| {
            b.open("/login").await?;
            b.fill("#tenant", seed::DEMO_SLUG).await?;
            b.fill("#email", "agent1@demo.hotline.test").await?;
            b.fill("#password", seed::DEMO_PASSWORD).await?;
            b.click("#login-submit").await?;
            b.wait_path("/agent").await?;
            // In English first: the names as the tenant wrote them.
            b.choose("#interaction-category", "Billing › Payment")
                .await?;
            b.choose("#new-ticket-type", "Complaint").await?;

            // The app's language picker: the tenant's names switch with the UI.
            b.choose("#lang-picker", "Русский").await?;
            b.wait_text("label[for=interaction-category]", "Категория")
                .await?;
            b.choose("#interaction-category", "Расчёты › Оплата")
                .await?;
            b.choose("#new-ticket-type", "Жалоба").await?;
            let types = b
                .js("return [...document.querySelectorAll('#new-ticket-type option')].map(o => o.textContent)")
                .await?;
            ensure!(
                types == serde_json::json!(["Жалоба", "Новое подключение", "Заявка на обслуживание"]),
                "ticket types: {types}"
            );

            // The knowledge base pane finds the Russian article in Russian.
            b.fill("#kb-query", "утечка").await?;
            b.click("#kb-search-submit").await?;
            b.wait_text("#kb-hits", "Сообщение об утечке воды").await?;

            // The saved interaction's path, then a ticket from it.
            b.fill("#interaction-notes", "Оплата не прошла").await?;
            b.click("#interaction-save").await?;
            b.wait_text("#interaction-path", "Расчёты › Оплата").await?;
            b.click("#new-ticket-create").await?;
            b.wait("#ticket-created").await?;

            // The register and the ticket's page: status, category path and type in Russian.
            b.open("/tickets").await?;
            let row = b
                .wait_text("#tickets-table tr[data-number='1']", "Расчёты › Оплата")
                .await?;
            ensure!(row.contains("Новая"), "status not translated: {row}");
            b.click("#tickets-table tr[data-number='1'] a").await?;
            b.wait_text("#ticket-status", "Новая").await?;
            let facts = b.wait_text("#ticket-facts", "Жалоба").await?;
            ensure!(facts.contains("Расчёты › Оплата"), "ticket facts: {facts}");
            // The workflow's move buttons are translated too; pressing one moves the ticket.
            b.wait_text(".ticket-move[data-to='in_progress']", "Начать работу")
                .await?;
            b.click(".ticket-move[data-to='in_progress']").await?;
            b.wait_text("#ticket-status", "В работе").await?;
            b.wait_text(".ticket-move[data-to='resolved']", "Решить")
                .await?;
            b.click("#logout").await?;
            b.wait_path("/login").await?;

            // The admin's "Names and translations": a bad value is refused under its input,
            // then a new Russian name for Billing › Payment is saved and shown.
            b.fill("#tenant", seed::DEMO_SLUG).await?;
            b.fill("#email", seed::ADMIN_EMAIL).await?;
            b.fill("#password", seed::DEMO_PASSWORD).await?;
            b.click("#login-submit").await?;
            b.wait("#logout").await?;
            b.open("/admin/names").await?;
            b.wait_text("h1", "Названия и переводы").await?;
            let form = "form[data-name='Billing › Payment']";
            b.click(&format!("{form} summary")).await?;
            b.fill(&format!("{form} input[id$='-name-ru']"), &"П".repeat(201))
                .await?;
            b.click(&format!("{form} button[type=submit]")).await?;
            b.wait_text(&format!("{form} .field-error"), "200")
                .await?;
            b.fill(&format!("{form} input[id$='-name-ru']"), "Платёж")
                .await?;
            b.click(&format!("{form} button[type=submit]")).await?;
            b.wait_text(&format!("{form} .alert.ok"), "Переводы сохранены")
                .await?;
            let form = "form[data-name='Complaint']";
            b.click(&format!("{form} summary")).await?;
            let v = b.value(&format!("{form} input[id$='-name-ru']")).await?;
            ensure!(v == "Жалоба", "Complaint in Russian: {v}");
            // Its moves have their own translation inputs.
            let start = format!("{form} .names-move[data-from='new'][data-to='in_progress']");
            b.click(&format!("{start} summary")).await?;
            let v = b.value(&format!("{start} input[id$='-ru']")).await?;
            ensure!(v == "Начать работу", "Start work in Russian: {v}");
            Ok(())
        },
    )
    .await;
}
