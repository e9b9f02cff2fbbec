//! Invalid text: what a string may not contain (NUL everywhere; control characters in
//! single-line inputs), the messages that say so, and the JSON and query walks that find it.
//! Pure functions, used by the contract layer (`error.rs`), validation and importers.

use hotline_wire::api::FieldError;

/// What a text may not contain. NUL (U+0000) is refused everywhere: Postgres cannot store it
/// in `text`/`jsonb`. Single-line inputs (query parameters, path parts, multipart field and
/// file names) also refuse every other C0 control character and DEL, tab/CR/LF included;
/// multi-line text (JSON strings: descriptions, bodies) keeps tab, LF, CR and the rest as data.
pub fn bad_char(s: &str, single_line: bool) -> Option<char> {
    s.chars()
        .find(|&c| c == '\0' || (single_line && (c.is_ascii_control())))
}

/// The 422 message for a text holding `c`.
pub fn bad_char_message(c: char) -> String {
    if c == '\0' {
        "must not contain the NUL character (U+0000)".into()
    } else {
        format!(
            "must not contain control characters (U+{:04X})",
            u32::from(c)
        )
    }
}

/// A field name safe to echo: control characters shown as `\u{..}` escapes.
pub fn printable(s: &str) -> String {
    s.chars()
        .take(100)
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The path (`skills[0].name`, as our JSON errors name fields) of the first string or key in
/// a JSON document holding a NUL, if any.
pub fn json_nul(v: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &mut String) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            serde_json::Value::Object(map) => map.iter().any(|(k, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&printable(k));
                let found = k.contains('\0') || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then(|| if path.is_empty() { ".".into() } else { path })
}

/// Replaces every NUL in the strings and keys of a JSON document with U+FFFD (for data that
/// must be stored whatever it holds, such as gateway events).
pub fn replace_nul(v: &mut serde_json::Value) {
    const R: &str = "\u{fffd}";
    match v {
        serde_json::Value::String(s) if s.contains('\0') => *s = s.replace('\0', R),
        serde_json::Value::Array(items) => items.iter_mut().for_each(replace_nul),
        serde_json::Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.replace('\0', R), v))
                    .collect();
            }
            map.values_mut().for_each(replace_nul);
        }
        _ => {}
    }
}

/// Every query parameter (name and value, after percent-decoding) holding a NUL or a control
/// character, as field errors named by the parameter.
pub fn query_errors(query: &str) -> Vec<FieldError> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter_map(|(k, v)| {
            let c = bad_char(&k, true).or_else(|| bad_char(&v, true))?;
            Some(FieldError {
                field: printable(&k),
                message: bad_char_message(c),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_text() {
        assert_eq!(bad_char("a\0b", false), Some('\0'));
        assert_eq!(bad_char("line\nnext\t", false), None);
        assert_eq!(bad_char("line\nnext", true), Some('\n'));
        assert_eq!(bad_char("ok ü", true), None);
        let v = serde_json::json!({"name": "ok", "skills": [{"level": 1}, {"name": "x\u{0}"}]});
        assert_eq!(json_nul(&v).as_deref(), Some("skills[1].name"));
        assert_eq!(json_nul(&serde_json::json!("a\u{0}")).as_deref(), Some("."));
        assert_eq!(json_nul(&serde_json::json!({"a": [1, "b"]})), None);
        let mut v = serde_json::json!({"caller": "a\u{0}", "x\u{0}": ["\u{0}"]});
        replace_nul(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"caller": "a\u{fffd}", "x\u{fffd}": ["\u{fffd}"]})
        );
        let errs = query_errors("page=1&priority=high%00&q=a%0Ab");
        let names: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(names, ["priority", "q"]);
    }
}
