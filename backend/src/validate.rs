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
}
