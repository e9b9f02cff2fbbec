//! Flow validation and the interpreter, on flows a tenant admin would build.

use chrono::{TimeZone, Utc};
use hotline_flows::{Action, Flow, Input, Run};
use serde_json::json;
use std::collections::BTreeMap;

fn flow(v: serde_json::Value) -> Flow {
    serde_json::from_value(v).expect("flow json")
}

/// Greeting → business hours? → menu (1 sales, 2 billing with account number) → queues;
/// closed → voicemail; no choice → callback offer.
fn water_utility() -> Flow {
    flow(json!({
        "start": "hours",
        "nodes": {
            "hours": { "type": "time_condition", "timezone": "Asia/Baku",
                "hours": [{ "days": [1,2,3,4,5], "from": "09:00", "to": "18:00" }],
                "holidays": ["2026-12-31"], "open": "greeting", "closed": "closed" },
            "greeting": { "type": "play", "prompt": "greeting", "next": "menu" },
            "menu": { "type": "menu", "prompt": "menu", "options": { "1": "sales", "2": "account" },
                "retries": 1, "fallback": "offer_callback" },
            "sales": { "type": "queue", "queue": "sales", "priority": 0 },
            "account": { "type": "collect", "prompt": "enter-account", "var": "account",
                "min": 4, "max": 8, "terminator": "#", "next": "lookup", "fallback": "billing" },
            "lookup": { "type": "http_lookup", "url": "http://crm.example/debt?acc={{account}}&from={{caller}}",
                "next": "tag", "error": "billing" },
            "tag": { "type": "set_var", "name": "summary", "value": "debt {{http.debt}} for {{account}}", "next": "billing" },
            "billing": { "type": "queue", "queue": "billing", "priority": 1 },
            "closed": { "type": "voicemail", "prompt": "closed", "max_ms": 60000 },
            "offer_callback": { "type": "callback", "prompt": "we-will-call-back" }
        }
    }))
}

fn vars() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("caller".to_string(), "+15550001111".to_string()),
        ("did".to_string(), "+994125550100".to_string()),
    ])
}

/// Tuesday 2026-11-24 10:00 in Baku (UTC+4).
fn open_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap()
}

#[test]
fn a_valid_flow_has_no_errors() {
    assert_eq!(water_utility().validate(), vec![]);
}

#[test]
fn dangling_branches_unreachable_nodes_and_bad_values_are_all_reported() {
    let mut f = water_utility();
    f.nodes.insert(
        "orphan".into(),
        serde_json::from_value(json!({ "type": "hangup", "prompt": null })).unwrap(),
    );
    if let Some(hotline_flows::Node::Menu { options, .. }) = f.nodes.get_mut("menu") {
        options.insert("3".into(), "nowhere".into());
        options.insert("12".into(), "sales".into());
    }
    if let Some(hotline_flows::Node::TimeCondition { timezone, .. }) = f.nodes.get_mut("hours") {
        *timezone = "Mars/Olympus".into();
    }
    let errs = f.validate();
    let got: Vec<(String, String)> = errs
        .iter()
        .map(|e| (e.node.clone(), e.field.clone()))
        .collect();
    assert!(
        got.contains(&("menu".into(), "options.3".into())),
        "{errs:?}"
    );
    assert!(
        got.contains(&("menu".into(), "options.12".into())),
        "{errs:?}"
    );
    assert!(got.contains(&("orphan".into(), "id".into())), "{errs:?}");
    assert!(
        got.contains(&("hours".into(), "timezone".into())),
        "{errs:?}"
    );
    let mut g = water_utility();
    g.start = "missing".into();
    assert!(g.validate().iter().any(|e| e.field == "start"));
}

#[test]
fn menu_choice_routes_to_the_queue_and_is_remembered() {
    let f = water_utility();
    let (mut run, acts) = Run::start(&f, vars(), open_time());
    assert_eq!(
        acts,
        vec![Action::Play {
            prompt: "greeting".into()
        }]
    );
    let acts = run.on_input(&f, &Input::PlaybackFinished, open_time());
    assert!(matches!(&acts[0], Action::Collect { prompt: Some(p), max: 1, .. } if p == "menu"));
    let acts = run.on_input(&f, &Input::Digits { digits: "1".into() }, open_time());
    assert_eq!(
        acts,
        vec![Action::Queue {
            queue: "sales".into(),
            priority: 0
        }]
    );
    assert_eq!(run.vars["menu.menu"], "1");
    assert!(run.ended());
}

