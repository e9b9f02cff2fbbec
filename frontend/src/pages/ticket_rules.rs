//! Who gets new tickets and how long they may take (`tickets.admin`): assignment rules,
//! SLA policies and the business calendar business-hours SLAs count in. Rules and policies
//! are listed with names (type, category path, team), added from a form and deleted; the
//! calendar is edited whole (working intervals per weekday, holidays) and saved at once.

use hotline_wire::api::TeamDto;
use hotline_wire::crm::CategoryDto;
use hotline_wire::sla::{BusinessCalendar, Holiday, WorkingHours};
use hotline_wire::tickets::{
    AssignmentRuleDto, AssignmentRuleInput, SlaPolicyDto, SlaPolicyInput, TicketTypeDto, PRIORITIES,
};
use uuid::Uuid;
use yew::prelude::*;

use super::org::DeleteButton;
use super::tickets::priority_text;
use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

const STRATEGIES: [&str; 3] = ["round_robin", "least_loaded", "team_only"];

fn strategy_text(i18n: &I18n, s: &str) -> String {
    i18n.try_t(&format!("rules-strategy-{}", s.replace('_', "-")))
        .unwrap_or_else(|| s.to_string())
}

/// `Billing › Payment` for a category id, in the active language.
fn category_path(i18n: &I18n, all: &[CategoryDto], id: Uuid) -> String {
    let mut names = vec![];
    let mut cur = Some(id);
    while let Some(c) = cur.and_then(|i| all.iter().find(|c| c.id == i)) {
        names.push(i18n.pick(&c.name, &c.name_i18n).to_string());
        cur = c.parent_id;
        if names.len() > 50 {
            break;
        }
    }
    names.reverse();
    names.join(" › ")
}

/// Every category as a select option, by path.
fn category_options(i18n: &I18n, all: &[CategoryDto], any: String) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = all
        .iter()
        .map(|c| (c.id.to_string(), category_path(i18n, all, c.id)))
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v.insert(0, (String::new(), any));
    v
}

fn team_name(teams: &[TeamDto], id: Uuid, i18n: &I18n) -> String {
    teams
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.name.clone())
        .unwrap_or_else(|| i18n.t("rules-unknown"))
}

/// `90` → "1 h 30 min".
fn duration_text(i18n: &I18n, minutes: i32) -> String {
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    let mut parts = vec![];
    if d > 0 {
        parts.push(i18n.ta("sla-days", &[("n", (d as i64).into())]));
    }
    if h > 0 {
        parts.push(i18n.ta("sla-hours", &[("n", (h as i64).into())]));
    }
    if m > 0 || parts.is_empty() {
        parts.push(i18n.ta("sla-minutes", &[("n", (m as i64).into())]));
    }
    parts.join(" ")
}

fn opt_uuid(s: &str) -> Option<Uuid> {
    s.parse().ok()
}

#[function_component]
pub fn TicketRulesPage() -> Html {
    let i18n = use_i18n();
    let (types, r1) = use_get::<Vec<TicketTypeDto>>("/ticket-types".into());
    let (cats, r2) = use_get::<Vec<CategoryDto>>("/categories".into());
    let (teams, r3) = use_get::<Vec<TeamDto>>("/teams".into());
    let (cal, r4) = use_get::<BusinessCalendar>("/business-calendar".into());
    let body = match (&types, &cats, &teams) {
        (Load::Ready(ty), Load::Ready(ca), Load::Ready(te)) => html! {
            <>
                <RulesSection types={ty.to_vec()} cats={ca.to_vec()} teams={te.to_vec()} />
                <SlaSection cats={ca.to_vec()} teams={te.to_vec()} />
            </>
        },
        (Load::Failed(e), _, _) | (_, Load::Failed(e), _) | (_, _, Load::Failed(e)) => {
            let retry = {
                let (r1, r2, r3) = (r1.clone(), r2.clone(), r3.clone());
                Callback::from(move |_| {
                    r1.emit(());
                    r2.emit(());
                    r3.emit(());
                })
            };
            html! { <ErrorBox error={e.clone()} {retry} /> }
        }
        _ => html! { <Loading /> },
    };
    html! {
        <>
            <h1>{ i18n.t("rules-page-title") }</h1>
            <p class="muted">{ i18n.t("rules-page-intro") }</p>
            { body }
            { render_load(&cal, &r4, |c| html! { <CalendarSection current={c.clone()} /> }) }
        </>
    }
}

