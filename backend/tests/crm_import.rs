//! Customer CSV import (preview, column mapping, per-row errors, valid rows kept) and export.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{api::Page, crm::*};
use serde_json::json;

#[tokio::test]
async fn csv_import_keeps_good_rows_and_reports_bad_ones() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Import Co").await;
    let a = &t.admin;
    for f in [
        json!({ "key": "account", "label": "Account", "kind": "text", "required": true }),
        json!({ "key": "district", "label": "District", "kind": "choice", "options": ["Nasimi", "Sabail"] }),
    ] {
        created::<CustomerFieldDto>(
            a.post(app.url("/api/v1/customer-fields"))
                .json(&f)
                .send()
                .await,
        )
        .await;
    }
    // Semicolons, a BOM, a quoted cell with the delimiter, and four kinds of bad rows.
    let csv = "\u{feff}Full name;Tel;Acc;Area\n\
               Aysel Mammadova;+994 12 555 01 00;A-1;Nasimi\n\
               \"Rashad; Jr\";+994501112233;A-2;Sabail\n\
               ;+994501112234;A-3;Nasimi\n\
               Bad Phone;call me;A-4;Nasimi\n\
               No Account;+994501112235;;Mars\n\
               Short row;+994501112236\n\
               Leyla;;A-7;\n";
    let preview: ImportPreview = ok_json(
        a.post(app.url("/api/v1/customers/import/preview"))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await,
    )
    .await;
    assert_eq!(preview.columns, ["Full name", "Tel", "Acc", "Area"]);
    assert_eq!(preview.delimiter, ";");
    assert_eq!(preview.rows, 7);
    assert_eq!(preview.sample[1][0], "Rashad; Jr");

    // A mapping to a column that does not exist is refused before anything is written.
    let p = problem(
        a.post(app.url("/api/v1/customers/import?name=Full%20name&field.account=Nope"))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["mapping.field.account"]);

    let report: ImportReport = ok_json(
        a.post(app.url("/api/v1/customers/import"))
            .query(&[
                ("name", "Full name"),
                ("phone", "Tel"),
                ("field.account", "Acc"),
                ("field.district", "Area"),
            ])
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await,
    )
    .await;
    assert_eq!(report.imported, 3, "{report:?}");
    let lines: Vec<usize> = report.failed.iter().map(|f| f.line).collect();
    assert_eq!(lines, [4, 5, 6, 7]);
    let why = |line: usize| {
        report
            .failed
            .iter()
            .find(|f| f.line == line)
            .unwrap()
            .errors
            .iter()
            .map(|e| e.field.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(why(4), ["name"]);
    assert_eq!(why(5), ["phones[0].number"]);
    assert_eq!(why(6), ["fields.account", "fields.district"]);
    assert_eq!(why(7), ["row"]);
    let page: Page<CustomerDto> = ok_json(a.get(app.url("/api/v1/customers")).send().await).await;
    assert_eq!(
        page.total, 3,
        "Aysel, Rashad and Leyla (no phone, no district: both optional)"
    );
    let pop: CustomerLookup = ok_json(
        a.get(app.url("/api/v1/customers/lookup?phone=%2B994125550100"))
            .send()
            .await,
    )
    .await;
    assert_eq!(pop.matches[0].fields["district"], "Nasimi");

    // Not UTF-8 → a clear 400; nothing imported.
    problem(
        a.post(app.url("/api/v1/customers/import?name=Full%20name"))
            .header("content-type", "text/csv")
            .body(vec![b'N', b'\n', 0xff, 0xfe, b'\n'])
            .send()
            .await,
        400,
        "bad_encoding",
    )
    .await;

    // Export: a header from the template and the customers, values intact.
    let r = a
        .get(app.url("/api/v1/customers/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("name,phones,account,district"));
    assert_eq!(
        lines.next(),
        Some("Aysel Mammadova,+994125550100,A-1,Nasimi")
    );
    assert_eq!(lines.next(), Some("Leyla,,A-7,"));
    assert_eq!(lines.next(), Some("Rashad; Jr,+994501112233,A-2,Sabail"));

    // Another tenant's export holds none of it; agents without crm.write cannot import.
    let b = tenant(&app, "Other Co").await;
    let other = b
        .admin
        .get(app.url("/api/v1/customers/export.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(other.trim(), "name,phones");
}
