//! The agent desktop: one window for a 1366×768 screen with the state selector and the
//! panes later issues fill in (softphone, customer card, interaction form, KB search).
//!
//! Keyboard: Tab moves through every control in reading order; Alt+1…5 jump to the panes.

use std::rc::Rc;

use hotline_wire::api::{
    AgentStateDto, AgentStatus, BreakRequestDto, NewBreakRequest, ReasonCodeDto, SetAgentState,
};
use hotline_wire::calls::AgentEvent;
use hotline_wire::crm::{
    AttachArticle, AttachedArticle, CategoryDto, CustomerDto, CustomerFieldDto, CustomerInput,
    CustomerLookup, InteractionDto, InteractionInput, InteractionUpdate, KbSearchResult, PhoneDto,
};
use hotline_wire::permissions as perm;
use hotline_wire::tickets::{TicketDto, TicketInput, TicketTypeDto};
use uuid::Uuid;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::Link;

use super::tickets::{priority_options, use_directory};
use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::{use_app, Route};

const PANES: [&str; 5] = [
    "pane-state",
    "pane-softphone",
    "pane-customer",
    "pane-interaction",
    "pane-kb",
];

pub(crate) fn status_key(s: AgentStatus) -> String {
    format!("agent-status-{}", s.as_str().replace('_', "-"))
}

/// The option value of a state: `ready`, `logged_out`, `not_ready:<reason>`, `break:<reason>`.
fn option_value(status: AgentStatus, reason: Option<Uuid>) -> String {
    match reason {
        Some(r) => format!("{}:{r}", status.as_str()),
        None => status.as_str().to_string(),
    }
}

fn parse_option(v: &str) -> Option<SetAgentState> {
    let (s, r) = match v.split_once(':') {
        Some((s, r)) => (s, Some(r)),
        None => (v, None),
    };
    Some(SetAgentState {
        status: AgentStatus::parse(s)?,
        reason_id: r.and_then(|r| r.parse().ok()),
    })
}

/// The catalog key of a built-in (system) reason code: `reason-builtin-<key>`.
pub(crate) fn builtin_reason_key(key: &str) -> String {
    format!("reason-builtin-{}", key.replace('_', "-"))
}

/// A reason code's name as shown: the system reasons translated, the tenant's own as named.
pub(crate) fn reason_label(i18n: &I18n, r: &ReasonCodeDto) -> String {
    r.builtin_key
        .as_deref()
        .and_then(|k| i18n.try_t(&builtin_reason_key(k)))
        .unwrap_or_else(|| r.name.clone())
}

/// The states the agent may choose. System reasons (missed, rejected, softphone lost…) are
/// set by the ACD, not picked: they are listed only when they are the current one.
fn state_options(
    i18n: &I18n,
    reasons: &[ReasonCodeDto],
    current: Option<Uuid>,
) -> Vec<(String, String)> {
    let mut out = vec![(
        option_value(AgentStatus::Ready, None),
        i18n.t("agent-status-ready"),
    )];
    let not_ready: Vec<&ReasonCodeDto> = reasons
        .iter()
        .filter(|r| r.kind == "not_ready" && (r.builtin_key.is_none() || Some(r.id) == current))
        .collect();
    let breaks: Vec<&ReasonCodeDto> = reasons.iter().filter(|r| r.kind == "break").collect();
    if not_ready.is_empty() {
        out.push((
            option_value(AgentStatus::NotReady, None),
            i18n.t("agent-status-not-ready"),
        ));
    }
    // A reason a supervisor must approve says so: choosing it asks for it.
    let label = |r: &ReasonCodeDto| {
        let l = reason_label(i18n, r);
        if r.needs_approval {
            i18n.ta("agent-option-needs-approval", &[("reason", l.into())])
        } else {
            l
        }
    };
    for r in not_ready {
        out.push((
            option_value(AgentStatus::NotReady, Some(r.id)),
            i18n.ta("agent-option-not-ready", &[("reason", label(r).into())]),
        ));
    }
    if breaks.is_empty() {
        out.push((
            option_value(AgentStatus::Break, None),
            i18n.t("agent-status-break"),
        ));
    }
    for r in breaks {
        out.push((
            option_value(AgentStatus::Break, Some(r.id)),
            i18n.ta("agent-option-break", &[("reason", label(r).into())]),
        ));
    }
    out.push((
        option_value(AgentStatus::LoggedOut, None),
        i18n.t("agent-status-logged-out"),
    ));
    out
}

#[function_component]
pub fn AgentDesktop() -> Html {
    let i18n = use_i18n();

    // Alt+1…5 focus the panes' headings.
    use_effect_with((), |_| {
        let handler =
            Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(|e: web_sys::KeyboardEvent| {
                if !e.alt_key() || e.ctrl_key() || e.meta_key() {
                    return;
                }
                let Some(n) = e
                    .key()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=PANES.len()).contains(n))
                else {
                    return;
                };
                let el = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(&format!("{}-h", PANES[n - 1])))
                    .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
                if let Some(el) = el {
                    e.prevent_default();
                    let _ = el.focus();
                }
            });
        let window = web_sys::window();
        if let Some(w) = &window {
            let _ = w.add_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
        }
        move || {
            if let Some(w) = window {
                let _ = w.remove_event_listener_with_callback(
                    "keydown",
                    handler.as_ref().unchecked_ref(),
                );
            }
        }
    });

    let desk = Desk {
        customer: use_state(|| None::<CustomerDto>),
        history: use_state(Vec::<InteractionDto>::new),
        interaction: use_state(|| None::<InteractionDto>),
        category: use_state(String::new),
        notes: use_state(String::new),
        phone: use_state(|| None::<String>),
        busy: use_state(|| false),
        failure: use_state(|| None::<ApiError>),
        saved: use_state(|| false),
        pop: use_state(|| None::<String>),
        break_decided: use_state(|| 0u32),
        activity: use_state(|| None::<Activity>),
    };
    let (categories, reload_categories) = use_get::<Vec<CategoryDto>>("/categories".into());

    html! {
        <div class="desktop" id="agent-desktop">
            <h1 class="sr-only">{ i18n.t("agent-title") }</h1>
            <StatePane desk={desk.clone()} />
            <SoftphonePane desk={desk.clone()} />
            <CustomerPane desk={desk.clone()} />
            { interaction_pane(&i18n, &desk, &categories, &reload_categories) }
            <KbPane desk={desk.clone()} />
        </div>
    }
}

/// What the customer, interaction and KB panes share: the customer on screen, the
/// interaction being written (created on the first save, patched afterwards) and its form.
#[derive(Clone, PartialEq)]
pub struct Desk {
    customer: UseStateHandle<Option<CustomerDto>>,
    history: UseStateHandle<Vec<InteractionDto>>,
    interaction: UseStateHandle<Option<InteractionDto>>,
    category: UseStateHandle<String>,
    notes: UseStateHandle<String>,
    /// The number looked up (E.164), recorded on the interaction.
    phone: UseStateHandle<Option<String>>,
    /// Bumped when a supervisor decided the agent's break request (the state pane re-reads).
    break_decided: UseStateHandle<u32>,
    busy: UseStateHandle<bool>,
    failure: UseStateHandle<Option<ApiError>>,
    saved: UseStateHandle<bool>,
    /// The number of the caller being offered: the customer pane looks it up (screen pop).
    pop: UseStateHandle<Option<String>>,
    /// What the softphone is doing right now (ringing, on a call), as its live channel says:
    /// the state pill shows it at once, with its own timer.
    activity: UseStateHandle<Option<Activity>>,
}

/// A call activity the desktop saw start.
#[derive(Clone, PartialEq)]
pub struct Activity {
    /// `ringing` or `on_call`.
    kind: &'static str,
    since: chrono::DateTime<chrono::Utc>,
}

impl Desk {
    /// Creates the interaction (first time) or patches it with the form's current values.
    async fn save(&self) -> Result<InteractionDto, ApiError> {
        let category_id = self.category.parse::<Uuid>().ok();
        let customer_id = (*self.customer).as_ref().map(|c| c.id);
        let notes = (*self.notes).clone();
        let r = match &*self.interaction {
            Some(i) => {
                api::patch::<_, InteractionDto>(
                    &format!("/interactions/{}", i.id),
                    &InteractionUpdate {
                        category_id,
                        notes: Some(notes),
                        customer_id,
                    },
                )
                .await
            }
            None => {
                api::post::<_, InteractionDto>(
                    "/interactions",
                    &InteractionInput {
                        customer_id,
                        channel: "manual".into(),
                        direction: None,
                        category_id,
                        notes,
                        call_id: None,
                        phone: (*self.phone).clone(),
                    },
                )
                .await
            }
        };
        if let Ok(i) = &r {
            self.interaction.set(Some(i.clone()));
            if let Some(c) = customer_id {
                load_history(c, self.history.clone());
            }
        }
        r
    }
}

