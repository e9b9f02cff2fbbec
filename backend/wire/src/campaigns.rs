//! Outbound campaigns, their contacts and results, and the tenant's do-not-call / blocked
//! numbers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// Outcomes a campaign may retry.
pub const RETRYABLE: &[&str] = &["busy", "no_answer", "failed"];

/// Create or edit a campaign (only while it is a draft or paused).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignInput {
    pub name: String,
    /// `message` (plays a prompt, optionally asks for a confirmation key) or `agent`.
    pub kind: String,
    /// Number presented to the called party (E.164).
    pub caller_id: String,
    /// Message campaigns: the prompt (a tenant prompt or a built-in one).
    #[serde(default)]
    pub prompt: Option<String>,
    /// The key that confirms (`0-9`, `*`, `#`); none: the message is only played.
    #[serde(default)]
    pub confirm_digit: Option<String>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Seven entries, Monday first: `null` (no calls that day) or `["09:00", "20:00"]`.
    pub calling_hours: Vec<Option<[String; 2]>>,
    /// IANA zone of contacts that have none of their own.
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default = "default_attempts")]
    pub max_attempts: i32,
    #[serde(default = "default_retry")]
    pub retry_interval_secs: i32,
    /// Any of `busy`, `no_answer`, `failed`.
    #[serde(default = "default_retry_on")]
    pub retry_on: Vec<String>,
    #[serde(default = "default_ring")]
    pub ring_timeout_secs: i32,
    #[serde(default = "default_lines")]
    pub max_lines: i32,
    /// Agent campaigns: `preview` (the agent sees the contact and clicks to dial),
    /// `progressive` (one line per free agent) or `predictive` (dials ahead, keeping abandoned
    /// calls under `max_abandon_pct`).
    #[serde(default)]
    pub dial_mode: Option<String>,
    /// Agent campaigns: the queue whose agents take the calls.
    #[serde(default)]
    pub queue_id: Option<Uuid>,
    /// Predictive mode's limit on abandoned calls, in percent of answered calls.
    #[serde(default = "default_abandon")]
    pub max_abandon_pct: f64,
    /// Agent campaigns: the script shown to the agent; survey campaigns: the questions asked
    /// (each with a prompt, answered with one key).
    #[serde(default)]
    pub script: Vec<ScriptQuestion>,
    /// Agent campaigns: heard when an answered call finds no free agent (default `goodbye`).
    #[serde(default)]
    pub no_agent_prompt: Option<String>,
    /// Answering machines: `off` (no detection), `hang_up`, or `leave_message` (message
    /// campaigns: the message plays once the machine's greeting has ended).
    #[serde(default = "default_machine")]
    pub machine_action: String,
    /// Work the missed-calls list: every open entry becomes a contact (again when the number
    /// misses again); an answered call marks the entry handled. Runs until stopped.
    #[serde(default)]
    pub work_missed_calls: bool,
}

fn default_abandon() -> f64 {
    3.0
}
fn default_machine() -> String {
    "off".into()
}

/// One question of a campaign's script (agent campaigns) or survey.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScriptQuestion {
    /// Unique in the script: `[a-z0-9_]`, 1–40.
    pub id: String,
    /// What the agent reads (or the survey's question, for the results).
    pub text: String,
    /// `choice` (one of `options`), `text` or `number`; a survey's questions are `choice`
    /// answered with a key (the options' values are keys).
    #[serde(default = "choice")]
    pub kind: String,
    #[serde(default)]
    pub options: Vec<ScriptOption>,
    /// The question after this one (when the chosen option names none); none: the next in
    /// order. `end` ends the script.
    #[serde(default)]
    pub next: Option<String>,
    /// Survey campaigns: the prompt that asks the question.
    #[serde(default)]
    pub prompt: Option<String>,
}

fn choice() -> String {
    "choice".into()
}

/// An answer of a `choice` question.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScriptOption {
    /// Stored as the answer (a survey: the key, `0-9`).
    pub value: String,
    pub label: String,
    /// Branch: the question that follows this answer (`end` ends the script).
    #[serde(default)]
    pub next: Option<String>,
}

