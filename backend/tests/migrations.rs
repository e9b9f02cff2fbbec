//! Tenant migrations: a new migration reaches every existing tenant, exactly once, and an
//! upgrade interrupted midway resumes where it stopped.

mod common;

use hotline_backend::{
    db::{self, embedded, Migration},
    testkit::TestApp,
};

const EXTRA: Migration = Migration {
    version: 9001,
    name: "test_extra",
    // Not idempotent on purpose: running it twice in one schema would fail.
    sql: "CREATE TABLE test_extra (id integer PRIMARY KEY); INSERT INTO test_extra VALUES (1);",
};

const CRASHY: Migration = Migration {
    version: 9002,
    name: "test_crashy",
    sql: "DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM public.crash_switch WHERE schema = current_schema()) THEN
              RAISE EXCEPTION 'simulated crash in %', current_schema();
            END IF;
          END $$;
          CREATE TABLE test_more (id integer);",
};

async fn versions(app: &TestApp) -> Vec<i32> {
    sqlx::query_scalar("SELECT schema_version FROM platform.tenants ORDER BY created_at, id")
        .fetch_all(&app.state.db)
        .await
        .unwrap()
}

async fn count_in(app: &TestApp, schema: &str, table: &str) -> Option<i64> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {schema}.{table}"
    )))
    .fetch_one(&app.state.db)
    .await
    .ok()
}

#[tokio::test]
async fn new_tenant_migrations_reach_every_tenant_once_and_resume_after_a_crash() {
    let app = TestApp::spawn().await;
    let mut schemas = vec![];
    for name in ["Mig One", "Mig Two", "Mig Three"] {
        let t = common::tenant(&app, name).await;
        schemas.push(db::schema_name(t.info.tenant.id));
    }
    let base = embedded::TENANT.last().unwrap().version;
    assert_eq!(versions(&app).await, vec![base; 3]);

    // Re-running with nothing new changes nothing.
    let report = db::upgrade_tenants(&app.state.db, embedded::TENANT)
        .await
        .unwrap();
    assert_eq!(report.migrations_applied, 0);

    // The second tenant "crashes" in the new migration.
    sqlx::raw_sql("CREATE TABLE public.crash_switch (schema text)")
        .execute(&app.state.db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO public.crash_switch VALUES ($1)")
        .bind(&schemas[1])
        .execute(&app.state.db)
        .await
        .unwrap();
    let mut set: Vec<Migration> = embedded::TENANT.to_vec();
    set.extend([EXTRA, CRASHY]);
    let err = db::upgrade_tenants(&app.state.db, &set).await.unwrap_err();
    assert!(err.to_string().contains("simulated crash"), "{err}");
    assert_eq!(
        versions(&app).await,
        vec![9002, 9001, base],
        "first done, second stopped after 9001, third untouched"
    );
    assert_eq!(
        count_in(&app, &schemas[1], "test_more").await,
        None,
        "the failed migration left nothing"
    );

    // Fixed and re-run: resumes, each migration applied exactly once everywhere.
    sqlx::raw_sql("DELETE FROM public.crash_switch")
        .execute(&app.state.db)
        .await
        .unwrap();
    let report = db::upgrade_tenants(&app.state.db, &set).await.unwrap();
    assert_eq!(
        report.migrations_applied,
        1 + 2,
        "tenant two's 9002 and tenant three's 9001 and 9002"
    );
    assert_eq!(versions(&app).await, vec![9002; 3]);
    for s in &schemas {
        assert_eq!(count_in(&app, s, "test_extra").await, Some(1), "{s}");
        assert_eq!(count_in(&app, s, "test_more").await, Some(0), "{s}");
    }
    // A tenant that signs up now gets every embedded migration; the app keeps working for
    // the upgraded tenants.
    let t = common::tenant(&app, "Mig Four").await;
    let r = t.admin.get(app.url("/api/v1/users")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn two_nodes_upgrading_at_once_apply_each_migration_once() {
    let app = TestApp::spawn().await;
    for name in ["Race One", "Race Two"] {
        common::tenant(&app, name).await;
    }
    let mut set: Vec<Migration> = embedded::TENANT.to_vec();
    set.push(EXTRA);
    let (a, b) = tokio::join!(
        db::upgrade_tenants(&app.state.db, &set),
        db::upgrade_tenants(&app.state.db, &set)
    );
    assert_eq!(
        a.unwrap().migrations_applied + b.unwrap().migrations_applied,
        2
    );
    assert_eq!(versions(&app).await, vec![9001; 2]);
}

#[tokio::test]
async fn a_lower_numbered_migration_landing_late_still_reaches_every_tenant() {
    let app = TestApp::spawn().await;
    let t = common::tenant(&app, "Late One").await;
    let schema = db::schema_name(t.info.tenant.id);
    // 9001 is applied first (the tenant's schema_version becomes 9001)...
    let mut set: Vec<Migration> = embedded::TENANT.to_vec();
    set.push(EXTRA);
    db::upgrade_tenants(&app.state.db, &set).await.unwrap();
    // ...then a branch with 8999 lands.
    const LATE: Migration = Migration {
        version: 8999,
        name: "test_late",
        sql: "CREATE TABLE test_late (id integer);",
    };
    set.push(LATE);
    let report = db::upgrade_tenants(&app.state.db, &set).await.unwrap();
    assert_eq!(report.migrations_applied, 1);
    assert_eq!(count_in(&app, &schema, "test_late").await, Some(0));
    assert_eq!(
        versions(&app).await,
        vec![9001],
        "the version never goes down"
    );
}
