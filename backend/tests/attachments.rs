//! The file store through its attachments: upload (raw and multipart), list, download with
//! the same bytes and safe headers, the size limit (413), content-type checks (415), delete
//! permissions, ticket history and audit, KB attachments, and isolation across tenants and
//! across tickets.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    api::{AuditEntry, Page},
    crm::{KbArticleDto, KbCategoryDto},
    tickets::*,
};
use reqwest::Client;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Uploads are limited to this in these tests.
const LIMIT: u64 = 64 * 1024;

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

/// The start of a Windows executable (DOS header pointing at a PE header).
const EXE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x80\0\0\0PE\0\0L\x01\x03\0";

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| c.max_upload_bytes = LIMIT).await
}

async fn ticket_type(app: &TestApp, admin: &Client) -> TicketTypeDto {
    created(
        admin
            .post(app.url("/api/v1/ticket-types"))
            .json(&json!({
                "name": "Request",
                "statuses": [
                    { "key": "new", "name": "New", "color": "#1f6feb", "initial": true },
                    { "key": "done", "name": "Done", "color": "#1a7f37", "final": true }
                ],
                "transitions": [{ "from": "new", "to": "done", "name": "Close" }]
            }))
            .send()
            .await,
    )
    .await
}

async fn new_ticket(app: &TestApp, c: &Client, ty: &TicketTypeDto, subject: &str) -> TicketDto {
    created(
        c.post(app.url("/api/v1/tickets"))
            .json(&json!({ "type_id": ty.id, "subject": subject }))
            .send()
            .await,
    )
    .await
}

/// A raw upload: the bytes as the body, the name in the query, the type in the header.
async fn put_raw(
    app: &TestApp,
    c: &Client,
    path: &str,
    name: &str,
    ctype: &str,
    bytes: &[u8],
) -> reqwest::Result<reqwest::Response> {
    c.post(app.url(path))
        .query(&[("name", name)])
        .header("content-type", ctype)
        .body(bytes.to_vec())
        .send()
        .await
}