// ---------------------------------------------------------------- assignment rules

#[derive(Properties, PartialEq)]
struct RulesProps {
    types: Vec<TicketTypeDto>,
    cats: Vec<CategoryDto>,
    teams: Vec<TeamDto>,
}

#[derive(Clone, PartialEq, Default)]
struct RuleForm {
    type_id: String,
    category_id: String,
    team_id: String,
    strategy: String,
    position: String,
}

#[function_component]
fn RulesSection(p: &RulesProps) -> Html {
    let i18n = use_i18n();
    let (rules, reload) = use_get::<Vec<AssignmentRuleDto>>("/assignment-rules".into());
    let failure = use_state(|| None::<ApiError>);
    let errors = use_state(FieldErrors::new);
    let form = {
        let (t, tm) = (
            p.types
                .first()
                .map(|t| t.id.to_string())
                .unwrap_or_default(),
            p.teams
                .first()
                .map(|t| t.id.to_string())
                .unwrap_or_default(),
        );
        use_reducer(move || {
            Form(RuleForm {
                type_id: t,
                team_id: tm,
                strategy: "round_robin".into(),
                position: "10".into(),
                ..Default::default()
            })
        })
    };
    let type_name = |id: Uuid| {
        p.types
            .iter()
            .find(|t| t.id == id)
            .map(|t| i18n.pick(&t.name, &t.name_i18n).to_string())
            .unwrap_or_else(|| i18n.t("rules-unknown"))
    };
    let list = render_load(&rules, &reload, |rs| {
        if rs.is_empty() {
            return html! { <p class="empty">{ i18n.t("rules-none") }</p> };
        }
        let mut rs = rs.to_vec();
        rs.sort_by_key(|r| r.position);
        html! {
            <table class="data" id="rules-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("rules-order") }</th>
                    <th scope="col">{ i18n.t("rules-type") }</th>
                    <th scope="col">{ i18n.t("rules-category") }</th>
                    <th scope="col">{ i18n.t("rules-team") }</th>
                    <th scope="col">{ i18n.t("rules-strategy") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for rs.iter().map(|r| {
                    let cat = r.category_id.map_or_else(|| i18n.t("rules-any-category"), |c| category_path(&i18n, &p.cats, c));
                    let team = team_name(&p.teams, r.team_id, &i18n);
                    let label = format!("{} → {}", cat, team);
                    html! {
                        <tr data-team={team.clone()}>
                            <td>{ r.position }</td>
                            <td>{ type_name(r.type_id) }</td>
                            <td>{ cat }</td>
                            <td>{ team }</td>
                            <td>{ strategy_text(&i18n, &r.strategy) }</td>
                            <td class="actions"><DeleteButton path={format!("/assignment-rules/{}", r.id)} name={label}
                                on_done={reload.clone()} on_error={let f = failure.clone(); Callback::from(move |e| f.set(Some(e)))} /></td>
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });
    let onsubmit = {
        let (form, errors, failure, reload, i18n) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            reload.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "type_id", &f.type_id);
            c.required(&i18n, "team_id", &f.team_id);
            let position = f.position.trim().parse::<i32>();
            if position.is_err() {
                c.fail("position", i18n.t("rules-whole-number"));
            }
            errors.set(c.errors.clone());
            failure.set(None);
            let (true, Some(type_id), Some(team_id), Ok(position)) =
                (c.ok(), opt_uuid(&f.type_id), opt_uuid(&f.team_id), position)
            else {
                return;
            };
            let body = AssignmentRuleInput {
                type_id,
                category_id: opt_uuid(&f.category_id),
                team_id,
                strategy: f.strategy.clone(),
                position,
            };
            let (errors, failure, reload) = (errors.clone(), failure.clone(), reload.clone());
            spawn(async move {
                match api::post::<_, AssignmentRuleDto>("/assignment-rules", &body).await {
                    Ok(_) => reload.emit(()),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let type_opts: Vec<(String, String)> = p
        .types
        .iter()
        .map(|t| {
            (
                t.id.to_string(),
                i18n.pick(&t.name, &t.name_i18n).to_string(),
            )
        })
        .collect();
    let team_opts: Vec<(String, String)> = p
        .teams
        .iter()
        .map(|t| (t.id.to_string(), t.name.clone()))
        .collect();
    let strat_opts: Vec<(String, String)> = STRATEGIES
        .iter()
        .map(|s| (s.to_string(), strategy_text(&i18n, s)))
        .collect();
    let f = &form.0;
    html! {
        <section class="card" id="rules">
            <h2>{ i18n.t("rules-title") }</h2>
            <p class="hint">{ i18n.t("rules-intro") }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="two-col">
                <div>{ list }</div>
                <form id="rule-form" {onsubmit} novalidate=true>
                    <h3>{ i18n.t("rules-new") }</h3>
                    <SelectField id="rule-type" label={i18n.t("rules-type")} value={f.type_id.clone()} options={type_opts}
                        onchange={bind(&form, |t, v| t.type_id = v)} error={errors.get("type_id").cloned()} />
                    <SelectField id="rule-category" label={i18n.t("rules-category")} value={f.category_id.clone()}
                        options={category_options(&i18n, &p.cats, i18n.t("rules-any-category"))}
                        onchange={bind(&form, |t, v| t.category_id = v)} error={errors.get("category_id").cloned()} />
                    <SelectField id="rule-team" label={i18n.t("rules-team")} value={f.team_id.clone()} options={team_opts}
                        onchange={bind(&form, |t, v| t.team_id = v)} error={errors.get("team_id").cloned()} />
                    <SelectField id="rule-strategy" label={i18n.t("rules-strategy")} value={f.strategy.clone()} options={strat_opts}
                        onchange={bind(&form, |t, v| t.strategy = v)} error={errors.get("strategy").cloned()} />
                    <TextField id="rule-position" kind="number" label={i18n.t("rules-order")} value={f.position.clone()}
                        oninput={bind(&form, |t, v| t.position = v)} error={errors.get("position").cloned()}
                        hint={Some(i18n.t("rules-order-hint"))} />
                    <button type="submit" id="rule-save" class="primary">{ i18n.t("rules-add") }</button>
                </form>
            </div>
        </section>
    }
}

// ---------------------------------------------------------------- SLA policies

#[derive(Properties, PartialEq)]
struct SlaProps {
    cats: Vec<CategoryDto>,
    teams: Vec<TeamDto>,
}

#[derive(Clone, PartialEq, Default)]
struct SlaForm {
    category_id: String,
    priority: String,
    hours: String,
    minutes: String,
    business_hours: bool,
    warn_percent: String,
    escalate_team_id: String,
    notify_supervisors: bool,
}

#[function_component]
fn SlaSection(p: &SlaProps) -> Html {
    let i18n = use_i18n();
    let (slas, reload) = use_get::<Vec<SlaPolicyDto>>("/sla-policies".into());
    let failure = use_state(|| None::<ApiError>);
    let errors = use_state(FieldErrors::new);
    let form = use_reducer(|| {
        Form(SlaForm {
            hours: "8".into(),
            minutes: "0".into(),
            ..Default::default()
        })
    });
    let list = render_load(&slas, &reload, |ss| {
        if ss.is_empty() {
            return html! { <p class="empty">{ i18n.t("sla-none") }</p> };
        }
        html! {
            <table class="data" id="sla-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("rules-category") }</th>
                    <th scope="col">{ i18n.t("sla-priority") }</th>
                    <th scope="col">{ i18n.t("sla-resolve-within") }</th>
                    <th scope="col">{ i18n.t("sla-clock") }</th>
                    <th scope="col">{ i18n.t("sla-warn") }</th>
                    <th scope="col">{ i18n.t("sla-on-breach") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for ss.iter().map(|s| {
                    let cat = s.category_id.map_or_else(|| i18n.t("rules-any-category"), |c| category_path(&i18n, &p.cats, c));
                    let prio = s.priority.as_deref().map_or_else(|| i18n.t("sla-any-priority"), |x| priority_text(&i18n, x));
                    let mut breach = vec![];
                    if let Some(t) = s.escalate_team_id {
                        breach.push(i18n.ta("sla-escalate-to", &[("team", team_name(&p.teams, t, &i18n).into())]));
                    }
                    if s.notify_supervisors {
                        breach.push(i18n.t("sla-notify-team-supervisors"));
                    }
                    let label = format!("{cat}, {prio}");
                    html! {
                        <tr>
                            <td>{ cat }</td>
                            <td>{ prio }</td>
                            <td>{ duration_text(&i18n, s.resolve_minutes) }</td>
                            <td>{ if s.business_hours { i18n.t("sla-business-hours") } else { i18n.t("sla-round-the-clock") } }</td>
                            <td>{ s.warn_percent.map_or_else(|| i18n.t("sla-no-warning"), |w| i18n.ta("sla-warn-at", &[("percent", (w as i64).into())])) }</td>
                            <td>{ if breach.is_empty() { i18n.t("sla-breach-mark-only") } else { breach.join("; ") } }</td>
                            <td class="actions"><DeleteButton path={format!("/sla-policies/{}", s.id)} name={label}
                                on_done={reload.clone()} on_error={let f = failure.clone(); Callback::from(move |e| f.set(Some(e)))} /></td>
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });
    let onsubmit = {
        let (form, errors, failure, reload, i18n) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            reload.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            let h = f.hours.trim().parse::<i32>().ok().filter(|h| *h >= 0);
            let m = f
                .minutes
                .trim()
                .parse::<i32>()
                .ok()
                .filter(|m| (0..60).contains(m));
            let total = match (h, m) {
                (Some(h), Some(m)) if h * 60 + m > 0 => Some(h * 60 + m),
                _ => {
                    c.fail("resolve_minutes", i18n.t("sla-time-needed"));
                    None
                }
            };
            let warn = if f.warn_percent.trim().is_empty() {
                None
            } else {
                match f.warn_percent.trim().parse::<i32>() {
                    Ok(w) => Some(w),
                    Err(_) => {
                        c.fail("warn_percent", i18n.t("rules-whole-number"));
                        None
                    }
                }
            };
            errors.set(c.errors.clone());
            failure.set(None);
            let (true, Some(resolve_minutes)) = (c.ok(), total) else {
                return;
            };
            let body = SlaPolicyInput {
                category_id: opt_uuid(&f.category_id),
                priority: (!f.priority.is_empty()).then(|| f.priority.clone()),
                resolve_minutes,
                business_hours: f.business_hours,
                warn_percent: warn,
                escalate_team_id: opt_uuid(&f.escalate_team_id),
                notify_supervisors: f.notify_supervisors,
            };
            let (errors, failure, reload) = (errors.clone(), failure.clone(), reload.clone());
            spawn(async move {
                match api::post::<_, SlaPolicyDto>("/sla-policies", &body).await {
                    Ok(_) => reload.emit(()),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let mut prio_opts = vec![(String::new(), i18n.t("sla-any-priority"))];
    prio_opts.extend(
        PRIORITIES
            .iter()
            .map(|x| (x.to_string(), priority_text(&i18n, x))),
    );
    let mut team_opts = vec![(String::new(), i18n.t("sla-no-escalation"))];
    team_opts.extend(p.teams.iter().map(|t| (t.id.to_string(), t.name.clone())));
    let f = &form.0;
    let d = form.dispatcher();
    let d2 = form.dispatcher();
    html! {
        <section class="card" id="slas">
            <h2>{ i18n.t("sla-title") }</h2>
            <p class="hint">{ i18n.t("sla-intro") }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="two-col">
                <div>{ list }</div>
                <form id="sla-form" {onsubmit} novalidate=true>
                    <h3>{ i18n.t("sla-new") }</h3>
                    <SelectField id="sla-category" label={i18n.t("rules-category")} value={f.category_id.clone()}
                        options={category_options(&i18n, &p.cats, i18n.t("rules-any-category"))}
                        onchange={bind(&form, |t, v| t.category_id = v)} error={errors.get("category_id").cloned()} />
                    <SelectField id="sla-priority" label={i18n.t("sla-priority")} value={f.priority.clone()} options={prio_opts}
                        onchange={bind(&form, |t, v| t.priority = v)} error={errors.get("priority").cloned()} />
                    <fieldset>
                        <legend>{ i18n.t("sla-resolve-within") }</legend>
                        <div class="row">
                            <TextField id="sla-hours" kind="number" label={i18n.t("sla-hours-label")} value={f.hours.clone()}
                                oninput={bind(&form, |t, v| t.hours = v)} />
                            <TextField id="sla-minutes" kind="number" label={i18n.t("sla-minutes-label")} value={f.minutes.clone()}
                                oninput={bind(&form, |t, v| t.minutes = v)} />
                        </div>
                        if let Some(e) = errors.get("resolve_minutes") { <p class="field-error" id="sla-time-error">{ e }</p> }
                    </fieldset>
                    <Checkbox id="sla-business-hours" label={i18n.t("sla-count-business-hours")} checked={f.business_hours}
                        onchange={Callback::from(move |v: bool| d.dispatch(Box::new(move |t: &mut SlaForm| t.business_hours = v)))} />
                    <TextField id="sla-warn" kind="number" label={i18n.t("sla-warn-label")} value={f.warn_percent.clone()}
                        oninput={bind(&form, |t, v| t.warn_percent = v)} error={errors.get("warn_percent").cloned()}
                        hint={Some(i18n.t("sla-warn-hint"))} />
                    <SelectField id="sla-escalate" label={i18n.t("sla-escalate-label")} value={f.escalate_team_id.clone()} options={team_opts}
                        onchange={bind(&form, |t, v| t.escalate_team_id = v)} error={errors.get("escalate_team_id").cloned()} />
                    <Checkbox id="sla-notify" label={i18n.t("sla-notify-label")} checked={f.notify_supervisors}
                        onchange={Callback::from(move |v: bool| d2.dispatch(Box::new(move |t: &mut SlaForm| t.notify_supervisors = v)))} />
                    <button type="submit" id="sla-save" class="primary">{ i18n.t("sla-add") }</button>
                </form>
            </div>
        </section>
    }
}

// ---------------------------------------------------------------- business calendar

#[derive(Properties, PartialEq)]
struct CalendarProps {
    current: BusinessCalendar,
}

fn weekday_name(i18n: &I18n, d: u8) -> String {
    i18n.t(&format!("cal-weekday-{d}"))
}

#[function_component]
fn CalendarSection(p: &CalendarProps) -> Html {
    let i18n = use_i18n();
    let cal = {
        let c = p.current.clone();
        use_reducer(move || Form(c))
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let d = cal.dispatcher();
    let c = &cal.0;

    let edit = |f: fn(&mut BusinessCalendar, usize, String), i: usize| {
        let d = d.clone();
        Callback::from(move |v: String| {
            d.dispatch(Box::new(move |c: &mut BusinessCalendar| f(c, i, v)))
        })
    };
    let time_input = |id: String, label: String, value: &str, cb: Callback<String>| {
        let oninput = Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            cb.emit(el.value());
        });
        html! { <input type="time" {id} aria-label={label} value={value.to_string()} {oninput} /> }
    };

    let days = (1u8..=7).map(|wd| {
        let idx: Vec<usize> = c
            .hours
            .iter()
            .enumerate()
            .filter(|(_, h)| h.weekday == wd)
            .map(|(i, _)| i)
            .collect();
        let day = weekday_name(&i18n, wd);
        let add = {
            let d = d.clone();
            Callback::from(move |_: MouseEvent| {
                d.dispatch(Box::new(move |c: &mut BusinessCalendar| {
                    // After the day's last interval (keeps each day's intervals in order).
                    let last = c.hours.iter().rposition(|h| h.weekday == wd);
                    let start = last
                        .map(|i| c.hours[i].end.clone())
                        .filter(|e| e.as_str() < "23:00")
                        .unwrap_or_else(|| "09:00".into());
                    let h = WorkingHours { weekday: wd, start: start.clone(), end: if start.as_str() < "18:00" { "18:00".into() } else { "23:59".into() } };
                    match last {
                        Some(i) => c.hours.insert(i + 1, h),
                        None => c.hours.push(h),
                    }
                }))
            })
        };
        html! {
            <tr data-weekday={wd.to_string()}>
                <th scope="row">{ day.clone() }</th>
                <td>
                    if idx.is_empty() { <span class="muted">{ i18n.t("cal-closed") }</span> }
                    { for idx.iter().map(|&i| {
                        let h = &c.hours[i];
                        let remove = {
                            let d = d.clone();
                            Callback::from(move |_: MouseEvent| d.dispatch(Box::new(move |c: &mut BusinessCalendar| { c.hours.remove(i); })))
                        };
                        let err = ["", ".start", ".end"].iter().find_map(|s| errors.get(&format!("hours[{i}]{s}")).cloned());
                        html! {
                            <span class="interval">
                                { time_input(format!("cal-start-{i}"), i18n.ta("cal-from-of", &[("day", day.clone().into())]), &h.start, edit(|c, i, v| c.hours[i].start = v, i)) }
                                { "–" }
                                { time_input(format!("cal-end-{i}"), i18n.ta("cal-until-of", &[("day", day.clone().into())]), &h.end, edit(|c, i, v| c.hours[i].end = v, i)) }
                                <button type="button" class="link danger" onclick={remove}
                                    aria-label={i18n.ta("cal-remove-interval-of", &[("day", day.clone().into())])}>{ "✕" }</button>
                                if let Some(e) = err { <span class="field-error">{ e }</span> }
                            </span>
                        }
                    }) }
                </td>
                // The visible words start the accessible name (WCAG 2.5.3 "label in name").
                <td><button type="button" class="link cal-add" onclick={add}>
                    { i18n.t("cal-add-interval") }<span class="sr-only">{ format!(" ({day})") }</span></button></td>
            </tr>
        }
    });

    let holidays = c.holidays.iter().enumerate().map(|(i, h)| {
        let remove = {
            let d = d.clone();
            Callback::from(move |_: MouseEvent| d.dispatch(Box::new(move |c: &mut BusinessCalendar| { c.holidays.remove(i); })))
        };
        let toggle = {
            let d = d.clone();
            Callback::from(move |_: MouseEvent| d.dispatch(Box::new(move |c: &mut BusinessCalendar| c.holidays[i].recurring = !c.holidays[i].recurring)))
        };
        let date_cb = edit(|c, i, v| c.holidays[i].date = v, i);
        let name_cb = edit(|c, i, v| c.holidays[i].name = v, i);
        let ondate = Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            date_cb.emit(el.value());
        });
        let onname = Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            name_cb.emit(el.value());
        });
        let err = ["", ".date", ".name"].iter().find_map(|s| errors.get(&format!("holidays[{i}]{s}")).cloned());
        let n = (i + 1) as i64;
        html! {
            <tr class="holiday">
                <td><input type="date" id={format!("hol-date-{i}")} value={h.date.clone()} oninput={ondate}
                    aria-label={i18n.ta("cal-holiday-date-of", &[("n", n.into())])} /></td>
                <td><input id={format!("hol-name-{i}")} value={h.name.clone()} oninput={onname}
                    aria-label={i18n.ta("cal-holiday-name-of", &[("n", n.into())])} />
                    if let Some(e) = err { <p class="field-error">{ e }</p> }</td>
                <td><input type="checkbox" id={format!("hol-yearly-{i}")} checked={h.recurring} onclick={toggle}
                    aria-label={i18n.ta("cal-holiday-yearly-of", &[("n", n.into())])} /></td>
                <td><button type="button" class="link danger" onclick={remove}
                    aria-label={i18n.ta("cal-holiday-remove-of", &[("n", n.into())])}>{ i18n.t("wf-remove") }</button></td>
            </tr>
        }
    });
    let add_holiday = {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| {
            d.dispatch(Box::new(|c: &mut BusinessCalendar| {
                c.holidays.push(Holiday {
                    date: String::new(),
                    name: String::new(),
                    recurring: false,
                })
            }))
        })
    };
    let onsave = {
        let (cal, errors, failure, saved) =
            (cal.clone(), errors.clone(), failure.clone(), saved.clone());
        Callback::from(move |_: MouseEvent| {
            let body = cal.0.clone();
            let (errors, failure, saved) = (errors.clone(), failure.clone(), saved.clone());
            saved.set(false);
            failure.set(None);
            spawn(async move {
                match api::put::<_, BusinessCalendar>("/business-calendar", &body).await {
                    Ok(_) => {
                        errors.set(FieldErrors::new());
                        saved.set(true);
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let on_tz = {
        let d = d.clone();
        Callback::from(move |v: String| {
            d.dispatch(Box::new(move |c: &mut BusinessCalendar| c.time_zone = v))
        })
    };
    html! {
        <section class="card" id="calendar">
            <h2>{ i18n.t("cal-title") }</h2>
            <p class="hint">{ i18n.t("cal-intro") }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            if *saved { <Notice text={i18n.t("cal-saved")} /> }
            if let Some(e) = errors.get("hours") { <p class="field-error" role="alert">{ e }</p> }
            <TextField id="cal-tz" label={i18n.t("cal-time-zone")} value={c.time_zone.clone()} oninput={on_tz}
                error={errors.get("time_zone").cloned()} hint={Some(i18n.t("cal-time-zone-hint"))} />
            <table class="data" id="cal-hours">
                <caption>{ i18n.t("cal-hours") }</caption>
                <tbody>{ for days }</tbody>
            </table>
            <h3>{ i18n.t("cal-holidays") }</h3>
            if c.holidays.is_empty() {
                <p class="empty">{ i18n.t("cal-no-holidays") }</p>
            } else {
                <table class="data" id="cal-holidays">
                    <thead><tr>
                        <th scope="col">{ i18n.t("cal-holiday-date") }</th>
                        <th scope="col">{ i18n.t("cal-holiday-name") }</th>
                        <th scope="col">{ i18n.t("cal-holiday-yearly") }</th>
                        <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                    </tr></thead>
                    <tbody>{ for holidays }</tbody>
                </table>
            }
            <div class="button-row">
                <button type="button" id="cal-add-holiday" class="secondary" onclick={add_holiday}>{ i18n.t("cal-add-holiday") }</button>
                <button type="button" id="cal-save" class="primary" onclick={onsave}>{ i18n.t("cal-save") }</button>
            </div>
        </section>
    }
}