/// Checks a script: ids unique and well formed, branches name a later question or `end`
/// (so a script never loops), choices have options with distinct values.
pub fn check_script(script: &[ScriptQuestion], survey: bool) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for q in script {
        let ok_id = !q.id.is_empty()
            && q.id.len() <= 40
            && q.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok_id || q.id == "end" {
            return Err(format!(
                "question id {:?}: use 1-40 of a-z, 0-9, _ (not \"end\")",
                q.id
            ));
        }
        if !seen.insert(q.id.as_str()) {
            return Err(format!("question id {:?} is used twice", q.id));
        }
        if q.text.trim().is_empty() {
            return Err(format!("question {:?} has no text", q.id));
        }
        match q.kind.as_str() {
            "choice" => {
                if q.options.is_empty() {
                    return Err(format!("question {:?} needs at least one option", q.id));
                }
                let mut values = std::collections::HashSet::new();
                for o in &q.options {
                    if o.value.trim().is_empty() || !values.insert(o.value.as_str()) {
                        return Err(format!(
                            "question {:?}: option values must be distinct and not empty",
                            q.id
                        ));
                    }
                    if survey && !(o.value.len() == 1 && o.value.as_bytes()[0].is_ascii_digit()) {
                        return Err(format!(
                            "survey question {:?}: each option is one key, 0-9",
                            q.id
                        ));
                    }
                }
            }
            "text" | "number" if !survey => {}
            other => {
                return Err(format!(
                    "question {:?}: kind {other:?} is not one of {}",
                    q.id,
                    if survey {
                        "choice"
                    } else {
                        "choice, text, number"
                    }
                ))
            }
        }
        if survey
            && q.prompt
                .as_deref()
                .is_none_or(|p| !crate::prompts::is_prompt_name(p))
        {
            return Err(format!(
                "survey question {:?} needs a prompt that asks it",
                q.id
            ));
        }
    }
    for (i, q) in script.iter().enumerate() {
        let later = |n: &str| n == "end" || script[i + 1..].iter().any(|l| l.id == n);
        let branches = q
            .next
            .iter()
            .chain(q.options.iter().filter_map(|o| o.next.as_ref()));
        for n in branches {
            if !later(n) {
                return Err(format!(
                    "question {:?} goes on to {n:?}, which is not a later question (or \"end\")",
                    q.id
                ));
            }
        }
    }
    Ok(())
}

/// The question after `q` (index) given its answer; `None` when the script ends.
pub fn next_question(script: &[ScriptQuestion], q: usize, answer: Option<&str>) -> Option<usize> {
    let cur = script.get(q)?;
    let chosen = answer
        .and_then(|a| cur.options.iter().find(|o| o.value == a))
        .and_then(|o| o.next.as_deref());
    match chosen.or(cur.next.as_deref()) {
        Some("end") => None,
        Some(id) => script.iter().position(|x| x.id == id),
        None => (q + 1 < script.len()).then_some(q + 1),
    }
}

/// The questions asked for these answers, in order: from the first, following the branches
/// (an unanswered question ends the walk after itself).
pub fn script_path(
    script: &[ScriptQuestion],
    answers: &std::collections::BTreeMap<String, String>,
) -> Vec<usize> {
    let mut path = Vec::new();
    let mut at = (!script.is_empty()).then_some(0);
    while let Some(i) = at {
        path.push(i);
        let Some(a) = answers.get(&script[i].id) else {
            break;
        };
        at = next_question(script, i, Some(a));
    }
    path
}

/// Checks answers against a script: each is for a question on the path they take, and a
/// choice is one of its options (a number parses). `Err` names the first bad one.
pub fn check_answers(
    script: &[ScriptQuestion],
    answers: &std::collections::BTreeMap<String, String>,
) -> Result<(), String> {
    let path = script_path(script, answers);
    for (id, a) in answers {
        let Some(i) = path.iter().copied().find(|i| script[*i].id == *id) else {
            return Err(format!("{id:?} is not a question asked with these answers"));
        };
        let q = &script[i];
        match q.kind.as_str() {
            "choice" if !q.options.iter().any(|o| o.value == *a) => {
                return Err(format!("{id:?}: {a:?} is not one of its options"))
            }
            "number" if a.trim().parse::<f64>().is_err() => {
                return Err(format!("{id:?}: {a:?} is not a number"))
            }
            "text" if a.chars().count() > 2000 => {
                return Err(format!("{id:?}: at most 2000 characters"))
            }
            _ => {}
        }
    }
    Ok(())
}