fn load_history(customer: Uuid, history: UseStateHandle<Vec<InteractionDto>>) {
    spawn(async move {
        if let Ok(h) =
            api::get::<Vec<InteractionDto>>(&format!("/customers/{customer}/interactions")).await
        {
            history.set(h);
        }
    });
}

/// The category tree as `(id, "Complaint › Water › Leak")` in the active language, parents
/// before children.
fn category_options(i18n: &I18n, cats: &[CategoryDto]) -> Vec<(String, String)> {
    fn walk(
        i18n: &I18n,
        cats: &[CategoryDto],
        parent: Option<Uuid>,
        prefix: &str,
        out: &mut Vec<(String, String)>,
    ) {
        let mut kids: Vec<&CategoryDto> = cats
            .iter()
            .filter(|c| c.parent_id == parent && c.active)
            .collect();
        kids.sort_by(|a, b| (a.position, &a.name).cmp(&(b.position, &b.name)));
        for c in kids {
            let name = i18n.pick(&c.name, &c.name_i18n);
            let label = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix} › {name}")
            };
            out.push((c.id.to_string(), label.clone()));
            walk(i18n, cats, Some(c.id), &label, out);
        }
    }
    let mut out = Vec::new();
    walk(i18n, cats, None, "", &mut out);
    out
}

fn interaction_pane(
    i18n: &I18n,
    desk: &Desk,
    categories: &Load<Rc<Vec<CategoryDto>>>,
    reload: &Callback<()>,
) -> Html {
    let mut opts = vec![(String::new(), i18n.t("agent-category-none"))];
    if let Load::Ready(c) = categories {
        opts.extend(category_options(i18n, c));
    }
    let on_save = {
        let desk = desk.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let desk = desk.clone();
            desk.busy.set(true);
            desk.failure.set(None);
            desk.saved.set(false);
            spawn(async move {
                let r = desk.save().await;
                desk.busy.set(false);
                match r {
                    Ok(_) => desk.saved.set(true),
                    Err(e) => desk.failure.set(Some(e)),
                }
            });
        })
    };
    let on_category = {
        let c = desk.category.clone();
        Callback::from(move |v: String| c.set(v))
    };
    let on_notes = {
        let n = desk.notes.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            n.set(el.value());
        })
    };
    let on_notes_change = {
        let n = desk.notes.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            n.set(el.value());
        })
    };
    let on_new = {
        let desk = desk.clone();
        Callback::from(move |_: MouseEvent| {
            desk.interaction.set(None);
            desk.category.set(String::new());
            desk.notes.set(String::new());
            desk.saved.set(false);
            desk.failure.set(None);
        })
    };
    let customer_line = match &*desk.customer {
        Some(c) => i18n.ta("agent-interaction-for", &[("name", c.name.clone().into())]),
        None => i18n.t("agent-interaction-no-customer"),
    };
    html! {
        <section class="pane interaction" id="pane-interaction" aria-labelledby="pane-interaction-h">
            <h2 id="pane-interaction-h" tabindex="-1">{ i18n.t("agent-interaction") }<kbd>{ "Alt+4" }</kbd></h2>
            <p class="muted small" id="interaction-customer">{ customer_line }</p>
            if let Load::Failed(e) = categories { <ErrorBox error={e.clone()} retry={reload.clone()} /> }
            <form id="interaction-form" onsubmit={on_save}>
                <SelectField id="interaction-category" label={i18n.t("agent-category")}
                    value={(*desk.category).clone()} options={opts} onchange={on_category} />
                <div class="field">
                    <label for="interaction-notes">{ i18n.t("agent-notes") }</label>
                    <textarea id="interaction-notes" rows="4" value={(*desk.notes).clone()}
                        oninput={on_notes} onchange={on_notes_change} />
                </div>
                <div class="button-row">
                    <button type="submit" id="interaction-save" class="primary" disabled={*desk.busy}>{ i18n.t("agent-save-interaction") }</button>
                    if desk.interaction.is_some() {
                        <button type="button" id="interaction-new" class="secondary" onclick={on_new}>{ i18n.t("agent-new-interaction") }</button>
                    }
                </div>
            </form>
            if let Some(e) = &*desk.failure { <ErrorBox error={e.clone()} /> }
            if let Some(i) = &*desk.interaction {
                <p class="small" id="interaction-status" role="status">
                    { if *desk.saved { i18n.t("agent-interaction-saved") } else { i18n.t("agent-interaction-open") } }
                    { " " }
                    if !i.category_path.is_empty() {
                        <span id="interaction-path">{ i18n.pick_path(&i.category_path, &i.category_path_i18n) }</span>
                    }
                </p>
            }
            <TicketFromCall desk={desk.clone()} />
        </section>
    }
}

