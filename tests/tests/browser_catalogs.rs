//! The SPA's translation catalogs, checked without a browser: each parses without a single
//! error with the Fluent parser the SPA uses (`fluent-syntax`, under `fluent-bundle`: a
//! syntax error there silently drops messages), every message key the code uses exists in
//! English, every other catalog translates every English message and attribute and nothing
//! else, keeps the arguments of the English text, uses only its language's plural categories
//! in selectors, and says that it is machine-drafted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fluent_syntax::ast;
use hotline_e2e::browser::repo_root;

/// What the checks need of one message (or one `message.attribute`).
#[derive(Default)]
struct Msg {
    /// The `$arguments` it uses.
    args: BTreeSet<String>,
    /// The identifier keys of its select expressions' variants (`one`, `few`, `other`…).
    variant_keys: BTreeSet<String>,
}

fn walk_pattern(p: &ast::Pattern<&str>, out: &mut Msg) {
    for el in &p.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            walk_expression(expression, out);
        }
    }
}

fn walk_expression(e: &ast::Expression<&str>, out: &mut Msg) {
    match e {
        ast::Expression::Select { selector, variants } => {
            walk_inline(selector, out);
            for v in variants {
                if let ast::VariantKey::Identifier { name } = &v.key {
                    out.variant_keys.insert(name.to_string());
                }
                walk_pattern(&v.value, out);
            }
        }
        ast::Expression::Inline(i) => walk_inline(i, out),
    }
}

fn walk_inline(i: &ast::InlineExpression<&str>, out: &mut Msg) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            out.args.insert(id.name.to_string());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                walk_inline(a, out);
            }
            for a in &arguments.named {
                walk_inline(&a.value, out);
            }
        }
        ast::InlineExpression::Placeable { expression } => walk_expression(expression, out),
        _ => {}
    }
}

/// `id` (and `id.attribute`) → what it uses, of a `.ftl` file that must parse without errors.
fn parse(path: &Path) -> BTreeMap<String, Msg> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let resource = match fluent_syntax::parser::parse(text.as_str()) {
        Ok(r) => r,
        Err((_, errors)) => panic!(
            "{}: Fluent syntax errors (the SPA would drop these messages): {:?}",
            path.display(),
            errors
                .iter()
                .map(|e| {
                    let line = text[..e.pos.start.min(text.len())].lines().count();
                    format!("line {line}: {:?}", e.kind)
                })
                .collect::<Vec<_>>()
        ),
    };
    let mut out = BTreeMap::new();
    for entry in &resource.body {
        let ast::Entry::Message(m) = entry else {
            continue;
        };
        let key = m.id.name.to_string();
        assert!(
            key.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}: bad key {key:?}",
            path.display()
        );
        let mut msg = Msg::default();
        if let Some(v) = &m.value {
            walk_pattern(v, &mut msg);
        }
        assert!(
            out.insert(key.clone(), msg).is_none(),
            "{}: {key} twice",
            path.display()
        );
        for a in &m.attributes {
            let mut msg = Msg::default();
            walk_pattern(&a.value, &mut msg);
            out.insert(format!("{key}.{}", a.id.name), msg);
        }
    }
    out
}

/// The CLDR plural categories of a language (what `[one]`, `[few]`… may say).
fn plural_categories(lang: &str) -> &'static [&'static str] {
    match lang {
        "pl" | "ru" => &["one", "few", "many", "other"],
        "zh" => &["other"],
        _ => &["one", "other"],
    }
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

    for lang in ["en", "az", "pl", "ru", "zh"] {
        let path = root.join(format!("i18n/{lang}.ftl"));
        let cat = parse(&path);
        for (key, msg) in &cat {
            let bad: Vec<_> = msg
                .variant_keys
                .iter()
                .filter(|k| !plural_categories(lang).contains(&k.as_str()))
                .collect();
            assert!(
                bad.is_empty(),
                "{lang}.ftl {key}: variants {bad:?} are not plural categories of {lang}"
            );
        }
        if lang == "en" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("catalog");
        assert!(
            text.contains("MACHINE-DRAFTED"),
            "{lang}.ftl must mark its machine-drafted strings"
        );
        for (key, msg) in &cat {
            let english = en
                .get(key)
                .unwrap_or_else(|| panic!("{lang}.ftl translates unknown key {key}"));
            assert_eq!(
                msg.args, english.args,
                "{lang}.ftl {key}: arguments differ from English"
            );
        }
        let missing: Vec<_> = en.keys().filter(|k| !cat.contains_key(*k)).collect();
        assert!(
            missing.is_empty(),
            "{lang}.ftl lacks {} messages of en.ftl (every one must be translated; \
             `python3 frontend/i18n/check.py -v` lists them): {missing:?}",
            missing.len()
        );
    }
}