fn utc() -> String {
    "UTC".into()
}
fn default_attempts() -> i32 {
    3
}
fn default_retry() -> i32 {
    1800
}
fn default_retry_on() -> Vec<String> {
    vec!["busy".into(), "no_answer".into()]
}
fn default_ring() -> i32 {
    30
}
fn default_lines() -> i32 {
    5
}

/// A campaign with its live counts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignDto {
    pub id: Uuid,
    /// `draft`, `running`, `paused`, `stopped` or `finished`.
    pub status: String,
    #[serde(flatten)]
    pub input: CampaignInput,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counts: CampaignCounts,
    /// Why the dialer is holding the campaign's pending contacts back right now (a trial or
    /// concurrent-call limit: `trial_limit: …`, `outbound_limit: …`, or its calls per second:
    /// `outbound_rate_limit: …`); absent when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dial_hold: Option<String>,
}

/// Contacts by status, and attempts placed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignCounts {
    pub contacts: i64,
    pub pending: i64,
    pub dialing: i64,
    pub answered: i64,
    pub confirmed: i64,
    pub not_confirmed: i64,
    pub busy: i64,
    pub no_answer: i64,
    pub failed: i64,
    /// Skipped: on the do-not-call list.
    pub dnc: i64,
    /// Agent campaigns: answered while no agent was free (the caller heard a short message).
    #[serde(default)]
    pub abandoned: i64,
    /// An answering machine took the call.
    #[serde(default)]
    pub machine: i64,
    /// Surveys answered to the end.
    #[serde(default)]
    pub completed: i64,
    /// Agent campaigns: contacts an agent has on screen (preview mode).
    #[serde(default)]
    pub previewing: i64,
    /// Missed calls called back another way before the campaign reached them.
    #[serde(default)]
    pub handled: i64,
    /// Calls placed (every attempt).
    pub dialled: i64,
}

/// One contact to add.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContactInput {
    pub phone: String,
    #[serde(default)]
    pub name: String,
    /// IANA zone; the campaign's when absent.
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
}

/// Customers to add as contacts, chosen like the CRM's customer search: free text (name,
/// numbers, field values) and exact values of the tenant's own fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CustomerSelection {
    #[serde(default)]
    pub q: Option<String>,
    /// Field key → value (case-insensitive; for a multi-choice field, one of its values).
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
    /// Call the number with this label (e.g. `mobile`) when the customer has one; else
    /// their first number.
    #[serde(default)]
    pub phone_label: Option<String>,
}

/// Contacts added, and the rows refused (with their line in the file, or index in the list).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContactsAdded {
    pub added: i64,
    /// Already in the campaign (same number).
    pub duplicates: i64,
    pub errors: Vec<ContactError>,
}

/// Why a contact row was refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContactError {
    /// Line in the file (header = 1) or index in the JSON list (first = 1).
    pub line: usize,
    pub phone: String,
    pub message: String,
}

/// A contact and how far the campaign got with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContactDto {
    pub id: Uuid,
    pub phone: String,
    pub name: String,
    pub timezone: Option<String>,
    pub customer_id: Option<Uuid>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    /// Keys pressed on the last answered attempt.
    pub dtmf: Option<String>,
    /// Script or survey answers: question id → answer.
    #[serde(default)]
    pub answers: std::collections::BTreeMap<String, String>,
    /// The agent who talked to the contact last.
    #[serde(default)]
    pub agent_id: Option<Uuid>,
}

/// One attempt to call a contact (the attempt log).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AttemptDto {
    /// The outbound leg (its CDR and recording have this id).
    pub call_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// answered, confirmed, not_confirmed, completed, abandoned, machine, busy, no_answer,
    /// failed, dnc (skipped); none while in progress.
    pub outcome: Option<String>,
    /// The trunk's final status of an unanswered attempt.
    pub sip_status: Option<i32>,
    pub dtmf: Option<String>,
    pub agent_id: Option<Uuid>,
    /// Answering-machine detection's decision.
    pub amd: Option<String>,
}