/// "Create ticket" under the interaction form: saves the interaction (so the ticket links
/// to it, its customer and category), creates the ticket, and shows its number and who the
/// workflow assigned it to.
#[function_component]
fn TicketFromCall(p: &DeskProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let desk = p.desk.clone();
    let dir = use_directory();
    let (types, _) = use_get::<Vec<TicketTypeDto>>("/ticket-types".into());
    let type_id = use_state(String::new);
    let subject = use_state(String::new);
    let priority = use_state(|| "normal".to_string());
    let created = use_state(|| None::<TicketDto>);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    // The confirmation appears below the form, inside a scrolling pane: bring it into view.
    use_effect_with(created.as_ref().map(|t| t.id), |id| {
        if id.is_some() {
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("ticket-created"))
            {
                el.scroll_into_view_with_bool(false);
            }
        }
    });
    if !app.session.can(perm::TICKETS_WORK) {
        return html! {};
    }
    let Load::Ready(ts) = &types else {
        return html! {};
    };
    if ts.is_empty() {
        return html! {};
    }
    let chosen: Option<Uuid> = type_id.parse().ok().or(ts.first().map(|t| t.id));
    let onsubmit = {
        let (desk, subject, priority, created, failure, busy, i18n) = (
            desk.clone(),
            subject.clone(),
            priority.clone(),
            created.clone(),
            failure.clone(),
            busy.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(type_id) = chosen else { return };
            let (desk, subject, priority, created, failure, busy, i18n) = (
                desk.clone(),
                subject.clone(),
                priority.clone(),
                created.clone(),
                failure.clone(),
                busy.clone(),
                i18n.clone(),
            );
            busy.set(true);
            failure.set(None);
            spawn(async move {
                let r = match desk.save().await {
                    Ok(i) => {
                        let typed = subject.trim().to_string();
                        let subject_text = if !typed.is_empty() {
                            typed
                        } else if !i.category_path.is_empty() {
                            i18n.pick_path(&i.category_path, &i.category_path_i18n)
                        } else {
                            i18n.t("agent-ticket-default-subject")
                        };
                        api::post::<_, TicketDto>(
                            "/tickets",
                            &TicketInput {
                                type_id,
                                subject: subject_text,
                                description: i.notes.clone(),
                                category_id: i.category_id,
                                priority: Some((*priority).clone()),
                                customer_id: i.customer_id,
                                interaction_id: Some(i.id),
                                assignee_user_id: None,
                                assignee_team_id: None,
                            },
                        )
                        .await
                    }
                    Err(e) => Err(e),
                };
                busy.set(false);
                match r {
                    Ok(t) => {
                        subject.set(String::new());
                        created.set(Some(t));
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let type_opts: Vec<(String, String)> = ts
        .iter()
        .map(|t| {
            (
                t.id.to_string(),
                i18n.pick(&t.name, &t.name_i18n).to_string(),
            )
        })
        .collect();
    html! {
        <form id="ticket-from-call" class="ticket-from-call" {onsubmit}>
            <h3>{ i18n.t("agent-ticket") }</h3>
            <div class="row">
                if ts.len() > 1 {
                    <SelectField id="new-ticket-type" label={i18n.t("ticket-type")}
                        value={chosen.map(|c| c.to_string()).unwrap_or_default()} options={type_opts}
                        onchange={let t = type_id.clone(); Callback::from(move |v| t.set(v))} />
                }
                <SelectField id="new-ticket-priority" label={i18n.t("ticket-priority")} value={(*priority).clone()}
                    options={priority_options(&i18n)} onchange={let p = priority.clone(); Callback::from(move |v| p.set(v))} />
            </div>
            <TextField id="new-ticket-subject" label={i18n.t("ticket-subject")} value={(*subject).clone()}
                oninput={let s = subject.clone(); Callback::from(move |v| s.set(v))}
                hint={Some(i18n.t("agent-ticket-subject-hint"))} />
            <button type="submit" id="new-ticket-create" class="primary" disabled={*busy}>{ i18n.t("agent-ticket-create") }</button>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            if let Some(t) = &*created {
                <div class="alert ok" id="ticket-created" role="status">
                    <p>
                        { i18n.ta("agent-ticket-created", &[
                            ("number", t.number.to_string().into()),
                            ("who", dir.assignee(&i18n, t.assignee_user_id, t.assignee_team_id).into()),
                        ]) }
                        { " " }
                        <Link<Route> to={Route::Ticket { id: t.id.to_string() }}>{ i18n.t("agent-ticket-open") }</Link<Route>>
                    </p>
                </div>
            }
        </form>
    }
}

/// Customer form as edited: phones as `(number, label)`, template values as text.
#[derive(Clone, PartialEq, Default)]
pub struct CustForm {
    id: Option<Uuid>,
    name: String,
    phones: Vec<(String, String)>,
    fields: std::collections::BTreeMap<String, String>,
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

impl CustForm {
    fn from_dto(c: &CustomerDto) -> Self {
        CustForm {
            id: Some(c.id),
            name: c.name.clone(),
            phones: c
                .phones
                .iter()
                .map(|p| (p.number.clone(), p.label.clone()))
                .collect(),
            fields: c
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), value_text(v)))
                .collect(),
        }
    }

    fn input(&self, template: &[CustomerFieldDto]) -> CustomerInput {
        let mut fields = serde_json::Map::new();
        for f in template.iter().filter(|f| f.active) {
            let v = self.fields.get(&f.key).map(|s| s.trim()).unwrap_or("");
            if v.is_empty() {
                continue;
            }
            let v = if f.kind == "multi_choice" {
                serde_json::Value::Array(
                    v.split(',')
                        .map(|s| s.trim())
                        .filter(|s| !s.is_empty())
                        .map(|s| serde_json::Value::from(s.to_string()))
                        .collect(),
                )
            } else {
                serde_json::Value::from(v.to_string())
            };
            fields.insert(f.key.clone(), v);
        }
        CustomerInput {
            name: self.name.trim().to_string(),
            phones: self
                .phones
                .iter()
                .filter(|(n, _)| !n.trim().is_empty())
                .map(|(n, l)| PhoneDto {
                    number: n.trim().to_string(),
                    label: l.trim().to_string(),
                })
                .collect(),
            fields,
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct DeskProps {
    pub desk: Desk,
}

/// Caller lookup by number, the customer card (editable) or a new-customer form, history.
#[function_component]
fn CustomerPane(p: &DeskProps) -> Html {
    let i18n = use_i18n();
    let desk = p.desk.clone();
    let (template, reload_template) = use_get::<Vec<CustomerFieldDto>>("/customer-fields".into());
    let number = use_state(String::new);
    let form = use_reducer(Form::<CustForm>::default);
    let shown = use_state(|| false);
    let matches = use_state(Vec::<CustomerDto>::new);
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let saved = use_state(|| false);

    let show = {
        let (form, desk, shown, errors, saved) = (
            form.dispatcher(),
            desk.clone(),
            shown.clone(),
            errors.clone(),
            saved.clone(),
        );
        move |c: CustomerDto| {
            let f = CustForm::from_dto(&c);
            form.dispatch(Box::new(move |t: &mut CustForm| *t = f));
            load_history(c.id, desk.history.clone());
            desk.customer.set(Some(c));
            shown.set(true);
            errors.set(FieldErrors::new());
            saved.set(false);
        }
    };

    let lookup = {
        let (matches, failure, busy, errors, desk, shown, form, saved) = (
            matches.clone(),
            failure.clone(),
            busy.clone(),
            errors.clone(),
            desk.clone(),
            shown.clone(),
            form.dispatcher(),
            saved.clone(),
        );
        let show = show.clone();
        Rc::new(move |q: String| {
            if q.is_empty() {
                return;
            }
            let (matches, failure, busy, errors, desk, shown, form, saved) = (
                matches.clone(),
                failure.clone(),
                busy.clone(),
                errors.clone(),
                desk.clone(),
                shown.clone(),
                form.clone(),
                saved.clone(),
            );
            let show = show.clone();
            busy.set(true);
            failure.set(None);
            spawn(async move {
                let r = api::get::<CustomerLookup>(&format!(
                    "/customers/lookup?phone={}",
                    api::enc(&q)
                ))
                .await;
                busy.set(false);
                match r {
                    Ok(l) => {
                        desk.phone.set(Some(l.number.clone()));
                        matches.set(l.matches.clone());
                        match l.matches.into_iter().next() {
                            Some(c) => show(c),
                            None => {
                                let f = CustForm {
                                    phones: vec![(l.number, String::new())],
                                    ..CustForm::default()
                                };
                                form.dispatch(Box::new(move |t: &mut CustForm| *t = f));
                                desk.customer.set(None);
                                desk.history.set(Vec::new());
                                errors.set(FieldErrors::new());
                                saved.set(false);
                                shown.set(true);
                            }
                        }
                    }
                    Err(e) => {
                        let fe = e.field_errors();
                        if fe.is_empty() {
                            failure.set(Some(e));
                        } else {
                            errors.set(fe);
                        }
                    }
                }
            });
        })
    };
    let on_find = {
        let (number, lookup) = (number.clone(), lookup.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            lookup(number.trim().to_string());
        })
    };
    // Screen pop: an offered call's number is looked up before the agent answers.
    {
        let (number, lookup) = (number.clone(), lookup.clone());
        use_effect_with((*desk.pop).clone(), move |pop| {
            if let Some(n) = pop {
                number.set(n.clone());
                lookup(n.clone());
            }
        });
    }

    let on_save = {
        let (form, template, errors, failure, busy, saved) = (
            form.clone(),
            template.clone(),
            errors.clone(),
            failure.clone(),
            busy.clone(),
            saved.clone(),
        );
        let show = show.clone();
        let i18n = i18n.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Load::Ready(t) = &template else { return };
            let mut checks = Checks::default();
            checks.required(&i18n, "name", &form.0.name);
            if !checks.ok() {
                errors.set(checks.errors);
                return;
            }
            let input = form.0.input(t);
            let id = form.0.id;
            let (errors, failure, busy, saved) =
                (errors.clone(), failure.clone(), busy.clone(), saved.clone());
            let show = show.clone();
            busy.set(true);
            failure.set(None);
            spawn(async move {
                let r = match id {
                    Some(id) => {
                        api::put::<_, CustomerDto>(&format!("/customers/{id}"), &input).await
                    }
                    None => api::post::<_, CustomerDto>("/customers", &input).await,
                };
                busy.set(false);
                match r {
                    Ok(c) => {
                        show(c);
                        saved.set(true);
                    }
                    Err(e) => {
                        let fe = e.field_errors();
                        if fe.is_empty() {
                            failure.set(Some(e));
                        } else {
                            errors.set(fe);
                        }
                        saved.set(false);
                    }
                }
            });
        })
    };

    let err = |k: &str| errors.get(k).cloned();
    let card = if !*shown {
        html! { <p class="placeholder">{ i18n.t("agent-customer-placeholder") }</p> }
    } else {
        let f = &form.0;
        let fields_html = match &template {
            Load::Ready(t) => {
                let mut t: Vec<&CustomerFieldDto> = t.iter().filter(|f| f.active).collect();
                t.sort_by_key(|f| f.position);
                html! { <>{ for t.into_iter().map(|fd| {
                    let key = fd.key.clone();
                    let d = form.dispatcher();
                    let set = Callback::from(move |v: String| {
                        let key = key.clone();
                        d.dispatch(Box::new(move |t: &mut CustForm| { t.fields.insert(key, v); }))
                    });
                    let id = format!("cf-{}", fd.key);
                    let value = f.fields.get(&fd.key).cloned().unwrap_or_default();
                    let error = err(&format!("fields.{}", fd.key));
                    if fd.kind == "choice" {
                        let mut opts = vec![(String::new(), "—".to_string())];
                        opts.extend(fd.options.iter().map(|o| (o.clone(), o.clone())));
                        html! { <SelectField id={id} label={fd.label.clone()} {value} options={opts} onchange={set} {error} required={fd.required} /> }
                    } else {
                        let kind = match fd.kind.as_str() {
                            "number" => "number", "date" => "date", "email" => "email", "phone" => "tel", _ => "text",
                        };
                        let hint = (fd.kind == "multi_choice").then(|| i18n.ta("agent-customer-choices", &[("options", fd.options.join(", ").into())]));
                        html! { <TextField id={id} label={fd.label.clone()} {value} oninput={set} {error} kind={kind} required={fd.required} {hint} /> }
                    }
                }) }</> }
            }
            other => render_load(other, &reload_template, |_| html! {}),
        };
        let phones_html = html! { <>{ for f.phones.iter().enumerate().map(|(i, (n, l))| {
            let d1 = form.dispatcher();
            let d2 = form.dispatcher();
            let set_n = Callback::from(move |v: String| d1.dispatch(Box::new(move |t: &mut CustForm| { if let Some(p) = t.phones.get_mut(i) { p.0 = v } })));
            let set_l = Callback::from(move |v: String| d2.dispatch(Box::new(move |t: &mut CustForm| { if let Some(p) = t.phones.get_mut(i) { p.1 = v } })));
            html! {
                <div class="phone-row">
                    <TextField id={format!("cust-phone-{i}")} label={i18n.ta("agent-customer-phone-n", &[("n", ((i + 1) as i64).into())])}
                        value={n.clone()} oninput={set_n} kind="tel" error={err(&format!("phones[{i}].number"))} />
                    <TextField id={format!("cust-phone-label-{i}")} label={i18n.t("agent-customer-phone-label")}
                        value={l.clone()} oninput={set_l} />
                    if !n.trim().is_empty() {
                        <crate::pages::calls::ClickToCall number={n.trim().to_string()} id={format!("cust-phone-call-{i}")} />
                    }
                </div>
            }
        }) }</> };
        let add_phone = {
            let d = form.dispatcher();
            Callback::from(move |_: MouseEvent| {
                d.dispatch(Box::new(|t: &mut CustForm| {
                    t.phones.push((String::new(), String::new()))
                }))
            })
        };
        let pick = {
            let show = show.clone();
            move |c: CustomerDto| {
                let show = show.clone();
                Callback::from(move |_: MouseEvent| show(c.clone()))
            }
        };
        html! {
            <>
            if matches.len() > 1 {
                <div class="matches" id="customer-matches">
                    <p class="small">{ i18n.ta("agent-customer-matches", &[("count", (matches.len() as i64).into())]) }</p>
                    { for matches.iter().map(|c| html! {
                        <button type="button" class="secondary" onclick={pick(c.clone())}>{ &c.name }</button>
                    }) }
                </div>
            }
            <form id="customer-form" onsubmit={on_save}>
                <h3 id="customer-heading">{ if f.id.is_some() { i18n.t("agent-customer-card") } else { i18n.t("agent-customer-new") } }</h3>
                <TextField id="cust-name" label={i18n.t("agent-customer-name")} value={f.name.clone()}
                    oninput={bind(&form, |t, v| t.name = v)} error={err("name")} required=true />
                { phones_html }
                <button type="button" class="secondary" id="cust-add-phone" onclick={add_phone}>{ i18n.t("agent-customer-add-phone") }</button>
                { fields_html }
                <div class="button-row">
                    <button type="submit" id="customer-save" class="primary" disabled={*busy}>{ i18n.t("agent-customer-save") }</button>
                </div>
                if *saved { <Notice text={i18n.t("agent-customer-saved")} /> }
            </form>
            if f.id.is_some() {
                <h3>{ i18n.t("agent-customer-history") }</h3>
                if desk.history.is_empty() {
                    <p class="muted small" id="customer-history">{ i18n.t("agent-customer-no-history") }</p>
                } else {
                    <ul class="history" id="customer-history">
                        { for desk.history.iter().take(10).map(|h| html! {
                            <li>
                                <span class="muted small">{ i18n.datetime(&h.created_at) }</span>{ " " }
                                <strong>{ if h.category_path.is_empty() { i18n.t("agent-category-none") } else { i18n.pick_path(&h.category_path, &h.category_path_i18n) } }</strong>
                                if !h.notes.is_empty() { <span class="small">{ " — " }{ &h.notes }</span> }
                            </li>
                        }) }
                    </ul>
                }
            }
            </>
        }
    };

    html! {
        <section class="pane customer" id="pane-customer" aria-labelledby="pane-customer-h">
            <h2 id="pane-customer-h" tabindex="-1">{ i18n.t("agent-customer") }<kbd>{ "Alt+3" }</kbd></h2>
            <form class="lookup" id="customer-lookup" role="search" onsubmit={on_find}>
                <TextField id="customer-number" label={i18n.t("agent-customer-number")} value={(*number).clone()}
                    oninput={let n = number.clone(); Callback::from(move |v: String| n.set(v))} kind="tel" error={err("phone")} />
                <button type="submit" id="customer-find" class="primary" disabled={*busy}>{ i18n.t("agent-customer-find") }</button>
            </form>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { card }
        </section>
    }
}

/// Knowledge-base search: hits with highlighted snippets, "did you mean", attach to the
/// current interaction (saved first when it is new).
#[function_component]
fn KbPane(p: &DeskProps) -> Html {
    let i18n = use_i18n();
    let desk = p.desk.clone();
    let query = use_state(String::new);
    let result = use_state(|| None::<KbSearchResult>);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);

    let on_search = {
        let (query, result, failure, busy) =
            (query.clone(), result.clone(), failure.clone(), busy.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let q = query.trim().to_string();
            if q.is_empty() {
                return;
            }
            let (result, failure, busy) = (result.clone(), failure.clone(), busy.clone());
            busy.set(true);
            failure.set(None);
            spawn(async move {
                let r = api::get::<KbSearchResult>(&format!("/kb/search?q={}", api::enc(&q))).await;
                busy.set(false);
                match r {
                    Ok(r) => result.set(Some(r)),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let attach = |id: Uuid| {
        let (desk, failure) = (desk.clone(), failure.clone());
        Callback::from(move |_: MouseEvent| {
            let (desk, failure) = (desk.clone(), failure.clone());
            failure.set(None);
            spawn(async move {
                let current = match &*desk.interaction {
                    Some(i) => Ok(i.id),
                    None => desk.save().await.map(|i| i.id),
                };
                let r = match current {
                    Ok(iid) => {
                        api::post::<_, InteractionDto>(
                            &format!("/interactions/{iid}/articles"),
                            &AttachArticle { article_id: id },
                        )
                        .await
                    }
                    Err(e) => Err(e),
                };
                match r {
                    Ok(i) => desk.interaction.set(Some(i)),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let attached: Vec<AttachedArticle> = (*desk.interaction)
        .as_ref()
        .map(|i| i.articles.clone())
        .unwrap_or_default();

    let results = match &*result {
        None => html! { <p class="placeholder">{ i18n.t("agent-kb-placeholder") }</p> },
        Some(r) => html! {
            <>
            if !r.corrections.is_empty() {
                <p class="small" id="kb-corrections">
                    { i18n.ta("agent-kb-did-you-mean", &[("words", r.corrections.iter().map(|(typed, read)| format!("{typed} → {read}")).collect::<Vec<_>>().join(", ").into())]) }
                </p>
            }
            if r.hits.is_empty() {
                <p class="muted" id="kb-no-hits">{ i18n.t("agent-kb-no-hits") }</p>
            } else {
                <ul class="kb-hits" id="kb-hits">
                    { for r.hits.iter().map(|h| {
                        let done = attached.iter().any(|a| a.article_id == h.id);
                        // The snippet is escaped by the server; only its <mark> tags are markup.
                        let snippet = Html::from_html_unchecked(AttrValue::from(format!("<span class=\"snippet\">{}</span>", h.snippet)));
                        html! {
                            <li data-id={h.id.to_string()}>
                                <strong class="kb-title">{ &h.title }</strong>
                                <p class="small">{ snippet }</p>
                                <button type="button" class="secondary kb-attach" id={format!("kb-attach-{}", h.id)}
                                    disabled={done} onclick={attach(h.id)}>
                                    { if done { i18n.t("agent-kb-attached-one") } else { i18n.t("agent-kb-attach") } }
                                </button>
                            </li>
                        }
                    }) }
                </ul>
            }
            </>
        },
    };

    html! {
        <section class="pane kb" id="pane-kb" aria-labelledby="pane-kb-h">
            <h2 id="pane-kb-h" tabindex="-1">{ i18n.t("agent-kb") }<kbd>{ "Alt+5" }</kbd></h2>
            <form role="search" id="kb-search" onsubmit={on_search}>
                <TextField id="kb-query" label={i18n.t("agent-kb-search")} value={(*query).clone()}
                    oninput={let q = query.clone(); Callback::from(move |v: String| q.set(v))} kind="search" />
                <button type="submit" id="kb-search-submit" class="primary" disabled={*busy}>{ i18n.t("agent-kb-search-button") }</button>
            </form>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { results }
            if !attached.is_empty() {
                <h3>{ i18n.t("agent-kb-attached") }</h3>
                <ul id="kb-attached">
                    { for attached.iter().map(|a| html! { <li>{ &a.title }</li> }) }
                </ul>
            }
        </section>
    }
}

/// The agent's own state: shown with its reason and since when, changed through the API.
#[function_component]
fn StatePane(p: &DeskProps) -> Html {
    let i18n = use_i18n();
    let (state, reload_state) = use_get::<AgentStateDto>("/agent/state".into());
    let (reasons, reload_reasons) = use_get::<Vec<ReasonCodeDto>>("/reason-codes".into());
    let (request, reload_request) =
        use_get::<Option<BreakRequestDto>>("/agent/break-requests/current".into());
    // Requests this desktop saw pending: their decision is news (an older one is not).
    let seen = use_mut_ref(std::collections::HashSet::<Uuid>::new);
    let current = use_state(|| None::<Rc<AgentStateDto>>);
    let choice = use_state(String::new);
    let busy = use_state(|| false);
    let failure = use_state(|| None::<ApiError>);

    // The ACD changes the state by itself too (a missed offer makes the agent not ready; a
    // supervisor may change it): read it again every 5 s; a fresh read replaces the last
    // PUT's answer.
    {
        let (reload_state, reload_request) = (reload_state.clone(), reload_request.clone());
        use_effect_with((), move |_| {
            let t = gloo_timers::callback::Interval::new(5_000, move || {
                reload_state.emit(());
                reload_request.emit(());
            });
            move || drop(t)
        });
    }
    // A call started or ended: the ACD's view (wrap-up) changed too.
    {
        let reload_state = reload_state.clone();
        use_effect_with((*p.desk.activity).clone(), move |_| reload_state.emit(()));
    }
    let now = use_now();
    // A supervisor decided (the live channel said so): read both again now.
    {
        let (reload_state, reload_request) = (reload_state.clone(), reload_request.clone());
        use_effect_with(*p.desk.break_decided, move |v| {
            if *v > 0 {
                reload_state.emit(());
                reload_request.emit(());
            }
        });
    }
    {
        let current = current.clone();
        use_effect_with(state.clone(), move |s| {
            if matches!(s, Load::Ready(_)) {
                current.set(None);
            }
        });
    }
    // The freshest known state: the last PUT's answer, else the GET.
    let shown: Option<Rc<AgentStateDto>> = match (&*current, &state) {
        (Some(c), _) => Some(c.clone()),
        (None, Load::Ready(s)) => Some(s.clone()),
        _ => None,
    };

    // The desktop is usable once the agent's state and reasons are on screen: a User Timing
    // mark for the time-to-interactive benchmark (`tests/benches/desk_tti.rs`).
    use_effect_with(
        shown.is_some() && matches!(reasons, Load::Ready(_)),
        |ready| {
            if *ready {
                performance_mark("hotline-desk-interactive");
            }
        },
    );
    let needs_approval: Vec<Uuid> = match &reasons {
        Load::Ready(rs) => rs
            .iter()
            .filter(|r| r.needs_approval)
            .map(|r| r.id)
            .collect(),
        _ => vec![],
    };
    let onsubmit = {
        let (choice, busy, failure, current) = (
            choice.clone(),
            busy.clone(),
            failure.clone(),
            current.clone(),
        );
        let reload_request = reload_request.clone();
        let fallback = shown
            .as_ref()
            .map(|s| option_value(s.status, s.reason_id))
            .unwrap_or_default();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let v = if choice.is_empty() {
                fallback.clone()
            } else {
                (*choice).clone()
            };
            let Some(req) = parse_option(&v) else { return };
            busy.set(true);
            failure.set(None);
            let (busy, failure, current) = (busy.clone(), failure.clone(), current.clone());
            // A reason that needs a supervisor's approval is asked for, not taken.
            if let Some(reason_id) = req.reason_id.filter(|r| needs_approval.contains(r)) {
                let (choice, reload_request) = (choice.clone(), reload_request.clone());
                spawn(async move {
                    let body = NewBreakRequest { reason_id };
                    let r = api::post::<_, BreakRequestDto>("/agent/break-requests", &body).await;
                    busy.set(false);
                    choice.set(String::new());
                    if let Err(e) = r {
                        failure.set(Some(e));
                    }
                    reload_request.emit(());
                });
                return;
            }
            spawn(async move {
                let r = api::put::<_, AgentStateDto>("/agent/state", &req).await;
                busy.set(false);
                match r {
                    Ok(s) => current.set(Some(Rc::new(s))),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };

    let cancel_request = {
        let (failure, reload_request) = (failure.clone(), reload_request.clone());
        Callback::from(move |_: MouseEvent| {
            let (failure, reload_request) = (failure.clone(), reload_request.clone());
            spawn(async move {
                if let Err(e) = api::delete("/agent/break-requests/current").await {
                    failure.set(Some(e));
                }
                reload_request.emit(());
            });
        })
    };
    let request_note = match &request {
        Load::Ready(r) => match r.as_ref() {
            Some(r) if r.status == "pending" => {
                seen.borrow_mut().insert(r.id);
                html! {
                <p class="alert info" id="break-request" data-status="pending" role="status">
                    { i18n.ta("agent-break-requested", &[("reason", r.reason.clone().into())]) }
                    { " " }
                    <button type="button" class="secondary" id="break-request-cancel" onclick={cancel_request}>
                        { i18n.t("agent-break-request-cancel") }
                    </button>
                </p>
                }
            }
            Some(r)
                if matches!(r.status.as_str(), "approved" | "denied")
                    && seen.borrow().contains(&r.id) =>
            {
                let key = format!("agent-break-{}", r.status);
                html! {
                    <p class={classes!("alert", if r.status == "denied" { "error" } else { "ok" })}
                        id="break-request" data-status={r.status.clone()} role="alert">
                        { i18n.ta(&key, &[("reason", r.reason.clone().into())]) }
                    </p>
                }
            }
            _ => html! {},
        },
        _ => html! {},
    };
    let retry = Callback::from(move |_| {
        reload_state.emit(());
        reload_reasons.emit(());
    });
    let body = match (&shown, &reasons) {
        (_, Load::Failed(e)) => html! { <ErrorBox error={e.clone()} retry={retry.clone()} /> },
        (None, _) => match &state {
            Load::Failed(e) => html! { <ErrorBox error={e.clone()} retry={retry.clone()} /> },
            _ => html! { <Loading /> },
        },
        (_, Load::Loading) => html! { <Loading /> },
        (Some(s), Load::Ready(rs)) => {
            let opts = state_options(&i18n, rs, s.reason_id);
            let value = if choice.is_empty() {
                option_value(s.status, s.reason_id)
            } else {
                (*choice).clone()
            };
            // A system reason in the agent's language; the tenant's own as named.
            let reason = s
                .reason_key
                .as_deref()
                .and_then(|k| i18n.try_t(&builtin_reason_key(k)))
                .or_else(|| s.reason.clone());
            let status_text = match reason {
                Some(r) => format!("{} — {}", i18n.t(&status_key(s.status)), r),
                None => i18n.t(&status_key(s.status)),
            };
            // The pill tells what the agent is doing: a call (ringing, talking, wrap-up)
            // before the status it happens in; the time is the time in that activity.
            let live = (*p.desk.activity).clone();
            let (kind, text, clock) = match (&live, s.activity.as_deref()) {
                (Some(a), _) => (
                    a.kind.to_string(),
                    i18n.t(&format!("agent-activity-{}", a.kind.replace('_', "-"))),
                    duration((now - a.since).num_milliseconds()),
                ),
                (None, Some("wrap_up")) => (
                    "wrap_up".to_string(),
                    i18n.t("agent-activity-wrap-up"),
                    s.wrap_up_until
                        .map(|u| i18n.ta("agent-wrap-up-left", &[("time", duration((u - now).num_milliseconds()).into())]))
                        .unwrap_or_default(),
                ),
                (None, Some(a @ ("ringing" | "on_call"))) => (
                    a.to_string(),
                    i18n.t(&format!("agent-activity-{}", a.replace('_', "-"))),
                    String::new(),
                ),
                _ => (
                    s.status.as_str().to_string(),
                    status_text,
                    duration((now - s.since).num_milliseconds()),
                ),
            };
            let pill_class = classes!("state-badge", "state-pill", kind.clone());
            html! {
                <>
                <p class="current-state">
                    <span id="agent-current-state" class={pill_class}
                        data-status={s.status.as_str()} data-activity={kind}
                        role="status" aria-live="polite" title={i18n.ta("agent-since", &[("time", i18n.time(&s.since).into())])}>
                        { text }
                    </span>
                    <span class="state-clock" id="agent-state-clock" aria-hidden="true">{ clock }</span>
                </p>
                <form class="state-form" {onsubmit}>
                    <SelectField id="agent-state" label={i18n.t("agent-change-state")} {value} options={opts}
                        onchange={let c = choice.clone(); Callback::from(move |v| c.set(v))} />
                    <button type="submit" id="agent-state-apply" class="primary" disabled={*busy}>{ i18n.t("agent-apply-state") }</button>
                </form>
                { request_note.clone() }
                if let Some(e) = &*failure { <div id="agent-state-error"><ErrorBox error={e.clone()} /></div> }
                </>
            }
        }
    };
    html! {
        <section class="pane state" id="pane-state" aria-labelledby="pane-state-h">
            <h2 id="pane-state-h" tabindex="-1">{ i18n.t("agent-state") }<kbd>{ "Alt+1" }</kbd></h2>
            { body }
            <p class="muted small shortcuts">{ i18n.t("agent-shortcuts") }</p>
        </section>
    }
}

/// `performance.mark(name)`, once per page load (later calls are ignored).
fn performance_mark(name: &str) {
    use wasm_bindgen::JsValue;
    let Some(w) = web_sys::window() else { return };
    let Ok(perf) = js_sys::Reflect::get(&w, &JsValue::from_str("performance")) else {
        return;
    };
    let seen = js_sys::Reflect::get(&perf, &JsValue::from_str("getEntriesByName"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call1(&perf, &JsValue::from_str(name)).ok())
        .map(|l| js_sys::Array::from(&l).length() > 0)
        .unwrap_or(false);
    if seen {
        return;
    }
    if let Some(mark) = js_sys::Reflect::get(&perf, &JsValue::from_str("mark"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    {
        let _ = mark.call1(&perf, &JsValue::from_str(name));
    }
}

/// What the softphone is doing.
#[derive(Clone, PartialEq)]
enum PhoneState {
    Connecting,
    Ready,
    Failed(String),
    /// No usable microphone (the browser's error name: `NotAllowedError`, `NotFoundError`…).
    NoMicrophone(String),
    /// The connection ended after it was up (the gateway's or the browser's reason), and
    /// whether the agent was set not ready for it.
    Lost {
        reason: String,
        not_ready: bool,
    },
}

/// What the agent reads for a failed connection: the fix first.
fn connect_error_text(i18n: &I18n, e: crate::softphone::ConnectError) -> PhoneState {
    match e {
        crate::softphone::ConnectError::Microphone { name, .. } => PhoneState::NoMicrophone(name),
        crate::softphone::ConnectError::Other(m) => {
            PhoneState::Failed(i18n.ta("softphone-failed-why", &[("detail", m.into())]))
        }
    }
}

/// One of the call's IVR variables as the agent reads it: a menu choice as "Menu main:
/// pressed 1", a campaign's name, a lookup's answer by its field; internal ids are hidden.
fn ivr_answer(i18n: &I18n, key: &str, value: &str) -> Option<(String, String)> {
    if let Some(node) = key.strip_prefix("menu.") {
        return Some((
            i18n.ta("softphone-ivr-menu", &[("node", node.to_string().into())]),
            i18n.ta("softphone-ivr-pressed", &[("key", value.to_string().into())]),
        ));
    }
    if let Some(field) = key.strip_prefix("http.") {
        return Some((field.replace('_', " "), value.to_string()));
    }
    match key {
        "campaign_contact" => None,
        "campaign" => Some((i18n.t("softphone-ivr-campaign"), value.to_string())),
        "contact_name" => Some((i18n.t("softphone-ivr-contact"), value.to_string())),
        // A variable the flow collected digits into: named as the flow names it.
        other => Some((other.replace('_', " "), value.to_string())),
    }
}

/// The offer on screen: who calls, on which number, what they chose in the IVR.
#[derive(Clone, PartialEq)]
struct Ringing {
    call_id: Uuid,
    caller: String,
    did: String,
    vars: Vec<(String, String)>,
    /// The queue the caller waited in and since when.
    queue: Option<String>,
    queued_at: Option<chrono::DateTime<chrono::Utc>>,
}

const AUTO_ANSWER_KEY: &str = "hotline.autoAnswer";

fn local_flag(key: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(key).ok().flatten())
        .is_some_and(|v| v == "1")
}

fn set_local_flag(key: &str, on: bool) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(key, if on { "1" } else { "0" });
    }
}

/// The browser softphone: connects when the desktop opens; rings with the caller's number
/// and IVR choices (and pops the customer card before answering); accept (or auto-answer),
/// reject, mute, hang up.
#[function_component]
fn SoftphonePane(p: &DeskProps) -> Html {
    let i18n = use_i18n();
    let desk = p.desk.clone();
    let phone = use_mut_ref(|| None::<crate::softphone::Phone>);
    let socket = use_mut_ref(|| None::<crate::softphone::EventSocket>);
    let phone_state = use_state(|| PhoneState::Connecting);
    let connect_version = use_state(|| 0u32);
    let socket_version = use_state(|| 0u32);
    let ringing = use_state(|| None::<Ringing>);
    let call = use_state(|| None::<Uuid>);
    let muted = use_state(|| false);
    let held = use_state(|| false);
    // A booked callback that is due now: (id, number, note).
    let reminder = use_state(|| None::<(Uuid, String, String)>);
    // The last call that ended for this agent: its wrap-up form shows until saved.
    let wrap = use_state(|| None::<Uuid>);
    // The caller header: the call offered or on the line, and when it was answered.
    let header = use_state(|| None::<(Ringing, Option<chrono::DateTime<chrono::Utc>>)>);
    let clock_now = use_now();
    let history_version = use_state(|| 0u32);
    let auto_answer = use_state(|| local_flag(AUTO_ANSWER_KEY));
    let auto_ref = use_mut_ref(|| local_flag(AUTO_ANSWER_KEY));
    let note = use_state(|| None::<String>);
    let failure = use_state(|| None::<ApiError>);
    // The campaign contact of the call offered or on the line (agent campaigns): its script
    // shows until the next offer.
    let campaign_contact = use_state(|| None::<Uuid>);
    // The consultation on the call, if any (`dialling`, `talking`, `conference`).
    let consult = use_state(|| None::<String>);

    // The media gateway holding the leg (shown as `data-gateway` on the status, for support).
    let phone_gateway = use_state(|| None::<String>);
    // The gateway of the last offered call, and whether a move there is under way.
    let want_gateway = use_mut_ref(|| None::<String>);
    let moving = use_mut_ref(|| false);
    // The browser would not play the caller's audio without a click ("Enable sound").
    let sound_blocked = use_state(|| false);

    // What the phone reports after it connected: autoplay blocked, connection failed.
    let hooks = {
        let (sound_blocked, phone_state) = (sound_blocked.clone(), phone_state.clone());
        crate::softphone::Hooks {
            autoplay_blocked: Rc::new(move || sound_blocked.set(true)),
            failed: Rc::new(move || {
                phone_state.set(PhoneState::Lost {
                    reason: "browser_failed".into(),
                    not_ready: false,
                })
            }),
        }
    };
    // The WebRTC leg: made when the desktop opens (or on "reconnect").
    {
        let (phone, phone_state, phone_gateway) =
            (phone.clone(), phone_state.clone(), phone_gateway.clone());
        let (hooks, i18n) = (hooks.clone(), i18n.clone());
        use_effect_with(*connect_version, move |_| {
            phone_state.set(PhoneState::Connecting);
            *phone.borrow_mut() = None;
            spawn(async move {
                match crate::softphone::Phone::connect("softphone-audio", None, hooks).await {
                    Ok(ph) => {
                        phone_gateway.set(Some(ph.gateway_id.clone()));
                        *phone.borrow_mut() = Some(ph);
                        phone_state.set(PhoneState::Ready);
                    }
                    Err(e) => phone_state.set(connect_error_text(&i18n, e)),
                }
            });
        });
    }
    // The leg follows the call: an offer from another gateway makes a new leg there while it
    // rings (the backend replaces the old leg, and bridges the call once the new one is up,
    // even if it was accepted meanwhile). One move at a time, towards the latest offer's
    // gateway.
    let follow = {
        let (phone, phone_state, phone_gateway, muted) = (
            phone.clone(),
            phone_state.clone(),
            phone_gateway.clone(),
            muted.clone(),
        );
        let (want, moving) = (want_gateway.clone(), moving.clone());
        let (hooks, i18n) = (hooks.clone(), i18n.clone());
        move |gateway: String| {
            *want.borrow_mut() = Some(gateway);
            if std::mem::replace(&mut *moving.borrow_mut(), true) {
                return;
            }
            let (phone, phone_state, phone_gateway, muted) = (
                phone.clone(),
                phone_state.clone(),
                phone_gateway.clone(),
                muted.clone(),
            );
            let (want, moving) = (want.clone(), moving.clone());
            let (hooks, i18n) = (hooks.clone(), i18n.clone());
            spawn(async move {
                // A leg still being made (the desktop just opened): up to 10 s for it.
                let mut waits = 0;
                loop {
                    let here = phone.borrow().as_ref().map(|p| p.gateway_id.clone());
                    let target = want.borrow().clone();
                    let Some(target) = target.filter(|t| here.as_ref() != Some(t)) else {
                        break;
                    };
                    if here.is_none() {
                        waits += 1;
                        if waits > 40 {
                            break;
                        }
                        gloo_timers::future::TimeoutFuture::new(250).await;
                        continue;
                    }
                    match crate::softphone::Phone::connect(
                        "softphone-audio",
                        Some(&target),
                        hooks.clone(),
                    )
                    .await
                    {
                        Ok(ph) => {
                            phone_gateway.set(Some(ph.gateway_id.clone()));
                            // The new microphone track is live: the old leg's mute is gone.
                            muted.set(false);
                            *phone.borrow_mut() = Some(ph);
                        }
                        Err(e) => {
                            phone_state.set(connect_error_text(&i18n, e));
                            break;
                        }
                    }
                }
                *moving.borrow_mut() = false;
            });
        }
    };
    let accept_call = {
        let (failure, note) = (failure.clone(), note.clone());
        move |id: Uuid| {
            let (failure, note) = (failure.clone(), note.clone());
            spawn(async move {
                match api::post_empty(&format!("/agent/calls/{id}/accept"), &serde_json::json!({}))
                    .await
                {
                    Ok(()) => note.set(None),
                    Err(e) => failure.set(Some(e)),
                }
            });
        }
    };
    // The live channel; reopened a second after it drops.
    {
        let (socket, ringing, call, pop, note, sv, auto_ref) = (
            socket.clone(),
            ringing.clone(),
            call.clone(),
            desk.pop.clone(),
            note.clone(),
            socket_version.clone(),
            auto_ref.clone(),
        );
        let break_decided = desk.break_decided.clone();
        let (header, activity) = (header.clone(), desk.activity.clone());
        let (held, wrap, history_version, reminder, campaign_contact, consult) = (
            held.clone(),
            wrap.clone(),
            history_version.clone(),
            reminder.clone(),
            campaign_contact.clone(),
            consult.clone(),
        );
        let accept_call = accept_call.clone();
        let follow = follow.clone();
        let (phone, phone_state) = (phone.clone(), phone_state.clone());
        use_effect_with(*socket_version, move |version| {
            let version = *version;
            let on_event = move |ev: AgentEvent| match ev {
                AgentEvent::Offer {
                    call_id,
                    caller,
                    did,
                    vars,
                    gateway_id,
                    queue,
                    queued_at,
                } => {
                    if let Some(gw) = gateway_id {
                        follow(gw);
                    }
                    campaign_contact.set(
                        vars.get("campaign_contact")
                            .and_then(|c| c.parse::<Uuid>().ok()),
                    );
                    pop.set(Some(caller.clone()));
                    let r = Ringing {
                        call_id,
                        caller,
                        did,
                        vars: vars.into_iter().collect(),
                        queue,
                        queued_at,
                    };
                    header.set(Some((r.clone(), None)));
                    activity.set(Some(Activity { kind: "ringing", since: now() }));
                    ringing.set(Some(r));
                    note.set(None);
                    if *auto_ref.borrow() {
                        accept_call(call_id);
                    }
                }
                AgentEvent::Connected { call_id } => {
                    let answered = now();
                    if let Some((r, _)) = (*header).clone() {
                        header.set(Some((r, Some(answered))));
                    }
                    activity.set(Some(Activity { kind: "on_call", since: answered }));
                    ringing.set(None);
                    held.set(false);
                    wrap.set(None);
                    call.set(Some(call_id));
                }
                AgentEvent::Held { held: h, .. } => held.set(h),
                AgentEvent::Consult { state, .. } => consult.set(
                    Some(state)
                        .filter(|s| matches!(s.as_str(), "dialling" | "talking" | "conference")),
                ),
                AgentEvent::CallbackDue {
                    id, number, note, ..
                } => reminder.set(Some((id, number, note))),
                AgentEvent::OfferWithdrawn { reason, .. } => {
                    header.set(None);
                    activity.set(None);
                    ringing.set(None);
                    note.set(Some(reason));
                }
                AgentEvent::SoftphoneLost { reason, not_ready } => {
                    // The leg is gone on the gateway: this connection is dead.
                    *phone.borrow_mut() = None;
                    phone_state.set(PhoneState::Lost { reason, not_ready });
                }
                AgentEvent::Ended { call_id } => {
                    header.set(None);
                    activity.set(None);
                    consult.set(None);
                    ringing.set(None);
                    call.set(None);
                    held.set(false);
                    wrap.set(Some(call_id));
                    history_version.set(*history_version + 1);
                    note.set(Some("ended".into()));
                }
                AgentEvent::BreakDecided { .. } => break_decided.set(*break_decided + 1),
                AgentEvent::Hello { .. } => {}
            };
            let on_close = move || {
                let sv = sv.clone();
                gloo_timers::callback::Timeout::new(1_000, move || sv.set(version + 1)).forget();
            };
            *socket.borrow_mut() = crate::softphone::events_socket(on_event, on_close).ok();
            let socket = socket.clone();
            move || {
                socket.borrow_mut().take();
            }
        });
    }

    let on_accept = {
        let (ringing, accept_call) = (ringing.clone(), accept_call.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(r) = &*ringing {
                accept_call(r.call_id);
            }
        })
    };
    let post_call = |path: &'static str,
                     id: Option<Uuid>,
                     clear: UseStateHandle<Option<Ringing>>| {
        let failure = failure.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(id) = id else { return };
            let (failure, clear) = (failure.clone(), clear.clone());
            spawn(async move {
                match api::post_empty(&format!("/agent/calls/{id}/{path}"), &serde_json::json!({}))
                    .await
                {
                    Ok(()) => clear.set(None),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let on_reject = post_call(
        "reject",
        ringing.as_ref().map(|r| r.call_id),
        ringing.clone(),
    );
    let on_hangup = post_call("hangup", *call, ringing.clone());
    let on_mute = {
        let (phone, muted) = (phone.clone(), muted.clone());
        Callback::from(move |_: MouseEvent| {
            let m = !*muted;
            if let Some(ph) = &*phone.borrow() {
                ph.set_muted(m);
            }
            muted.set(m);
        })
    };
    let on_auto = {
        let (auto_answer, auto_ref) = (auto_answer.clone(), auto_ref.clone());
        Callback::from(move |v: bool| {
            set_local_flag(AUTO_ANSWER_KEY, v);
            *auto_ref.borrow_mut() = v;
            auto_answer.set(v);
        })
    };
    let reconnect = {
        let cv = connect_version.clone();
        Callback::from(move |_: MouseEvent| cv.set(*cv + 1))
    };

    let status = match &*phone_state {
        PhoneState::Connecting => {
            html! { <span class="state-badge" id="softphone-status" data-state="connecting">{ i18n.t("softphone-connecting") }</span> }
        }
        PhoneState::Ready => {
            html! { <span class="state-badge ready" id="softphone-status" data-state="ready"
            data-gateway={(*phone_gateway).clone().unwrap_or_default()}>{ i18n.t("softphone-ready") }</span> }
        }
        PhoneState::Failed(e) => html! {
            <>
                <span class="state-badge" id="softphone-status" data-state="failed">{ i18n.t("softphone-failed") }</span>
                <p class="alert error" id="softphone-why" role="alert">{ e }</p>
                <button type="button" class="secondary" id="softphone-reconnect" onclick={reconnect}>{ i18n.t("softphone-reconnect") }</button>
            </>
        },
        PhoneState::NoMicrophone(name) => {
            let why = match name.as_str() {
                "NotAllowedError" | "SecurityError" => i18n.t("softphone-mic-denied"),
                "NotFoundError" | "OverconstrainedError" => i18n.t("softphone-mic-missing"),
                "NotReadableError" | "AbortError" => i18n.t("softphone-mic-busy"),
                other => i18n.ta(
                    "softphone-mic-failed",
                    &[("detail", other.to_string().into())],
                ),
            };
            html! {
                <>
                    <span class="state-badge" id="softphone-status" data-state="failed" data-why="microphone">{ i18n.t("softphone-failed") }</span>
                    <p class="alert error" id="softphone-why" role="alert">{ why }</p>
                    <button type="button" class="secondary" id="softphone-reconnect" onclick={reconnect}>{ i18n.t("softphone-reconnect") }</button>
                </>
            }
        }
        PhoneState::Lost { reason, not_ready } => html! {
            <>
                <span class="state-badge" id="softphone-status" data-state="failed" data-why="lost" data-reason={reason.clone()}>{ i18n.t("softphone-failed") }</span>
                <p class="alert error" id="softphone-why" role="alert">
                    { if *not_ready { i18n.t("softphone-lost-not-ready") } else { i18n.t("softphone-lost") } }
                </p>
                <button type="button" class="secondary" id="softphone-reconnect" onclick={reconnect}>{ i18n.t("softphone-reconnect") }</button>
            </>
        },
    };
    let on_enable_audio = {
        let sound_blocked = sound_blocked.clone();
        Callback::from(move |_: MouseEvent| {
            let sound_blocked = sound_blocked.clone();
            spawn(async move {
                match crate::softphone::enable_audio("softphone-audio").await {
                    Ok(()) => sound_blocked.set(false),
                    Err(e) => web_sys::console::warn_1(&format!("sound still blocked: {e}").into()),
                }
            });
        })
    };
    let enable_audio = (*sound_blocked).then(|| html! {
        <div class="alert warning" id="softphone-sound-blocked" role="alert">
            <p>{ i18n.t("softphone-sound-blocked") }</p>
            <button type="button" class="primary" id="softphone-enable-audio" onclick={on_enable_audio}>{ i18n.t("softphone-enable-audio") }</button>
        </div>
    });
    // The caller header: who (the popped customer's name when the card is theirs), from which
    // queue, how long they waited, and the call's timer once answered.
    let caller_header = header.as_ref().map(|(r, answered)| {
        let name = p
            .desk
            .customer
            .as_ref()
            .filter(|c| c.phones.iter().any(|ph| ph.number == r.caller))
            .map(|c| c.name.clone());
        let waited = r
            .queued_at
            .map(|q| duration((answered.unwrap_or(clock_now) - q).num_milliseconds()));
        let talk = answered.map(|a| duration((clock_now - a).num_milliseconds()));
        html! {
            <div class="caller-header" id="caller-header" data-call={r.call_id.to_string()}>
                <p class="caller-name" id="caller-name">{ name.clone().unwrap_or_else(|| r.caller.clone()) }</p>
                if name.is_some() { <p class="caller-number">{ &r.caller }</p> }
                <dl class="caller-facts">
                    if let Some(q) = &r.queue {
                        <dt>{ i18n.t("softphone-queue") }</dt><dd id="caller-queue">{ q }</dd>
                    }
                    if let Some(w) = waited {
                        <dt>{ i18n.t("softphone-waited") }</dt><dd id="caller-waited">{ w }</dd>
                    }
                </dl>
                if let Some(t) = talk {
                    <p class="call-timer" id="call-timer" role="timer" aria-label={i18n.t("softphone-call-time")}>{ t }</p>
                }
            </div>
        }
    });
    let ring = ringing.as_ref().map(|r| {
        html! {
            <div class="incoming" id="incoming-call" role="alertdialog" aria-labelledby="incoming-call-h" data-call={r.call_id.to_string()}>
                <h3 id="incoming-call-h">{ i18n.t("softphone-incoming") }</h3>
                <p class="caller" id="incoming-caller">{ &r.caller }</p>
                <p class="muted small">{ i18n.ta("softphone-dialled", &[("did", r.did.clone().into())]) }</p>
                if !r.vars.is_empty() {
                    <dl class="facts ivr-choices" id="incoming-ivr">
                        { for r.vars.iter().filter_map(|(k, v)| ivr_answer(&i18n, k, v)).map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }
                    </dl>
                }
                <div class="button-row">
                    <button type="button" class="primary" id="call-accept" onclick={on_accept}
                        disabled={*phone_state != PhoneState::Ready}>{ i18n.t("softphone-accept") }</button>
                    <button type="button" class="secondary" id="call-reject" onclick={on_reject}>{ i18n.t("softphone-reject") }</button>
                </div>
            </div>
        }
    });
    let on_control_error = {
        let failure = failure.clone();
        Callback::from(move |e: ApiError| failure.set(Some(e)))
    };
    let in_call = call.map(|id| {
        html! {
            <div class="in-call" id="in-call" data-call={id.to_string()}>
                <p role="status">{ i18n.t("softphone-in-call") }</p>
                <div class="button-row">
                    <button type="button" class="secondary" id="call-mute" aria-pressed={muted.to_string()} onclick={on_mute}>
                        { if *muted { i18n.t("softphone-unmute") } else { i18n.t("softphone-mute") } }
                    </button>
                    <button type="button" class="danger" id="call-hangup" onclick={on_hangup}>{ i18n.t("agent-hang-up") }</button>
                </div>
                <super::calls::CallControls call_id={id} held={*held} consult={(*consult).clone()} on_error={on_control_error.clone()} />
            </div>
        }
    });
    let wrap_up = wrap.filter(|_| call.is_none()).map(|id| {
        let (wrap, note, hv) = (wrap.clone(), note.clone(), history_version.clone());
        let done = Callback::from(move |_| {
            wrap.set(None);
            note.set(Some("wrapped-up".into()));
            hv.set(*hv + 1);
        });
        html! { <super::calls::WrapUpForm key={id.to_string()} call_id={id} on_done={done} /> }
    });
    let note_text = note.as_ref().map(|n| {
        // `phone_failed:<SIP status>`: the desk phone answered the offer with that status.
        let text = match n.split_once(':') {
            Some(("phone_failed", status)) => i18n.ta(
                "softphone-note-phone-failed-status",
                &[("status", status.to_string().into())],
            ),
            _ => {
                let key = format!("softphone-note-{}", n.replace('_', "-"));
                i18n.try_t(&key).unwrap_or_else(|| n.clone())
            }
        };
        html! { <p class="muted" id="softphone-note" data-reason={n.clone()} role="status">{ text }</p> }
    });
    html! {
        <section class="pane softphone" id="pane-softphone" aria-labelledby="pane-softphone-h">
            <h2 id="pane-softphone-h" tabindex="-1">{ i18n.t("agent-softphone") }<kbd>{ "Alt+2" }</kbd></h2>
            <p class="current-state">{ status }</p>
            { for enable_audio }
            { for caller_header }
            { for ring }
            { for in_call }
            if let Some(c) = *campaign_contact {
                <super::campaign_desk::CampaignScript key={c.to_string()} contact={c} />
            }
            { for wrap_up }
            { for note_text }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <Checkbox id="softphone-auto-answer" label={i18n.t("softphone-auto-answer")} checked={*auto_answer} onchange={on_auto} />
            <super::calls::ScheduledCallbacks reminder={(*reminder).clone()}
                on_handled={{ let r = reminder.clone(); Callback::from(move |_| r.set(None)) }} />
            <super::campaign_desk::PreviewPane on_dialled={{
                let cc = campaign_contact.clone();
                Callback::from(move |c: Uuid| cc.set(Some(c)))
            }} />
            <super::calls::MissedCalls />
            <super::directory::Directory call={*call} />
            <super::voicemail::VoicemailList embedded=true />
            <super::calls::CallHistory version={*history_version} />
        </section>
    }
}
