//! Plays the attacker on every operation of the app's own OpenAPI document: NUL in every path
//! parameter, in every query parameter, in every string of a generated JSON body and in
//! multipart names — as a tenant admin and unauthenticated. Every answer must be a 4xx
//! problem+json; not one 5xx.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use serde_json::{json, Map, Value};

const NUL_TEXT: &str = "x\u{0}y";

/// A request body: content type and bytes.
type Body = (String, Vec<u8>);

/// Resolves `#/components/schemas/...` references.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let mut node = doc;
            for part in r.trim_start_matches("#/").split('/') {
                node = &node[part];
            }
            resolve(doc, node)
        }
        None => v,
    }
}

/// A value for `schema` with NUL in every string (and in a key of every free-form map).
fn sample(doc: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    if depth > 8 {
        return Value::Null;
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            if key == "allOf" {
                let mut merged = Map::new();
                for s in list {
                    if let Value::Object(o) = sample(doc, s, depth + 1) {
                        merged.extend(o);
                    }
                }
                return Value::Object(merged);
            }
            // The first alternative that is not `null`.
            let pick = list
                .iter()
                .find(|s| resolve(doc, s).get("type") != Some(&json!("null")))
                .unwrap_or(&list[0]);
            return sample(doc, pick, depth + 1);
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_string(),
        _ if schema.get("properties").is_some() => "object".into(),
        _ if schema.get("enum").is_some() => "string".into(),
        _ => "string".into(),
    };
    match ty.as_str() {
        "object" => {
            let mut o = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, s) in props {
                    o.insert(k.clone(), sample(doc, s, depth + 1));
                }
            }
            if schema
                .get("additionalProperties")
                .is_some_and(|a| a != &json!(false))
            {
                o.insert(NUL_TEXT.into(), json!(NUL_TEXT));
            }
            Value::Object(o)
        }
        "array" => {
            let item = schema.get("items").cloned().unwrap_or(json!({}));
            json!([sample(doc, &item, depth + 1)])
        }
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(false),
        "null" => Value::Null,
        _ => json!(NUL_TEXT),
    }
}

fn params<'a>(doc: &'a Value, op: &'a Value, path_item: &'a Value, place: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for list in [path_item.get("parameters"), op.get("parameters")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
    {
        for p in list {
            let p = resolve(doc, p);
            if p["in"] == place {
                out.push(p);
            }
        }
    }
    out
}

/// A harmless, well-formed value for a path parameter (so the body or query is what is bad).
fn plain_value(doc: &Value, p: &Value) -> String {
    let s = resolve(doc, &p["schema"]);
    match (s["type"].as_str(), s["format"].as_str()) {
        (_, Some("uuid")) => uuid::Uuid::new_v4().to_string(),
        (Some("integer"), _) => "1".into(),
        _ => "abc".into(),
    }
}

fn fill(path: &str, values: &[(String, String)]) -> String {
    let mut out = path.to_string();
    for (name, v) in values {
        out = out.replace(&format!("{{{name}}}"), v);
    }
    out
}

struct Outcome {
    label: String,
    status: u16,
    problem_json: bool,
    body: String,
}

async fn send(
    client: &reqwest::Client,
    method: &str,
    url: String,
    body: Option<Body>,
    label: String,
) -> Outcome {
    let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut req = client.request(m, url);
    if let Some((ct, bytes)) = body {
        req = req.header("content-type", ct).body(bytes);
    }
    let r = req.send().await.expect("request sent");
    let status = r.status().as_u16();
    let problem_json = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/problem+json"));
    let body = r.text().await.unwrap_or_default();
    Outcome {
        label,
        status,
        problem_json,
        body: body.chars().take(300).collect(),
    }
}

#[tokio::test]
async fn nul_everywhere_is_a_4xx_problem_never_a_5xx() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Walk Co").await;
    let anonymous = app.client();
    let doc: Value = ok_json(
        app.client()
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await,
    )
    .await;
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    let mut requests = 0;
    let mut failures = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            operations += 1;
            let path_params = params(&doc, op, item, "path");
            let query_params = params(&doc, op, item, "query");
            let plain: Vec<(String, String)> = path_params
                .iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        plain_value(&doc, p),
                    )
                })
                .collect();
            let mut cases: Vec<(String, String, Option<Body>)> = Vec::new();
            if !path_params.is_empty() {
                let nul: Vec<(String, String)> = plain
                    .iter()
                    .map(|(n, _)| (n.clone(), "x%00y".to_string()))
                    .collect();
                cases.push(("path".into(), fill(path, &nul), None));
            }
            if !query_params.is_empty() {
                let q: Vec<String> = query_params
                    .iter()
                    .map(|p| format!("{}=x%00y", p["name"].as_str().unwrap()))
                    .collect();
                cases.push((
                    "query".into(),
                    format!("{}?{}", fill(path, &plain), q.join("&")),
                    None,
                ));
            }
            if let Some(content) = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
            {
                if let Some(json_ct) = content.keys().find(|k| k.contains("json")) {
                    let body = sample(&doc, &content[json_ct]["schema"], 0);
                    if serde_json::to_string(&body).unwrap().contains("\\u0000") {
                        cases.push((
                            "json body".into(),
                            fill(path, &plain),
                            Some((
                                "application/json".into(),
                                serde_json::to_vec(&body).unwrap(),
                            )),
                        ));
                    }
                }
                if content
                    .keys()
                    .any(|k| k.starts_with("multipart/") || !k.contains("json"))
                {
                    let form = b"--B\r\nContent-Disposition: form-data; name=\"fi\0le\"; filename=\"a\0b.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n".to_vec();
                    cases.push((
                        "multipart names".into(),
                        fill(path, &plain),
                        Some(("multipart/form-data; boundary=B".into(), form)),
                    ));
                }
            }
            for (what, url, body) in cases {
                for (who, client) in [("admin", &t.admin), ("anonymous", &anonymous)] {
                    requests += 1;
                    let label = format!("{} {path} ({what}, {who})", method.to_uppercase());
                    let o = send(
                        client,
                        method,
                        app.url(&format!("/api/v1{}", url.trim_start_matches("/api/v1"))),
                        body.clone(),
                        label,
                    )
                    .await;
                    if !(400..500).contains(&o.status) || !o.problem_json {
                        failures.push(format!("{} → {} {}", o.label, o.status, o.body));
                    }
                }
            }
        }
    }
    println!("walked {operations} operations of the OpenAPI document with {requests} NUL-bearing requests");
    assert!(
        operations > 100,
        "the document lists the API ({operations} operations)"
    );
    assert!(
        failures.is_empty(),
        "{} answers were not a 4xx problem+json:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
