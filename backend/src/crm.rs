//! Customer data rules shared by the CRM API (`routes/crm.rs`), imports (`crm_import.rs`) and
//! every place that takes a phone number: E.164 normalisation with the tenant's country code,
//! value checks against the tenant's customer template, the search text kept per customer.

use crate::{
    error::ApiResult,
    validate::{self, Check},
};
use hotline_wire::crm::*;
use serde_json::{Map, Value};
use sqlx::PgConnection;

/// Normalises a phone number to E.164. Accepts `+…`, `00…` (international prefix), and
/// national numbers starting with a trunk `0` when the tenant has a country code.
pub fn normalise_phone(raw: &str, country_code: Option<&str>) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.len() > 40 {
        return None;
    }
    let plus = trimmed.starts_with('+');
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if trimmed
        .chars()
        .any(|c| !(c.is_ascii_digit() || " +-().".contains(c)))
    {
        return None;
    }
    let e164 = if plus {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else if let (Some(rest), Some(cc)) = (digits.strip_prefix('0'), country_code) {
        format!("+{cc}{rest}")
    } else if let Some(cc) = country_code.filter(|_| digits.len() <= 10) {
        format!("+{cc}{digits}")
    } else {
        format!("+{digits}")
    };
    validate::is_e164(&e164).then_some(e164)
}

/// The tenant's default country calling code (settings key `crm`, field `country_code`).
pub async fn country_code(conn: &mut PgConnection) -> ApiResult<Option<String>> {
    let v: Option<Value> =
        sqlx::query_scalar("SELECT value->'country_code' FROM settings WHERE key = 'crm'")
            .fetch_optional(conn)
            .await?;
    Ok(v.and_then(|v| v.as_str().map(str::to_string)))
}

/// Checks `input` against the active template and returns the values to store (normalised),
/// keeping the values of deactivated fields from `old`.
pub fn check_values(
    c: &mut Check,
    template: &[CustomerFieldDto],
    input: &Map<String, Value>,
    old: Option<&Map<String, Value>>,
    cc: Option<&str>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for key in input.keys() {
        if !template.iter().any(|f| &f.key == key && f.active) {
            c.fail(
                &format!("fields.{}", key.chars().take(40).collect::<String>()),
                "is not a field of the customer template",
            );
        }
    }
    for f in template {
        let name = format!("fields.{}", f.key);
        if !f.active {
            if let Some(v) = old.and_then(|o| o.get(&f.key)) {
                out.insert(f.key.clone(), v.clone());
            }
            continue;
        }
        let v = input.get(&f.key).filter(|v| {
            !v.is_null() && v.as_str() != Some("") && v.as_array().is_none_or(|a| !a.is_empty())
        });
        let Some(v) = v else {
            if f.required {
                c.fail(&name, "is required");
            }
            continue;
        };
        let stored = match f.kind.as_str() {
            "text" | "address" => match v.as_str() {
                Some(s) if s.chars().count() <= 2000 => Some(Value::from(s.trim())),
                Some(_) => {
                    c.fail(&name, "must be at most 2000 characters");
                    None
                }
                None => {
                    c.fail(&name, "must be text");
                    None
                }
            },
            "number" => match v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            {
                Some(n) if n.is_finite() => serde_json::Number::from_f64(n).map(Value::Number),
                _ => {
                    c.fail(&name, "must be a number");
                    None
                }
            },
            "date" => match v
                .as_str()
                .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            {
                Some(d) => Some(Value::from(d.to_string())),
                None => {
                    c.fail(&name, "must be a date like 2026-01-31");
                    None
                }
            },
            "email" => match v.as_str() {
                Some(s) if validate::is_email(s.trim()) => Some(Value::from(s.trim())),
                _ => {
                    c.fail(&name, "must be an e-mail address");
                    None
                }
            },
            "phone" => match v.as_str().and_then(|s| normalise_phone(s, cc)) {
                Some(p) => Some(Value::from(p)),
                None => {
                    c.fail(&name, "must be a phone number");
                    None
                }
            },
            "choice" => match v.as_str() {
                Some(s) if f.options.iter().any(|o| o == s) => Some(Value::from(s)),
                _ => {
                    c.fail(&name, format!("must be one of: {}", f.options.join(", ")));
                    None
                }
            },
            "multi_choice" => match v.as_array() {
                Some(a)
                    if a.iter()
                        .all(|x| x.as_str().is_some_and(|s| f.options.iter().any(|o| o == s))) =>
                {
                    Some(v.clone())
                }
                _ => {
                    c.fail(
                        &name,
                        format!("must be a list of: {}", f.options.join(", ")),
                    );
                    None
                }
            },
            _ => None,
        };
        if let Some(s) = stored {
            out.insert(f.key.clone(), s);
        }
    }
    out
}

pub fn search_text(name: &str, phones: &[PhoneDto], fields: &Map<String, Value>) -> String {
    let mut s = name.to_lowercase();
    for p in phones {
        s.push(' ');
        s.push_str(&p.number);
    }
    for v in fields.values() {
        s.push(' ');
        match v {
            Value::String(t) => s.push_str(&t.to_lowercase()),
            other => s.push_str(&other.to_string().to_lowercase()),
        }
    }
    s
}

/// Validates a customer against the tenant's template (`template`, loaded by the caller) and
/// country code: the name, the numbers (normalised, at most 20, no repeats) and the values.
/// Used by the API and, row by row, by imports.
pub fn check_customer_with(
    template: &[CustomerFieldDto],
    cc: Option<&str>,
    req: &CustomerInput,
    old: Option<&Map<String, Value>>,
) -> ApiResult<(String, Vec<PhoneDto>, Map<String, Value>)> {
    let mut c = Check::new();
    c.text("name", &req.name, 200);
    let mut phones: Vec<PhoneDto> = vec![];
    if req.phones.len() > 20 {
        c.fail("phones", "at most 20 numbers");
    }
    for (i, p) in req.phones.iter().enumerate() {
        match normalise_phone(&p.number, cc) {
            Some(n) if !phones.iter().any(|q| q.number == n) => phones.push(PhoneDto {
                number: n,
                label: p.label.trim().chars().take(40).collect(),
            }),
            Some(_) => c.fail(&format!("phones[{i}].number"), "is listed twice"),
            None => c.fail(&format!("phones[{i}].number"), "is not a phone number"),
        }
    }
    let values = check_values(&mut c, template, &req.fields, old, cc);
    c.finish()?;
    Ok((req.name.trim().to_string(), phones, values))
}
