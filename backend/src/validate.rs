//! Field validation that collects every problem before answering 422.

use crate::error::ApiError;
use hotline_wire::api::FieldError;

#[derive(Default)]
pub struct Check(Vec<FieldError>);

impl Check {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// A trimmed text of 1..=max characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        let len = value.trim().chars().count();
        if len == 0 {
            self.fail(field, "must not be empty");
        } else if len > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
    }

    /// An optional text of at most `max` characters.
    pub fn max_len(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
    }

    pub fn email(&mut self, field: &str, value: &str) {
        if !is_email(value) {
            self.fail(field, "must be an e-mail address like name@example.com");
        }
    }

    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.fail(field, format!("must be between {min} and {max}"));
        }
    }

    /// Translations of a name (`name_i18n`): keys among the SPA's languages, values of
    /// 1..=200 characters without NUL. Errors name `<field>.<lang>`.
    pub fn translations(&mut self, field: &str, map: &hotline_wire::names::Translations) {
        use hotline_wire::names::{MAX_TRANSLATION_CHARS, NAME_LANGS};
        for (lang, value) in map {
            let f = format!("{field}.{lang}");
            if !NAME_LANGS.contains(&lang.as_str()) {
                self.fail(
                    &f,
                    format!("is not a language: use one of {}", NAME_LANGS.join(", ")),
                );
            } else if value.contains('\0') {
                self.fail(&f, "must not contain NUL characters");
            } else {
                self.text(&f, value, MAX_TRANSLATION_CHARS);
            }
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// Translations as stored: values trimmed (after [`Check::translations`] passed).
pub fn trimmed_translations(
    map: &hotline_wire::names::Translations,
) -> sqlx::types::Json<hotline_wire::names::Translations> {
    sqlx::types::Json(
        map.iter()
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .collect(),
    )
}

/// A pragmatic e-mail check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// An E.164 phone number: `+`, a non-zero digit, 7–15 digits in all.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (7..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
    })
}

/// Tenant slugs: 3..=40 of `a-z 0-9 -`, not starting or ending with `-`.
pub fn is_slug(s: &str) -> bool {
    let n = s.len();
    (3..=40).contains(&n)
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A slug derived from a company name ("Baku Water (Su)" → "baku-water-su").
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut s: String = out.trim_matches('-').chars().take(40).collect();
    while s.ends_with('-') {
        s.pop();
    }
    while s.len() < 3 {
        s.push('0');
    }
    s
}

// ------------------------------------------------------------------ invalid text

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
    fn emails() {
        assert!(is_email("a.b@example.com"));
        for bad in [
            "",
            "a",
            "a@b",
            "@example.com",
            "a@@b.com",
            "a b@c.com",
            "a@.com",
            "a@b..com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn e164() {
        assert!(is_e164("+994125550100"));
        for bad in [
            "994125550100",
            "+0123456789",
            "+12",
            "+1234567890123456",
            "+12345a789",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Baku Water (Su)"), "baku-water-su");
        assert_eq!(slugify("Ĉ"), "000");
        assert!(is_slug(&slugify(
            "Very long company name that goes on and on and on forever"
        )));
        assert!(!is_slug("-ab"));
        assert!(!is_slug("AB1"));
    }

    #[test]
    fn collects_every_failure() {
        let mut c = Check::new();
        c.text("name", " ", 10);
        c.email("email", "x");
        crate::password::check(&mut c, "password", "short", &Default::default());
        let Err(ApiError::Validation(errs)) = c.finish() else {
            panic!()
        };
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "password"]);
    }

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