#[test]
fn wrong_keys_retry_then_fall_back_to_a_callback_request() {
    let f = water_utility();
    let (mut run, _) = Run::start(&f, vars(), open_time());
    run.on_input(&f, &Input::PlaybackFinished, open_time());
    let again = run.on_input(&f, &Input::Digits { digits: "9".into() }, open_time());
    assert!(matches!(&again[0], Action::Collect { .. }), "one retry");
    let acts = run.on_input(
        &f,
        &Input::Digits {
            digits: String::new(),
        },
        open_time(),
    );
    assert_eq!(
        acts,
        vec![
            Action::CallbackRequest,
            Action::Play {
                prompt: "we-will-call-back".into()
            }
        ]
    );
    assert_eq!(
        run.on_input(&f, &Input::PlaybackFinished, open_time()),
        vec![Action::Hangup]
    );
    assert!(run.ended());
}

#[test]
fn collected_digits_feed_an_http_lookup_whose_answer_becomes_variables() {
    let f = water_utility();
    let (mut run, _) = Run::start(&f, vars(), open_time());
    run.on_input(&f, &Input::PlaybackFinished, open_time());
    run.on_input(&f, &Input::Digits { digits: "2".into() }, open_time());
    let acts = run.on_input(
        &f,
        &Input::Digits {
            digits: "123456".into(),
        },
        open_time(),
    );
    assert_eq!(
        acts,
        vec![Action::Http {
            url: "http://crm.example/debt?acc=123456&from=%2B15550001111".into(),
            timeout_ms: 2000
        }]
    );
    let acts = run.on_input(
        &f,
        &Input::Http {
            result: Ok(json!({ "debt": 42.5 })),
        },
        open_time(),
    );
    assert_eq!(
        acts,
        vec![Action::Queue {
            queue: "billing".into(),
            priority: 1
        }]
    );
    assert_eq!(run.vars["summary"], "debt 42.5 for 123456");
}

#[test]
fn too_few_digits_or_a_failed_lookup_still_reach_an_agent() {
    let f = water_utility();
    let (mut run, _) = Run::start(&f, vars(), open_time());
    run.on_input(&f, &Input::PlaybackFinished, open_time());
    run.on_input(&f, &Input::Digits { digits: "2".into() }, open_time());
    let acts = run.on_input(
        &f,
        &Input::Digits {
            digits: "12".into(),
        },
        open_time(),
    );
    assert_eq!(
        acts,
        vec![Action::Queue {
            queue: "billing".into(),
            priority: 1
        }]
    );
}

#[test]
fn after_hours_and_holidays_go_to_voicemail() {
    let f = water_utility();
    // Tuesday 20:00 in Baku.
    let evening = Utc.with_ymd_and_hms(2026, 11, 24, 16, 0, 0).unwrap();
    let (mut run, acts) = Run::start(&f, vars(), evening);
    assert_eq!(
        acts,
        vec![Action::Play {
            prompt: "closed".into()
        }]
    );
    assert_eq!(
        run.on_input(&f, &Input::PlaybackFinished, evening),
        vec![Action::Voicemail { max_ms: 60000 }]
    );
    // Thursday 31 December 11:00 in Baku is a holiday.
    let holiday = Utc.with_ymd_and_hms(2026, 12, 31, 7, 0, 0).unwrap();
    let (_, acts) = Run::start(&f, vars(), holiday);
    assert_eq!(
        acts,
        vec![Action::Play {
            prompt: "closed".into()
        }]
    );
}

#[test]
fn inputs_that_are_not_awaited_are_ignored_and_set_var_loops_end() {
    let f = water_utility();
    let (mut run, _) = Run::start(&f, vars(), open_time());
    // Digits during the greeting (not a menu) change nothing.
    assert_eq!(
        run.on_input(&f, &Input::Digits { digits: "1".into() }, open_time()),
        vec![]
    );
    assert_eq!(run.node, "greeting");
    let looping = flow(json!({ "start": "a", "nodes": {
        "a": { "type": "set_var", "name": "x", "value": "1", "next": "b" },
        "b": { "type": "set_var", "name": "y", "value": "2", "next": "a" } } }));
    assert_eq!(looping.validate(), vec![]);
    let (run, acts) = Run::start(&looping, vars(), open_time());
    assert_eq!(acts, vec![Action::Hangup]);
    assert!(run.ended());
}

#[test]
fn a_run_survives_serialisation_between_events() {
    let f = water_utility();
    let (run, _) = Run::start(&f, vars(), open_time());
    let stored = serde_json::to_string(&run).unwrap();
    let mut back: Run = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, run);
    let acts = back.on_input(&f, &Input::PlaybackFinished, open_time());
    assert!(matches!(acts[0], Action::Collect { .. }));
}
