//! The SPA's translation catalogs, checked without a browser: every message key the code
//! uses exists in English, other catalogs only translate known keys, keep the arguments of
//! the English text, cover the shell and login, and say that they are machine-drafted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hotline_e2e::browser::repo_root;

/// `key → value` of a `.ftl` file (single-line messages, the only form the catalogs use).
fn parse(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("{}:{}: not `key = value`: {line}", path.display(), n + 1));
        assert!(
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}:{}: bad key {key:?}",
            path.display(),
            n + 1
        );
        assert_eq!(
            value.matches('{').count(),
            value.matches('}').count(),
            "{}:{}: unbalanced braces",
            path.display(),
            n + 1
        );
        assert!(
            out.insert(key.to_string(), value.to_string()).is_none(),
            "{}: {key} twice",
            path.display()
        );
    }
    out
}

/// The `$arguments` a message uses.
fn args(value: &str) -> BTreeSet<String> {
    value
        .split("{ $")
        .skip(1)
        .filter_map(|rest| rest.split([' ', '}']).next())
        .map(str::to_string)
        .collect()
}

/// Message keys written literally in the SPA's sources.
fn keys_in_sources(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("frontend/src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            keys_in_sources(&path, out);
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        for call in [
            ".t(\"",
            ".ta(\"",
            ".try_t(\"",
            "Flash::error(\"",
            "Flash::info(\"",
            "key: \"",
            "key_={\"",
        ] {
            for rest in text.split(call).skip(1) {
                let key: String = rest.chars().take_while(|c| *c != '"').collect();
                if !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    out.insert(key);
                }
            }
        }
    }
}

#[test]
fn browser_catalogs_are_complete_and_consistent() {
    let root = repo_root().join("frontend");
    let en = parse(&root.join("i18n/en.ftl"));

    let mut used = BTreeSet::new();
    keys_in_sources(&root.join("src"), &mut used);
    assert!(
        used.len() > 150,
        "found only {} keys: is the scan broken?",
        used.len()
    );
    let missing: Vec<_> = used.iter().filter(|k| !en.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "keys used by the SPA but missing from en.ftl: {missing:?}"
    );

    for lang in ["az", "pl", "ru", "zh"] {
        let path = root.join(format!("i18n/{lang}.ftl"));
        let text = std::fs::read_to_string(&path).expect("catalog");
        assert!(
            text.contains("MACHINE-DRAFTED"),
            "{lang}.ftl must mark its machine-drafted strings"
        );
        let cat = parse(&path);
        for (key, value) in &cat {
            let english = en
                .get(key)
                .unwrap_or_else(|| panic!("{lang}.ftl translates unknown key {key}"));
            assert_eq!(
                args(value),
                args(english),
                "{lang}.ftl {key}: arguments differ from English"
            );
        }
        for key in en.keys().filter(|k| {
            [
                "shell-",
                "login-",
                "nav-",
                "flash-",
                "signup-",
                "agent-status-",
                "call-log-",
            ]
            .iter()
            .any(|p| k.starts_with(p))
        }) {
            assert!(
                cat.contains_key(key),
                "{lang}.ftl lacks {key} (shell and login must be translated)"
            );
        }
    }
}