/// A browser-style `multipart/form-data` upload with one file part.
async fn put_multipart(
    app: &TestApp,
    c: &Client,
    path: &str,
    name: &str,
    ctype: &str,
    bytes: &[u8],
) -> reqwest::Result<reqwest::Response> {
    let boundary = "----hotline-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nignored\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: {ctype}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    c.post(app.url(path))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn get_bytes(c: &Client, url: String) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = c.get(url).send().await.expect("request sent");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (
        status,
        headers,
        r.bytes().await.unwrap_or_default().to_vec(),
    )
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn ticket_attachments_upload_download_checks_and_history() {
    let app = spawn().await;
    let t = tenant(&app, "Files Co").await;
    let ty = ticket_type(&app, &t.admin).await;
    let (agent, ac) = t.user(&app, "agent@files.test", "Agent").await;
    let (_, other) = t.user(&app, "other@files.test", "Agent").await;
    let tk = new_ticket(&app, &ac, &ty, "Broken meter").await;
    let tk2 = new_ticket(&app, &ac, &ty, "Another").await;
    let base = format!("/api/v1/tickets/{}/attachments", tk.id);

    // A raw upload: stored with its checked type, size and hash.
    let png: FileDto =
        created(put_raw(&app, &ac, &base, "meter photo.png", "image/png", PNG).await).await;
    assert_eq!(png.name, "meter photo.png");
    assert_eq!(png.content_type, "image/png");
    assert_eq!(png.size, PNG.len() as i64);
    assert_eq!(png.sha256, sha256_hex(PNG));
    assert_eq!(png.uploaded_by, Some(agent.id));

    // Multipart, as a browser sends it; UTF-8 name; text type with a charset parameter.
    let text = "Sayğac 12345 — oxunmur\n".repeat(50);
    let note: FileDto = created(
        put_multipart(
            &app,
            &ac,
            &base,
            "qeyd ağ.txt",
            "text/plain; charset=utf-8",
            text.as_bytes(),
        )
        .await,
    )
    .await;
    assert_eq!(note.name, "qeyd ağ.txt");
    assert_eq!(note.content_type, "text/plain");

    let list: Vec<FileDto> = ok_json(ac.get(app.url(&base)).send().await).await;
    assert_eq!(list, [png.clone(), note.clone()]);

    // Downloads return the same bytes with safe headers.
    let (status, h, bytes) = get_bytes(&ac, app.url(&format!("{base}/{}", png.id))).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, PNG);
    assert_eq!(header(&h, "content-type"), "image/png");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(&h, "content-disposition"),
        "attachment; filename=\"meter photo.png\"; filename*=UTF-8''meter%20photo.png"
    );
    let (status, h, bytes) = get_bytes(&ac, app.url(&format!("{base}/{}", note.id))).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, text.as_bytes());
    assert_eq!(header(&h, "content-type"), "text/plain; charset=utf-8");
    assert!(
        header(&h, "content-disposition").contains("filename*=UTF-8''qeyd%20a%C4%9F.txt"),
        "{h:?}"
    );

    // Too large: 413, and nothing is listed.
    let big = [PNG, &vec![0u8; LIMIT as usize]].concat();
    problem(
        put_raw(&app, &ac, &base, "big.png", "image/png", &big).await,
        413,
        "payload_too_large",
    )
    .await;
    problem(
        put_multipart(&app, &ac, &base, "big.png", "image/png", &big).await,
        413,
        "payload_too_large",
    )
    .await;

    // Wrong or unaccepted types: 415 with the reason.
    let script: &[u8] = b"<script>alert(1)</script>";
    for (multipart, name, ctype, bytes, says) in [
        (false, "cat.png", "image/png", EXE, "declared as image/png but its content is application/vnd.microsoft.portable-executable"),
        (true, "setup.exe", "application/octet-stream", EXE, "portable-executable, which is not accepted"),
        (false, "photo.png", "image/jpeg", PNG, "declared as image/jpeg but its content is image/png"),
        (false, "page.html", "text/html", script, "text/html are not accepted"),
        (false, "notes.txt", "text/plain", b"ab\0\xff\xfe", "not UTF-8"),
        (false, "photo.exe", "image/png", PNG, "ends in .exe"),
    ] {
        let sent = if multipart {
            put_multipart(&app, &ac, &base, name, ctype, bytes).await
        } else {
            put_raw(&app, &ac, &base, name, ctype, bytes).await
        };
        let p = problem(sent, 415, "unsupported_media_type").await;
        assert!(p.detail.as_deref().unwrap_or("").contains(says), "{name}: {p:?}");
    }
    // No name, an unusable name, an empty file: 422 naming the field.
    let unnamed = ac
        .post(app.url(&base))
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await;
    let bad_name = put_raw(&app, &ac, &base, "../..", "image/png", PNG).await;
    let empty = put_raw(&app, &ac, &base, "empty.txt", "text/plain", b"").await;
    for (sent, field) in [(unnamed, "name"), (bad_name, "name"), (empty, "file")] {
        let p = problem(sent, 422, "validation_failed").await;
        assert_eq!(field_names(&p), [field]);
    }
    let list: Vec<FileDto> = ok_json(ac.get(app.url(&base)).send().await).await;
    assert_eq!(list.len(), 2, "refused uploads leave nothing behind");
    let tenant_dir = app
        .state
        .cfg
        .files_dir
        .join(t.info.tenant.id.simple().to_string());
    let on_disk = std::fs::read_dir(&tenant_dir).unwrap().count();
    assert_eq!(on_disk, 2, "refused uploads leave no bytes behind");

    // A file of one ticket is not reachable through another ticket.
    let other_ticket = format!("/api/v1/tickets/{}/attachments/{}", tk2.id, png.id);
    let (status, _, _) = get_bytes(&ac, app.url(&other_ticket)).await;
    assert_eq!(status, 404);
    problem(
        t.admin.delete(app.url(&other_ticket)).send().await,
        404,
        "not_found",
    )
    .await;
    let list: Vec<FileDto> = ok_json(
        ac.get(app.url(&format!("/api/v1/tickets/{}/attachments", tk2.id)))
            .send()
            .await,
    )
    .await;
    assert!(list.is_empty());
    problem(
        put_raw(
            &app,
            &ac,
            &format!("/api/v1/tickets/{}/attachments", Uuid::new_v4()),
            "a.png",
            "image/png",
            PNG,
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // Deleting: another agent may not, the uploader may; the bytes go too.
    problem(
        other
            .delete(app.url(&format!("{base}/{}", png.id)))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
    let r = ac
        .delete(app.url(&format!("{base}/{}", png.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _, _) = get_bytes(&ac, app.url(&format!("{base}/{}", png.id))).await;
    assert_eq!(status, 404);
    assert!(!tenant_dir.join(png.id.simple().to_string()).exists());
    // An admin may delete anyone's.
    let r = t
        .admin
        .delete(app.url(&format!("{base}/{}", note.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // History and audit.
    let history: Vec<TicketEventDto> = ok_json(
        ac.get(app.url(&format!("/api/v1/tickets/{}/events", tk.id)))
            .send()
            .await,
    )
    .await;
    let kinds: Vec<_> = history
        .iter()
        .map(|e| (e.kind.as_str(), e.body.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("created", ""),
            ("attached", "meter photo.png"),
            ("attached", "qeyd ağ.txt"),
            ("detached", "meter photo.png"),
            ("detached", "qeyd ağ.txt")
        ]
    );
    assert_eq!(history[1].details["file_id"], png.id.to_string());
    let audit: Page<AuditEntry> = ok_json(
        t.admin
            .get(app.url("/api/v1/audit"))
            .query(&[("action", "ticket."), ("target_id", &tk.id.to_string())])
            .send()
            .await,
    )
    .await;
    let mut actions: Vec<_> = audit.items.iter().map(|e| e.action.as_str()).collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "ticket.attach",
            "ticket.attach",
            "ticket.create",
            "ticket.detach",
            "ticket.detach"
        ]
    );
}

async fn kb_article(app: &TestApp, c: &Client, title: &str) -> KbArticleDto {
    let cat: KbCategoryDto = created(
        c.post(app.url("/api/v1/kb/categories"))
            .json(&json!({ "name": format!("Cat {title}") }))
            .send()
            .await,
    )
    .await;
    created(
        c.post(app.url("/api/v1/kb/articles"))
            .json(&json!({ "category_id": cat.id, "title": title, "body": "text" }))
            .send()
            .await,
    )
    .await
}

async fn publish(app: &TestApp, c: &Client, id: Uuid) {
    for action in ["submit", "approve"] {
        ok_json::<Value>(
            c.post(app.url(&format!("/api/v1/kb/articles/{id}/transition")))
                .json(&json!({ "action": action }))
                .send()
                .await,
        )
        .await;
    }
}

#[tokio::test]
async fn kb_attachments_follow_article_permissions() {
    let app = spawn().await;
    let t = tenant(&app, "KB Files").await;
    let (_, agent) = t.user(&app, "reader@kbfiles.test", "Agent").await;
    let art = kb_article(&app, &t.admin, "Tariffs").await;
    let base = format!("/api/v1/kb/articles/{}/attachments", art.id);

    let pdf: FileDto = created(
        put_raw(
            &app,
            &t.admin,
            &base,
            "tariffs 2025.pdf",
            "application/pdf",
            PDF,
        )
        .await,
    )
    .await;
    assert_eq!(pdf.content_type, "application/pdf");
    problem(
        put_raw(&app, &t.admin, &base, "tariffs.pdf", "application/pdf", EXE).await,
        415,
        "unsupported_media_type",
    )
    .await;

    // Readers (kb.read) cannot add, and see nothing of a draft.
    problem(
        put_raw(&app, &agent, &base, "a.pdf", "application/pdf", PDF).await,
        403,
        "forbidden",
    )
    .await;
    problem(agent.get(app.url(&base)).send().await, 404, "not_found").await;
    let (status, _, _) = get_bytes(&agent, app.url(&format!("{base}/{}", pdf.id))).await;
    assert_eq!(status, 404);

    // Once published, they list and download it.
    publish(&app, &t.admin, art.id).await;
    let list: Vec<FileDto> = ok_json(agent.get(app.url(&base)).send().await).await;
    assert_eq!(list, std::slice::from_ref(&pdf));
    let (status, h, bytes) = get_bytes(&agent, app.url(&format!("{base}/{}", pdf.id))).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    assert_eq!(header(&h, "content-type"), "application/pdf");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert!(
        header(&h, "content-disposition").starts_with("attachment; filename=\"tariffs 2025.pdf\"")
    );
    problem(
        agent
            .delete(app.url(&format!("{base}/{}", pdf.id)))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;

    // Another article's route does not reach it; a ticket's route neither.
    let art2 = kb_article(&app, &t.admin, "Other").await;
    let (status, _, _) = get_bytes(
        &t.admin,
        app.url(&format!(
            "/api/v1/kb/articles/{}/attachments/{}",
            art2.id, pdf.id
        )),
    )
    .await;
    assert_eq!(status, 404);
    let ty = ticket_type(&app, &t.admin).await;
    let tk = new_ticket(&app, &t.admin, &ty, "x").await;
    let (status, _, _) = get_bytes(
        &t.admin,
        app.url(&format!("/api/v1/tickets/{}/attachments/{}", tk.id, pdf.id)),
    )
    .await;
    assert_eq!(status, 404);

    let r = t
        .admin
        .delete(app.url(&format!("{base}/{}", pdf.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let list: Vec<FileDto> = ok_json(agent.get(app.url(&base)).send().await).await;
    assert!(list.is_empty());
    let audit: Page<AuditEntry> = ok_json(
        t.admin
            .get(app.url("/api/v1/audit"))
            .query(&[
                ("action", "kb_article."),
                ("target_id", &art.id.to_string()),
            ])
            .send()
            .await,
    )
    .await;
    let actions: Vec<_> = audit.items.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"kb_article.attach") && actions.contains(&"kb_article.detach"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn files_are_isolated_between_tenants() {
    let app = spawn().await;
    let a = tenant(&app, "Files A").await;
    let b = tenant(&app, "Files B").await;
    let ty = ticket_type(&app, &a.admin).await;
    let tk = new_ticket(&app, &a.admin, &ty, "A's ticket").await;
    let file: FileDto = created(
        put_raw(
            &app,
            &a.admin,
            &format!("/api/v1/tickets/{}/attachments", tk.id),
            "a.png",
            "image/png",
            PNG,
        )
        .await,
    )
    .await;
    let art = kb_article(&app, &a.admin, "A's article").await;
    let kb_file: FileDto = created(
        put_raw(
            &app,
            &a.admin,
            &format!("/api/v1/kb/articles/{}/attachments", art.id),
            "a.pdf",
            "application/pdf",
            PDF,
        )
        .await,
    )
    .await;
    // B's own ticket and article, to try A's file ids through B's objects.
    let bty = ticket_type(&app, &b.admin).await;
    let btk = new_ticket(&app, &b.admin, &bty, "B's ticket").await;
    let bart = kb_article(&app, &b.admin, "B's article").await;

    let a_ticket = format!("/api/v1/tickets/{}/attachments", tk.id);
    let a_article = format!("/api/v1/kb/articles/{}/attachments", art.id);
    let b_ticket = format!("/api/v1/tickets/{}/attachments", btk.id);
    let b_article = format!("/api/v1/kb/articles/{}/attachments", bart.id);
    let mut tries = vec![("GET", a_ticket.clone()), ("GET", a_article.clone())];
    for (base, id) in [
        (&a_ticket, file.id),
        (&b_ticket, file.id),
        (&a_article, kb_file.id),
        (&b_article, kb_file.id),
    ] {
        tries.push(("GET", format!("{base}/{id}")));
        tries.push(("DELETE", format!("{base}/{id}")));
    }
    for (method, path) in tries {
        let r = b
            .admin
            .request(method.parse().unwrap(), app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
    }
    // B cannot attach to A's ticket or article.
    problem(
        put_raw(
            &app,
            &b.admin,
            &format!("/api/v1/tickets/{}/attachments", tk.id),
            "b.png",
            "image/png",
            PNG,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    problem(
        put_raw(
            &app,
            &b.admin,
            &format!("/api/v1/kb/articles/{}/attachments", art.id),
            "b.pdf",
            "application/pdf",
            PDF,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // A still has both, byte for byte; B's directory holds none of A's files.
    let (status, _, bytes) = get_bytes(
        &a.admin,
        app.url(&format!(
            "/api/v1/tickets/{}/attachments/{}",
            tk.id, file.id
        )),
    )
    .await;
    assert_eq!((status, bytes.as_slice()), (200, PNG));
    let (status, _, bytes) = get_bytes(
        &a.admin,
        app.url(&format!(
            "/api/v1/kb/articles/{}/attachments/{}",
            art.id, kb_file.id
        )),
    )
    .await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    // The routes are in the API document.
    let doc: Value = ok_json(a.admin.get(app.url("/api/v1/openapi.json")).send().await).await;
    for path in [
        "/api/v1/tickets/{id}/attachments",
        "/api/v1/tickets/{id}/attachments/{file_id}",
        "/api/v1/kb/articles/{id}/attachments",
        "/api/v1/kb/articles/{id}/attachments/{file_id}",
        "/api/v1/ticket-views",
        "/api/v1/ticket-views/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["FileDto"].is_object());
    assert!(doc["components"]["schemas"]["TicketViewDto"].is_object());
    let b_dir = app
        .state
        .cfg
        .files_dir
        .join(b.info.tenant.id.simple().to_string());
    assert!(!b_dir.join(file.id.simple().to_string()).exists());
}