/// A campaign contact as the agent desktop shows it: the campaign, its script, the answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AgentCampaignContact {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    /// `preview`, `progressive` or `predictive`.
    pub dial_mode: String,
    pub script: Vec<ScriptQuestion>,
    pub contact: ContactDto,
}

/// The agent's script answers for a contact (replacing those saved before).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScriptAnswers {
    pub answers: std::collections::BTreeMap<String, String>,
}

/// Filters of the contacts list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct ContactQuery {
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Attempts per hour, by outcome.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HourRow {
    pub hour: DateTime<Utc>,
    pub dialled: i64,
    pub answered: i64,
    pub confirmed: i64,
    pub busy: i64,
    pub no_answer: i64,
    pub failed: i64,
    #[serde(default)]
    pub abandoned: i64,
}

/// A campaign's results: counts, the hourly breakdown, and how each script or survey
/// question was answered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignResults {
    pub counts: CampaignCounts,
    pub hours: Vec<HourRow>,
    /// One entry per question of the script, in its order.
    #[serde(default)]
    pub answers: Vec<QuestionResult>,
}

/// How one question was answered: contacts per answer (choices in the script's order, with
/// their labels; free answers are only counted).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct QuestionResult {
    pub id: String,
    pub text: String,
    /// `(value, label, contacts)` for each option of a choice.
    pub options: Vec<(String, String, i64)>,
    /// Contacts who answered the question at all.
    pub answered: i64,
}

/// A blocked number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BlockedNumber {
    pub number: String,
    /// `outbound` (do not call) or `inbound` (calls refused with 403).
    pub direction: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// Filter of the blocklist.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct BlocklistQuery {
    /// `outbound` or `inbound`; both when absent.
    pub direction: Option<String>,
}

/// Reads a script from its text form, one question per line (blank lines and lines starting
/// with `#` are skipped):
///
/// ```text
/// interested: Is the customer interested? [yes=Yes -> budget | no=No -> why]
/// why: Why not? [price=Too expensive -> end | other=Other -> end]
/// budget: Monthly budget? [low | high]
/// notes: Anything else? (text)
/// rating: Press 1 to 5 {survey-rating} [1 | 2 | 3 | 4 | 5] -> end
/// ```
///
/// `[a=Label -> next | …]` are the options of a choice (the label defaults to the value),
/// `(text)` / `(number)` a free answer, `{prompt}` the prompt a survey plays, and a trailing
/// `-> id` the question that follows. `Err` names the line.
pub fn parse_script(text: &str) -> Result<Vec<ScriptQuestion>, String> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |m: &str| format!("line {}: {m}", n + 1);
        let (id, rest) = line
            .split_once(':')
            .ok_or_else(|| fail("start with the question's id and a colon, like \"q1: …\""))?;
        let mut rest = rest.trim().to_string();
        let mut next = None;
        if let Some(i) = rest.rfind("->") {
            let tail = rest[i + 2..].trim();
            if !tail.contains(['[', ']', '|', '(', '{']) {
                next = Some(tail.to_string()).filter(|t| !t.is_empty());
                rest.truncate(i);
            }
        }
        let mut prompt = None;
        if let (Some(a), Some(b)) = (rest.find('{'), rest.find('}')) {
            if a < b {
                prompt = Some(rest[a + 1..b].trim().to_string());
                rest.replace_range(a..=b, "");
            }
        }
        let (mut kind, mut options) = ("choice".to_string(), Vec::new());
        let text_end;
        if let Some(a) = rest.find('[') {
            let b = rest
                .rfind(']')
                .filter(|b| *b > a)
                .ok_or_else(|| fail("close the options with ]"))?;
            for part in rest[a + 1..b].split('|') {
                let (choice, onext) = match part.split_once("->") {
                    Some((c, x)) => (c.trim(), Some(x.trim().to_string())),
                    None => (part.trim(), None),
                };
                let (value, label) = match choice.split_once('=') {
                    Some((v, l)) => (v.trim(), l.trim()),
                    None => (choice, choice),
                };
                options.push(ScriptOption {
                    value: value.to_string(),
                    label: label.to_string(),
                    next: onext.filter(|x| !x.is_empty()),
                });
            }
            text_end = a;
        } else if let Some(a) = rest.find("(text)") {
            kind = "text".into();
            text_end = a;
        } else if let Some(a) = rest.find("(number)") {
            kind = "number".into();
            text_end = a;
        } else {
            return Err(fail("give the options in [ ] or write (text) or (number)"));
        }
        out.push(ScriptQuestion {
            id: id.trim().to_string(),
            text: rest[..text_end].trim().to_string(),
            kind,
            options,
            next,
            prompt,
        });
    }
    Ok(out)
}

