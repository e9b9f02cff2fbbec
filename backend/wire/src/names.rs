//! Translations of tenant-defined names (interaction categories, ticket types, workflow
//! statuses): `name_i18n` maps a language code to the name in that language; clients show
//! the one for the user's language and fall back to `name`.

use std::collections::BTreeMap;

/// Language code → translated name.
pub type Translations = BTreeMap<String, String>;

/// The languages a name may be translated into (the SPA's languages).
pub const NAME_LANGS: [&str; 5] = ["az", "en", "pl", "ru", "zh"];

/// The longest translation accepted, in characters.
pub const MAX_TRANSLATION_CHARS: usize = 200;

/// The name to show in `lang`: its translation when there is a non-blank one, else `name`.
pub fn pick<'a>(name: &'a str, i18n: &'a Translations, lang: &str) -> &'a str {
    match i18n.get(lang) {
        Some(t) if !t.trim().is_empty() => t,
        _ => name,
    }
}

/// A category path (`["Billing", "Payment"]`) in `lang`, with `path_i18n` parallel to it
/// (missing entries fall back to the names).
pub fn pick_path(path: &[String], path_i18n: &[Translations], lang: &str) -> Vec<String> {
    let none = Translations::new();
    path.iter()
        .enumerate()
        .map(|(i, n)| pick(n, path_i18n.get(i).unwrap_or(&none), lang).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_translation_or_falls_back() {
        let t = Translations::from([("ru".into(), "Расчёты".into()), ("pl".into(), " ".into())]);
        assert_eq!(pick("Billing", &t, "ru"), "Расчёты");
        assert_eq!(pick("Billing", &t, "pl"), "Billing");
        assert_eq!(pick("Billing", &t, "zh"), "Billing");
        let path = vec!["Billing".to_string(), "Payment".to_string()];
        assert_eq!(pick_path(&path, &[t], "ru"), ["Расчёты", "Payment"]);
    }
}