/// The text form of a script ([`parse_script`] reads it back).
pub fn script_text(script: &[ScriptQuestion]) -> String {
    let mut s = String::new();
    for q in script {
        s.push_str(&q.id);
        s.push_str(": ");
        s.push_str(&q.text);
        if let Some(p) = &q.prompt {
            s.push_str(&format!(" {{{p}}}"));
        }
        match q.kind.as_str() {
            "choice" => {
                let opts: Vec<String> = q
                    .options
                    .iter()
                    .map(|o| {
                        let mut t = o.value.clone();
                        if o.label != o.value {
                            t.push('=');
                            t.push_str(&o.label);
                        }
                        if let Some(n) = &o.next {
                            t.push_str(" -> ");
                            t.push_str(n);
                        }
                        t
                    })
                    .collect();
                s.push_str(&format!(" [{}]", opts.join(" | ")));
            }
            k => s.push_str(&format!(" ({k})")),
        }
        if let Some(n) = &q.next {
            s.push_str(" -> ");
            s.push_str(n);
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_text_round_trips_and_reports_bad_lines() {
        let text = "interested: Interested? [yes=Yes -> budget | no=No -> why]\n\
                    why: Why not? [price -> end | other -> end]\n\
                    budget: Budget? [low | high]\n\
                    notes: Anything else? (text)\n\
                    rating: Rate us {survey-rating} [1 | 2] -> end\n";
        let s = parse_script(text).unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(s[0].options[0].label, "Yes");
        assert_eq!(s[0].options[1].next.as_deref(), Some("why"));
        assert_eq!(s[3].kind, "text");
        assert_eq!(s[4].prompt.as_deref(), Some("survey-rating"));
        assert_eq!(s[4].next.as_deref(), Some("end"));
        assert_eq!(s[4].text, "Rate us");
        assert_eq!(parse_script(&script_text(&s)).unwrap(), s);
        let e = parse_script("a: ok [1]\nno colon here").unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
        assert!(parse_script("a: What? [1 | 2").unwrap_err().contains("]"));
    }
}

/// A tenant's own narrowing of its outbound rules (`/outbound-rules`): it can only remove
/// countries the platform allows and add blocked prefixes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TenantOutboundRules {
    /// Country calling codes (digits, like `994`) the tenant wants to call, out of those the
    /// platform allows; absent: all of those.
    #[serde(default)]
    pub countries: Option<Vec<String>>,
    /// Number prefixes (`+` and digits) the tenant refuses besides the platform's.
    #[serde(default)]
    pub blocked_prefixes: Vec<String>,
}

/// The outbound rules in force for a tenant (`GET /outbound-rules`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OutboundRulesDto {
    /// A trial tenant has limited lines and calls a day.
    pub trial: bool,
    /// Country calling codes that may be called, after the tenant's narrowing.
    pub countries: Vec<String>,
    /// Prefixes refused: the platform's built-in list, the operator's and the tenant's.
    pub blocked_prefixes: Vec<String>,
    /// Outbound calls at once.
    pub max_calls: i64,
    /// Trial only: outbound calls a day.
    pub calls_per_day: Option<i64>,
    /// Trial only: minutes of answered outbound calls a day.
    #[serde(default)]
    pub minutes_per_day: Option<i64>,
    /// The numbers a campaign may show as its caller ID.
    pub caller_ids: Vec<String>,
    /// The tenant's own narrowing, as saved.
    pub tenant: TenantOutboundRules,
    /// Outbound calls placed per second (the platform operator's limit, trial applied).
    #[serde(default)]
    pub calls_per_second: i64,
}
