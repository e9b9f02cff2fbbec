//! The center's structure: teams (a tree), skills, queues, custom roles, reason codes.

use std::rc::Rc;

use hotline_wire::api::{
    MaxWaitAction, Page, PermissionDto, QueueDto, QueueInput, QueueStrategy, ReasonCodeDto,
    ReasonCodeInput, RoleDto, RoleInput, SkillDto, SkillInput, SkillLevel, TeamDto, TeamInput,
    UserDto, ANNOUNCE_MAX_SECS, ANNOUNCE_MIN_SECS,
};
use hotline_wire::permissions as perm;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;
use yew::prelude::*;

use super::users::{other_errors, team_options};
use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::use_app;

/// Saves an editor's input: POST to `base` when creating, PUT to `base/{id}` when editing.
pub(crate) async fn save<B: Serialize, T: DeserializeOwned>(
    base: &str,
    id: Option<Uuid>,
    body: &B,
) -> Result<T, ApiError> {
    match id {
        None => api::post(base, body).await,
        Some(id) => api::put(&format!("{base}/{id}"), body).await,
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct DeleteProps {
    pub path: String,
    pub name: String,
    pub on_done: Callback<()>,
    pub on_error: Callback<ApiError>,
}

/// A delete button that asks once more before acting.
#[function_component]
pub(crate) fn DeleteButton(p: &DeleteProps) -> Html {
    let i18n = use_i18n();
    let confirming = use_state(|| false);
    if !*confirming {
        let c = confirming.clone();
        return html! {
            <button type="button" class="link danger" onclick={move |_| c.set(true)}
                aria-label={i18n.ta("action-delete-named", &[("name", p.name.clone().into())])}>{ i18n.t("action-delete") }</button>
        };
    }
    let go = {
        let (path, done, err, c) = (
            p.path.clone(),
            p.on_done.clone(),
            p.on_error.clone(),
            confirming.clone(),
        );
        move |_| {
            let (path, done, err, c) = (path.clone(), done.clone(), err.clone(), c.clone());
            spawn(async move {
                c.set(false);
                match api::delete(&path).await {
                    Ok(()) => done.emit(()),
                    Err(e) => err.emit(e),
                }
            });
        }
    };
    let c = confirming.clone();
    html! {
        <span class="confirm">
            <button type="button" class="danger small" onclick={go}>{ i18n.ta("action-confirm-delete", &[("name", p.name.clone().into())]) }</button>
            <button type="button" class="link" onclick={move |_| c.set(false)}>{ i18n.t("action-cancel") }</button>
        </span>
    }
}

/// The edit-or-create panel state shared by these pages.
#[hook]
pub(crate) fn use_selection() -> (Option<Uuid>, Callback<Option<Uuid>>) {
    let sel = use_state(|| None::<Uuid>);
    let set = {
        let sel = sel.clone();
        Callback::from(move |v| sel.set(v))
    };
    (*sel, set)
}

pub(crate) fn edit_button(
    i18n: &I18n,
    name: &str,
    id: Uuid,
    select: &Callback<Option<Uuid>>,
) -> Html {
    let select = select.clone();
    html! {
        <button type="button" class="link" onclick={move |_| select.emit(Some(id))}
            aria-label={i18n.ta("action-edit-named", &[("name", name.to_string().into())])}>{ i18n.t("action-edit") }</button>
    }
}

/// The card title and cancel link of an editor.
pub(crate) fn editor_head(
    i18n: &I18n,
    editing: bool,
    new_key: &str,
    edit_key: &str,
    select: &Callback<Option<Uuid>>,
) -> Html {
    let select = select.clone();
    html! {
        <div class="card-head">
            <h2>{ if editing { i18n.t(edit_key) } else { i18n.t(new_key) } }</h2>
            if editing { <button type="button" class="link" onclick={move |_| select.emit(None)}>{ i18n.t("action-cancel") }</button> }
        </div>
    }
}

// ---------------------------------------------------------------- teams

#[function_component]
pub fn TeamsPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let (teams, reload) = use_get::<Vec<TeamDto>>("/teams".into());
    let (selected, select) = use_selection();
    let failure = use_state(|| None::<ApiError>);
    let can_write = app.session.can(perm::TEAMS_WRITE);

    let content = render_load(&teams, &reload, |ts| {
        fn tree(
            i18n: &I18n,
            ts: &[TeamDto],
            parent: Option<Uuid>,
            ctl: &(
                Callback<Option<Uuid>>,
                Callback<()>,
                Callback<ApiError>,
                bool,
            ),
            seen: &mut Vec<Uuid>,
        ) -> Html {
            let mut kids: Vec<&TeamDto> = ts
                .iter()
                .filter(|t| t.parent_id == parent && !seen.contains(&t.id))
                .collect();
            if kids.is_empty() {
                return html! {};
            }
            kids.sort_by_key(|t| t.name.to_lowercase());
            seen.extend(kids.iter().map(|t| t.id));
            let items: Vec<Html> = kids
                .iter()
                .map(|t| {
                    let sub = tree(i18n, ts, Some(t.id), ctl, seen);
                    html! {
                        <li>
                            <div class="tree-node">
                                <span class="tree-name">{ &t.name }</span>
                                if ctl.3 {
                                    { edit_button(i18n, &t.name, t.id, &ctl.0) }
                                    <DeleteButton path={format!("/teams/{}", t.id)} name={t.name.clone()}
                                        on_done={ctl.1.clone()} on_error={ctl.2.clone()} />
                                }
                            </div>
                            { sub }
                        </li>
                    }
                })
                .collect();
            html! { <ul class="tree">{ for items }</ul> }
        }
        if ts.is_empty() {
            return html! { <p class="empty">{ i18n.t("teams-empty") }</p> };
        }
        let on_error = {
            let failure = failure.clone();
            Callback::from(move |e| failure.set(Some(e)))
        };
        let ctl = (select.clone(), reload.clone(), on_error, can_write);
        let mut seen = vec![];
        let mut out = tree(&i18n, ts, None, &ctl, &mut seen);
        // Teams whose parent is missing still show, at the top level.
        let orphans: Vec<TeamDto> = ts
            .iter()
            .filter(|t| !seen.contains(&t.id))
            .cloned()
            .collect();
        if !orphans.is_empty() {
            let o: Vec<TeamDto> = orphans
                .into_iter()
                .map(|mut t| {
                    t.parent_id = None;
                    t
                })
                .collect();
            out = html! { <>{ out }{ tree(&i18n, &o, None, &ctl, &mut seen) }</> };
        }
        html! { <div id="teams-tree" class="card">{ out }</div> }
    });

    let editor = match (&teams, can_write) {
        (Load::Ready(ts), true) => {
            let current = selected.and_then(|id| ts.iter().find(|t| t.id == id).cloned());
            let on_saved = {
                let (reload, select) = (reload.clone(), select.clone());
                Callback::from(move |_| {
                    reload.emit(());
                    select.emit(None);
                })
            };
            html! { <TeamEditor key={selected.map(|s| s.to_string()).unwrap_or_default()} teams={ts.clone()} {current} select={select.clone()} {on_saved} /> }
        }
        _ => html! {},
    };

    html! {
        <>
            <h1>{ i18n.t("teams-title") }</h1>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="two-col">{ content }{ editor }</div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct TeamEditorProps {
    teams: Rc<Vec<TeamDto>>,
    current: Option<TeamDto>,
    select: Callback<Option<Uuid>>,
    on_saved: Callback<()>,
}

#[derive(Clone, PartialEq, Default)]
struct TeamForm {
    name: String,
    parent: String,
}

#[function_component]
fn TeamEditor(p: &TeamEditorProps) -> Html {
    let i18n = use_i18n();
    let form = {
        let c = p.current.clone();
        use_reducer(move || {
            Form(TeamForm {
                name: c.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
                parent: c
                    .and_then(|t| t.parent_id)
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            })
        })
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let id = p.current.as_ref().map(|t| t.id);

    let onsubmit = {
        let (form, errors, failure, i18n, on_saved) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            i18n.clone(),
            p.on_saved.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "name", &f.name);
            errors.set(c.errors.clone());
            failure.set(None);
            if !c.ok() {
                return;
            }
            let (errors, failure, on_saved) = (errors.clone(), failure.clone(), on_saved.clone());
            spawn(async move {
                let body = TeamInput {
                    name: f.name.trim().into(),
                    parent_id: f.parent.parse().ok(),
                };
                match save::<_, TeamDto>("/teams", id, &body).await {
                    Ok(_) => on_saved.emit(()),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };

    // A team cannot move under itself or its own descendants.
    let mut banned = vec![];
    if let Some(id) = id {
        banned.push(id);
        let mut i = 0;
        while i < banned.len() {
            let b = banned[i];
            banned.extend(
                p.teams
                    .iter()
                    .filter(|t| t.parent_id == Some(b))
                    .map(|t| t.id),
            );
            i += 1;
            if banned.len() > p.teams.len() + 1 {
                break;
            }
        }
    }
    let mut parents = vec![(String::new(), i18n.t("teams-no-parent"))];
    parents.extend(
        team_options(&p.teams)
            .into_iter()
            .filter(|(tid, _)| !banned.contains(tid))
            .map(|(tid, n)| (tid.to_string(), n)),
    );

    html! {
        <form id="team-form" class="card" {onsubmit} novalidate=true>
            { editor_head(&i18n, id.is_some(), "teams-new", "teams-edit", &p.select) }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { other_errors(&errors, &["name", "parent_id"]) }
            <TextField id="team-name" label={i18n.t("teams-name")} value={form.0.name.clone()}
                oninput={bind(&form, |f, v| f.name = v)} error={errors.get("name").cloned()} required=true />
            <SelectField id="team-parent" label={i18n.t("teams-parent")} value={form.0.parent.clone()} options={parents}
                onchange={bind(&form, |f, v| f.parent = v)} error={errors.get("parent_id").cloned()} />
            <button type="submit" class="primary">{ i18n.t("action-save") }</button>
        </form>
    }
}

// ---------------------------------------------------------------- skills

#[function_component]
pub fn SkillsPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let (skills, reload) = use_get::<Vec<SkillDto>>("/skills".into());
    let (selected, select) = use_selection();
    let failure = use_state(|| None::<ApiError>);
    let can_write = app.session.can(perm::SKILLS_WRITE);
    let on_error = {
        let failure = failure.clone();
        Callback::from(move |e| failure.set(Some(e)))
    };

    let list = render_load(&skills, &reload, |ss| {
        if ss.is_empty() {
            return html! { <p class="empty card">{ i18n.t("skills-empty") }</p> };
        }
        html! {
            <table class="data" id="skills-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("skills-name") }</th>
                    <th scope="col">{ i18n.t("skills-description") }</th>
                    if can_write { <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th> }
                </tr></thead>
                <tbody>{ for ss.iter().map(|s| html! {
                    <tr>
                        <td>{ &s.name }</td>
                        <td>{ &s.description }</td>
                        if can_write {
                            <td class="actions">
                                { edit_button(&i18n, &s.name, s.id, &select) }
                                <DeleteButton path={format!("/skills/{}", s.id)} name={s.name.clone()}
                                    on_done={reload.clone()} on_error={on_error.clone()} />
                            </td>
                        }
                    </tr>
                }) }</tbody>
            </table>
        }
    });
    let editor = match (&skills, can_write) {
        (Load::Ready(ss), true) => {
            let current = selected.and_then(|id| ss.iter().find(|s| s.id == id).cloned());
            let on_saved = {
                let (reload, select) = (reload.clone(), select.clone());
                Callback::from(move |_| {
                    reload.emit(());
                    select.emit(None);
                })
            };
            html! { <SkillEditor key={selected.map(|s| s.to_string()).unwrap_or_default()} {current} select={select.clone()} {on_saved} /> }
        }
        _ => html! {},
    };
    html! {
        <>
            <h1>{ i18n.t("skills-title") }</h1>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="two-col">{ list }{ editor }</div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct SkillEditorProps {
    current: Option<SkillDto>,
    select: Callback<Option<Uuid>>,
    on_saved: Callback<()>,
}

#[function_component]
fn SkillEditor(p: &SkillEditorProps) -> Html {
    let i18n = use_i18n();
    let form = {
        let c = p.current.clone();
        use_reducer(move || Form(c.map(|s| (s.name, s.description)).unwrap_or_default()))
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let id = p.current.as_ref().map(|s| s.id);
    let onsubmit = {
        let (form, errors, failure, i18n, on_saved) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            i18n.clone(),
            p.on_saved.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (name, description) = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "name", &name);
            errors.set(c.errors.clone());
            failure.set(None);
            if !c.ok() {
                return;
            }
            let (errors, failure, on_saved) = (errors.clone(), failure.clone(), on_saved.clone());
            spawn(async move {
                let body = SkillInput {
                    name: name.trim().into(),
                    description: description.trim().into(),
                };
                match save::<_, SkillDto>("/skills", id, &body).await {
                    Ok(_) => on_saved.emit(()),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    html! {
        <form id="skill-form" class="card" {onsubmit} novalidate=true>
            { editor_head(&i18n, id.is_some(), "skills-new", "skills-edit", &p.select) }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { other_errors(&errors, &["name", "description"]) }
            <TextField id="skill-name" label={i18n.t("skills-name")} value={form.0 .0.clone()}
                oninput={bind(&form, |f, v| f.0 = v)} error={errors.get("name").cloned()} required=true />
            <TextField id="skill-description" label={i18n.t("skills-description")} value={form.0 .1.clone()}
                oninput={bind(&form, |f, v| f.1 = v)} error={errors.get("description").cloned()} />
            <button type="submit" class="primary">{ i18n.t("action-save") }</button>
        </form>
    }
}

// ---------------------------------------------------------------- queues

fn strategy_key(s: QueueStrategy) -> String {
    format!("strategy-{}", s.as_str().replace('_', "-"))
}

#[function_component]
pub fn QueuesPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let (queues, reload) = use_get::<Vec<QueueDto>>("/queues".into());
    let (skills, reload_skills) = use_get::<Vec<SkillDto>>("/skills".into());
    let (users, _) = use_get::<Page<UserDto>>("/users?per_page=200".into());
    let (selected, select) = use_selection();
    let failure = use_state(|| None::<ApiError>);
    let can_write = app.session.can(perm::QUEUES_WRITE);
    let on_error = {
        let failure = failure.clone();
        Callback::from(move |e| failure.set(Some(e)))
    };
    let (Load::Ready(_), Load::Ready(ss)) = (&queues, &skills) else {
        if let Load::Failed(e) = &skills {
            return html! { <ErrorBox error={e.clone()} retry={reload_skills} /> };
        }
        return render_load(&queues, &reload, |_| html! { <Loading /> });
    };
    let skill_name = |id: Uuid| {
        ss.iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| "?".into())
    };
    let list = render_load(&queues, &reload, |qs| {
        if qs.is_empty() {
            return html! { <p class="empty card">{ i18n.t("queues-empty") }</p> };
        }
        html! {
            <table class="data" id="queues-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("queues-name") }</th>
                    <th scope="col">{ i18n.t("queues-strategy") }</th>
                    <th scope="col">{ i18n.t("queues-required-skills") }</th>
                    <th scope="col" class="num">{ i18n.t("queues-max-wait") }</th>
                    <th scope="col" class="num">{ i18n.t("queues-wrap-up") }</th>
                    <th scope="col" class="num">{ i18n.t("queues-priority") }</th>
                    <th scope="col">{ i18n.t("queues-overflow") }</th>
                    if can_write { <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th> }
                </tr></thead>
                <tbody>{ for qs.iter().map(|q| html! {
                    <tr>
                        <td>{ &q.name }</td>
                        <td>{ i18n.t(&strategy_key(q.strategy)) }</td>
                        <td>{ q.required_skills.iter().map(|s| format!("{} ≥ {}", skill_name(s.skill_id), s.level)).collect::<Vec<_>>().join(", ") }</td>
                        <td class="num">{ i18n.number(q.max_wait_seconds as i64) }</td>
                        <td class="num">{ i18n.number(q.wrap_up_seconds as i64) }</td>
                        <td class="num">{ i18n.number(q.priority as i64) }</td>
                        <td>{ exit_label(&i18n, q, qs) }</td>
                        if can_write {
                            <td class="actions">
                                { edit_button(&i18n, &q.name, q.id, &select) }
                                <DeleteButton path={format!("/queues/{}", q.id)} name={q.name.clone()}
                                    on_done={reload.clone()} on_error={on_error.clone()} />
                            </td>
                        }
                    </tr>
                }) }</tbody>
            </table>
        }
    });
    let editor = match (&queues, can_write) {
        (Load::Ready(qs), true) => {
            let current = selected.and_then(|id| qs.iter().find(|q| q.id == id).cloned());
            let on_saved = {
                let (reload, select) = (reload.clone(), select.clone());
                Callback::from(move |_| {
                    reload.emit(());
                    select.emit(None);
                })
            };
            let users = match &users {
                Load::Ready(u) => Rc::new(u.items.clone()),
                _ => Rc::new(vec![]),
            };
            html! { <QueueEditor key={selected.map(|s| s.to_string()).unwrap_or_default()} queues={qs.clone()} skills={ss.clone()} {users} {current} select={select.clone()} {on_saved} /> }
        }
        _ => html! {},
    };
    html! {
        <>
            <h1>{ i18n.t("queues-title") }</h1>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="stack">{ list }{ editor }</div>
        </>
    }
}

/// What the queue does when the wait is too long, as the list and the form's select say it.
fn exit_label(i18n: &I18n, q: &QueueDto, all: &[QueueDto]) -> String {
    match q.max_wait_action {
        MaxWaitAction::Overflow => {
            let to = q
                .overflow_queue_id
                .and_then(|o| all.iter().find(|x| x.id == o))
                .map(|x| x.name.clone())
                .unwrap_or_else(|| "?".into());
            i18n.ta("queues-exit-queue", &[("queue", to.into())])
        }
        a => i18n.t(&format!("queues-exit-{}", a.as_str())),
    }
}

/// The form's value for the max-wait select: the action, or `queue:<id>` for an overflow.
fn exit_value(q: &QueueDto) -> String {
    match (q.max_wait_action, q.overflow_queue_id) {
        (MaxWaitAction::Overflow, Some(o)) => format!("queue:{o}"),
        (a, _) => a.as_str().to_string(),
    }
}

/// The announcements' interval as the server takes it: 0 (off) or
/// [`ANNOUNCE_MIN_SECS`]–[`ANNOUNCE_MAX_SECS`], and one when an announcement is on.
fn announce_interval(i18n: &I18n, c: &mut Checks, f: &QueueForm) -> i32 {
    const MIN: i64 = ANNOUNCE_MIN_SECS as i64;
    const MAX: i64 = ANNOUNCE_MAX_SECS as i64;
    let bounds = [("min", MIN.into()), ("max", MAX.into())];
    let every = match f.announce_every.trim() {
        "" => 0,
        text => text.parse::<i64>().unwrap_or(-1),
    };
    if every == 0 {
        if f.announce_position || f.announce_wait {
            c.fail(
                "announce_interval_seconds",
                i18n.ta("queues-announce-every-needed", &bounds),
            );
        }
        0
    } else if (MIN..=MAX).contains(&every) {
        every as i32
    } else {
        c.fail(
            "announce_interval_seconds",
            i18n.ta("queues-announce-every-range", &bounds),
        );
        0
    }
}

#[derive(Properties, PartialEq)]
struct QueueEditorProps {
    queues: Rc<Vec<QueueDto>>,
    skills: Rc<Vec<SkillDto>>,
    users: Rc<Vec<UserDto>>,
    current: Option<QueueDto>,
    select: Callback<Option<Uuid>>,
    on_saved: Callback<()>,
}

#[derive(Clone, PartialEq)]
struct QueueForm {
    name: String,
    strategy: String,
    skills: Vec<(Uuid, String)>,
    max_wait: String,
    wrap_up: String,
    priority: String,
    overflow: String,
    prompt: String,
    voicemail_user: String,
    announce_position: bool,
    announce_wait: bool,
    announce_every: String,
}

#[function_component]
fn QueueEditor(p: &QueueEditorProps) -> Html {
    let i18n = use_i18n();
    let form = {
        let c = p.current.clone();
        use_reducer(move || {
            Form(match c {
                Some(q) => QueueForm {
                    overflow: exit_value(&q),
                    name: q.name,
                    strategy: q.strategy.as_str().into(),
                    skills: q
                        .required_skills
                        .iter()
                        .map(|s| (s.skill_id, s.level.to_string()))
                        .collect(),
                    max_wait: q.max_wait_seconds.to_string(),
                    wrap_up: q.wrap_up_seconds.to_string(),
                    priority: q.priority.to_string(),
                    prompt: q.max_wait_prompt.clone().unwrap_or_default(),
                    voicemail_user: q
                        .voicemail_user_id
                        .map(|u| u.to_string())
                        .unwrap_or_default(),
                    announce_position: q.announce_position,
                    announce_wait: q.announce_wait,
                    announce_every: q.announce_interval_seconds.to_string(),
                },
                None => QueueForm {
                    name: String::new(),
                    strategy: QueueStrategy::LongestIdle.as_str().into(),
                    skills: vec![],
                    max_wait: "300".into(),
                    wrap_up: "30".into(),
                    priority: "0".into(),
                    overflow: MaxWaitAction::Voicemail.as_str().into(),
                    prompt: String::new(),
                    voicemail_user: String::new(),
                    announce_position: false,
                    announce_wait: false,
                    announce_every: "0".into(),
                },
            })
        })
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let id = p.current.as_ref().map(|q| q.id);

    let onsubmit = {
        let (form, errors, failure, i18n, on_saved) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            i18n.clone(),
            p.on_saved.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "name", &f.name);
            let num = |c: &mut Checks, field: &str, v: &str, lo: i32, hi: i32| -> i32 {
                match v.trim().parse::<i32>() {
                    Ok(n) if (lo..=hi).contains(&n) => n,
                    _ => {
                        c.fail(
                            field,
                            i18n.ta(
                                "form-range",
                                &[("min", (lo as i64).into()), ("max", (hi as i64).into())],
                            ),
                        );
                        0
                    }
                }
            };
            let max_wait = num(&mut c, "max_wait_seconds", &f.max_wait, 0, 86_400);
            let wrap_up = num(&mut c, "wrap_up_seconds", &f.wrap_up, 0, 3_600);
            let priority = num(&mut c, "priority", &f.priority, 0, 100);
            let announce_every = announce_interval(&i18n, &mut c, &f);
            let mut required = vec![];
            for (sid, l) in &f.skills {
                match l.trim().parse::<i16>() {
                    Ok(l) if (1..=10).contains(&l) => required.push(SkillLevel {
                        skill_id: *sid,
                        level: l,
                    }),
                    _ => c.fail("required_skills", i18n.t("form-level-range")),
                }
            }
            errors.set(c.errors.clone());
            failure.set(None);
            if !c.ok() {
                return;
            }
            let (errors, failure, on_saved) = (errors.clone(), failure.clone(), on_saved.clone());
            spawn(async move {
                let body = QueueInput {
                    name: f.name.trim().into(),
                    strategy: QueueStrategy::parse(&f.strategy)
                        .unwrap_or(QueueStrategy::LongestIdle),
                    required_skills: required,
                    max_wait_seconds: max_wait,
                    wrap_up_seconds: wrap_up,
                    priority,
                    overflow_queue_id: f
                        .overflow
                        .strip_prefix("queue:")
                        .and_then(|o| o.parse().ok()),
                    max_wait_action: Some(if f.overflow.starts_with("queue:") {
                        MaxWaitAction::Overflow
                    } else {
                        MaxWaitAction::parse(&f.overflow).unwrap_or_default()
                    }),
                    max_wait_prompt: Some(f.prompt.trim().to_string()).filter(|p| !p.is_empty()),
                    voicemail_user_id: f.voicemail_user.parse().ok(),
                    announce_position: f.announce_position,
                    announce_wait: f.announce_wait,
                    announce_interval_seconds: announce_every,
                };
                match save::<_, QueueDto>("/queues", id, &body).await {
                    Ok(_) => on_saved.emit(()),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };

    let strategies: Vec<(String, String)> = QueueStrategy::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), i18n.t(&strategy_key(*s))))
        .collect();
    let mut overflow: Vec<(String, String)> = [
        MaxWaitAction::Voicemail,
        MaxWaitAction::Callback,
        MaxWaitAction::Hangup,
    ]
    .iter()
    .map(|a| {
        (
            a.as_str().to_string(),
            i18n.t(&format!("queues-exit-{}", a.as_str())),
        )
    })
    .collect();
    overflow.extend(p.queues.iter().filter(|q| Some(q.id) != id).map(|q| {
        (
            format!("queue:{}", q.id),
            i18n.ta("queues-exit-queue", &[("queue", q.name.clone().into())]),
        )
    }));
    let says_something = matches!(form.0.overflow.as_str(), "callback" | "hangup");
    let mut owners = vec![(String::new(), i18n.t("queues-voicemail-nobody"))];
    owners.extend(
        p.users
            .iter()
            .filter(|u| u.active)
            .map(|u| (u.id.to_string(), u.name.clone())),
    );
    let skill_rows = p.skills.iter().map(|s| {
        let sid = s.id;
        let chosen = form.0.skills.iter().find(|(k, _)| *k == sid).map(|(_, l)| l.clone());
        let d1 = form.dispatcher();
        let d2 = form.dispatcher();
        let cid = format!("q-skill-{sid}");
        let lid = format!("q-skill-level-{sid}");
        html! {
            <div class="skill-row">
                <input type="checkbox" id={cid.clone()} checked={chosen.is_some()} onchange={move |e: Event| {
                    let on = e.target_unchecked_into::<web_sys::HtmlInputElement>().checked();
                    d1.dispatch(Box::new(move |f: &mut QueueForm| {
                        f.skills.retain(|(k, _)| *k != sid);
                        if on { f.skills.push((sid, "1".into())); }
                    }))
                }} />
                <label for={cid} class="skill-name">{ &s.name }</label>
                <label for={lid.clone()} class="sr-only">{ i18n.ta("queues-min-level-of", &[("skill", s.name.clone().into())]) }</label>
                <input type="number" id={lid} class="level" min="1" max="10" value={chosen.clone().unwrap_or_default()}
                    disabled={chosen.is_none()} oninput={move |e: InputEvent| {
                        let v = e.target_unchecked_into::<web_sys::HtmlInputElement>().value();
                        d2.dispatch(Box::new(move |f: &mut QueueForm| {
                            if let Some(x) = f.skills.iter_mut().find(|(k, _)| *k == sid) { x.1 = v; }
                        }))
                    }} />
            </div>
        }
    });

    html! {
        <form id="queue-form" class="card" {onsubmit} novalidate=true>
            { editor_head(&i18n, id.is_some(), "queues-new", "queues-edit", &p.select) }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { other_errors(&errors, &["name", "strategy", "max_wait_seconds", "wrap_up_seconds", "priority", "overflow_queue_id", "required_skills", "max_wait_prompt", "voicemail_user_id", "announce_interval_seconds"]) }
            <div class="row">
                <TextField id="queue-name" label={i18n.t("queues-name")} value={form.0.name.clone()}
                    oninput={bind(&form, |f, v| f.name = v)} error={errors.get("name").cloned()} required=true />
                <SelectField id="queue-strategy" label={i18n.t("queues-strategy")} value={form.0.strategy.clone()}
                    options={strategies} onchange={bind(&form, |f, v| f.strategy = v)} error={errors.get("strategy").cloned()} />
                <SelectField id="queue-overflow" label={i18n.t("queues-overflow")} value={form.0.overflow.clone()}
                    options={overflow} onchange={bind(&form, |f, v| f.overflow = v)} error={errors.get("overflow_queue_id").cloned()} />
            </div>
            <div class="row">
                <TextField id="queue-max-wait" kind="number" label={i18n.t("queues-max-wait")} value={form.0.max_wait.clone()}
                    oninput={bind(&form, |f, v| f.max_wait = v)} error={errors.get("max_wait_seconds").cloned()} />
                <TextField id="queue-wrap-up" kind="number" label={i18n.t("queues-wrap-up")} value={form.0.wrap_up.clone()}
                    oninput={bind(&form, |f, v| f.wrap_up = v)} error={errors.get("wrap_up_seconds").cloned()} />
                <TextField id="queue-priority" kind="number" label={i18n.t("queues-priority")} value={form.0.priority.clone()}
                    oninput={bind(&form, |f, v| f.priority = v)} error={errors.get("priority").cloned()} />
            </div>
            <div class="row">
                if says_something {
                    <TextField id="queue-max-wait-prompt" label={i18n.t("queues-max-wait-prompt")} value={form.0.prompt.clone()}
                        hint={i18n.t("queues-max-wait-prompt-hint")}
                        oninput={bind(&form, |f, v| f.prompt = v)} error={errors.get("max_wait_prompt").cloned()} />
                }
                <SelectField id="queue-voicemail-user" label={i18n.t("queues-voicemail-user")} value={form.0.voicemail_user.clone()}
                    options={owners} onchange={bind(&form, |f, v| f.voicemail_user = v)} error={errors.get("voicemail_user_id").cloned()} />
            </div>
            <div class="row">
                <Checkbox id="queue-announce-position" label={i18n.t("queues-announce-position")} checked={form.0.announce_position}
                    onchange={{ let d = form.dispatcher(); Callback::from(move |on: bool| d.dispatch(Box::new(move |f: &mut QueueForm| f.announce_position = on))) }} />
                <Checkbox id="queue-announce-wait" label={i18n.t("queues-announce-wait")} checked={form.0.announce_wait}
                    onchange={{ let d = form.dispatcher(); Callback::from(move |on: bool| d.dispatch(Box::new(move |f: &mut QueueForm| f.announce_wait = on))) }} />
                <TextField id="queue-announce-every" kind="number" label={i18n.t("queues-announce-every")} value={form.0.announce_every.clone()}
                    hint={i18n.t("queues-announce-every-hint")}
                    oninput={bind(&form, |f, v| f.announce_every = v)} error={errors.get("announce_interval_seconds").cloned()} />
            </div>
            <fieldset class="skills">
                <legend>{ i18n.t("queues-required-skills") }</legend>
                if p.skills.is_empty() { <p class="muted">{ i18n.t("user-no-skills-defined") }</p> }
                { for skill_rows }
                if let Some(e) = errors.get("required_skills") { <p class="field-error">{ e }</p> }
            </fieldset>
            <button type="submit" class="primary">{ i18n.t("action-save") }</button>
        </form>
    }
}

// ---------------------------------------------------------------- roles

/// A permission's label in the active language (falls back to the server's English text).
pub fn permission_label(i18n: &I18n, key: &str, fallback: &str) -> String {
    i18n.try_t(&format!("perm-{}", key.replace(['.', '_'], "-")))
        .unwrap_or_else(|| fallback.to_string())
}

/// A role's permissions as words: the first three labels, then how many more (the full list
/// is in the editor and in the tooltip).
fn permission_summary(i18n: &I18n, keys: &[String], perms: &Load<Rc<Vec<PermissionDto>>>) -> Html {
    let label = |k: &String| {
        let fallback = match perms {
            Load::Ready(ps) => ps.iter().find(|p| &p.key == k).map(|p| p.description.clone()),
            _ => None,
        };
        permission_label(i18n, k, &fallback.unwrap_or_else(|| k.clone()))
    };
    let labels: Vec<String> = keys.iter().map(label).collect();
    let shown = labels.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    let more = labels.len().saturating_sub(3);
    html! {
        <span title={labels.join("\n")}>
            { shown }
            if more > 0 { { " " }<span class="muted">{ i18n.ta("roles-more-permissions", &[("count", more.into())]) }</span> }
        </span>
    }
}

#[function_component]
pub fn RolesPage() -> Html {
    let i18n = use_i18n();
    let (roles, reload) = use_get::<Vec<RoleDto>>("/roles".into());
    let (perms, reload_perms) = use_get::<Vec<PermissionDto>>("/permissions".into());
    let (selected, select) = use_selection();
    let failure = use_state(|| None::<ApiError>);
    let on_error = {
        let failure = failure.clone();
        Callback::from(move |e| failure.set(Some(e)))
    };
    if let Load::Failed(e) = &perms {
        return html! { <ErrorBox error={e.clone()} retry={reload_perms} /> };
    }
    let list = render_load(&roles, &reload, |rs| {
        html! {
            <table class="data" id="roles-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("roles-name") }</th>
                    <th scope="col">{ i18n.t("roles-permissions") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for rs.iter().map(|r| html! {
                    <tr>
                        <td>{ &r.name }{ " " }if r.builtin { <span class="badge">{ i18n.t("roles-builtin") }</span> }</td>
                        <td class="perm-list">{ permission_summary(&i18n, &r.permissions, &perms) }</td>
                        <td class="actions">
                            { edit_button(&i18n, &r.name, r.id, &select) }
                            if !r.builtin {
                                <DeleteButton path={format!("/roles/{}", r.id)} name={r.name.clone()}
                                    on_done={reload.clone()} on_error={on_error.clone()} />
                            }
                        </td>
                    </tr>
                }) }</tbody>
            </table>
        }
    });
    let editor = match (&roles, &perms) {
        (Load::Ready(rs), Load::Ready(ps)) => {
            let current = selected.and_then(|id| rs.iter().find(|r| r.id == id).cloned());
            let on_saved = {
                let (reload, select) = (reload.clone(), select.clone());
                Callback::from(move |_| {
                    reload.emit(());
                    select.emit(None);
                })
            };
            html! { <RoleEditor key={selected.map(|s| s.to_string()).unwrap_or_default()} perms={ps.clone()} {current} select={select.clone()} {on_saved} /> }
        }
        _ => html! { <Loading /> },
    };
    html! {
        <>
            <h1>{ i18n.t("roles-title") }</h1>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="two-col">{ list }{ editor }</div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct RoleEditorProps {
    perms: Rc<Vec<PermissionDto>>,
    current: Option<RoleDto>,
    select: Callback<Option<Uuid>>,
    on_saved: Callback<()>,
}

#[function_component]
fn RoleEditor(p: &RoleEditorProps) -> Html {
    let i18n = use_i18n();
    let form = {
        let c = p.current.clone();
        use_reducer(move || Form(c.map(|r| (r.name, r.permissions)).unwrap_or_default()))
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let id = p.current.as_ref().map(|r| r.id);
    let readonly = p.current.as_ref().is_some_and(|r| r.builtin);
    let onsubmit = {
        let (form, errors, failure, i18n, on_saved) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            i18n.clone(),
            p.on_saved.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (name, permissions) = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "name", &name);
            if permissions.is_empty() {
                c.fail("permissions", i18n.t("roles-pick-one"));
            }
            errors.set(c.errors.clone());
            failure.set(None);
            if !c.ok() {
                return;
            }
            let (errors, failure, on_saved) = (errors.clone(), failure.clone(), on_saved.clone());
            spawn(async move {
                let body = RoleInput {
                    name: name.trim().into(),
                    permissions,
                };
                match save::<_, RoleDto>("/roles", id, &body).await {
                    Ok(_) => on_saved.emit(()),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let boxes = p.perms.iter().map(|perm| {
        let key = perm.key.clone();
        let d = form.dispatcher();
        let checked = form.0 .1.contains(&perm.key);
        let label = format!(
            "{} ({})",
            permission_label(&i18n, &perm.key, &perm.description),
            perm.key
        );
        html! {
            <Checkbox id={format!("perm-{}", perm.key)} {label} {checked} disabled={readonly}
                onchange={Callback::from(move |on: bool| {
                    let key = key.clone();
                    d.dispatch(Box::new(move |f: &mut (String, Vec<String>)| {
                        f.1.retain(|k| *k != key);
                        if on { f.1.push(key); }
                    }))
                })} />
        }
    });
    html! {
        <form id="role-form" class="card" {onsubmit} novalidate=true>
            { editor_head(&i18n, id.is_some(), "roles-new", "roles-edit", &p.select) }
            if readonly { <p class="muted">{ i18n.t("roles-builtin-readonly") }</p> }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { other_errors(&errors, &["name", "permissions"]) }
            <TextField id="role-name" label={i18n.t("roles-name")} value={form.0 .0.clone()} disabled={readonly}
                oninput={bind(&form, |f, v| f.0 = v)} error={errors.get("name").cloned()} required=true />
            <fieldset>
                <legend>{ i18n.t("roles-permissions") }</legend>
                { for boxes }
                if let Some(e) = errors.get("permissions") { <p class="field-error">{ e }</p> }
            </fieldset>
            if !readonly { <button type="submit" class="primary">{ i18n.t("action-save") }</button> }
        </form>
    }
}

// ---------------------------------------------------------------- reason codes

#[function_component]
pub fn ReasonCodesPage() -> Html {
    let i18n = use_i18n();
    let (codes, reload) = use_get::<Vec<ReasonCodeDto>>("/reason-codes".into());
    let (selected, select) = use_selection();
    let failure = use_state(|| None::<ApiError>);
    let on_error = {
        let failure = failure.clone();
        Callback::from(move |e| failure.set(Some(e)))
    };
    let list = render_load(&codes, &reload, |cs| {
        html! {
            <table class="data" id="reason-codes-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("reasons-name") }</th>
                    <th scope="col">{ i18n.t("reasons-kind") }</th>
                    <th scope="col">{ i18n.t("reasons-needs-approval") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for cs.iter().map(|c| {
                    // System reasons (the ACD's missed / rejected, softphone lost…): shown
                    // translated and marked built-in; they cannot be deleted or renamed.
                    let label = super::agent::reason_label(&i18n, c);
                    html! {
                        <tr data-builtin={c.builtin_key.clone()}>
                            <td>
                                { &label }
                                if c.builtin_key.is_some() {
                                    { " " }<span class="badge builtin" title={i18n.t("reasons-builtin-hint")}>{ i18n.t("reasons-builtin") }</span>
                                }
                            </td>
                            <td>{ i18n.t(&format!("reasons-kind-{}", c.kind.replace('_', "-"))) }</td>
                            <td>{ if c.needs_approval { i18n.t("answer-yes") } else { i18n.t("answer-no") } }</td>
                            <td class="actions">
                                { edit_button(&i18n, &label, c.id, &select) }
                                if c.builtin_key.is_none() {
                                    <DeleteButton path={format!("/reason-codes/{}", c.id)} name={c.name.clone()}
                                        on_done={reload.clone()} on_error={on_error.clone()} />
                                }
                            </td>
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });
    let editor = match &codes {
        Load::Ready(cs) => {
            let current = selected.and_then(|id| cs.iter().find(|c| c.id == id).cloned());
            let on_saved = {
                let (reload, select) = (reload.clone(), select.clone());
                Callback::from(move |_| {
                    reload.emit(());
                    select.emit(None);
                })
            };
            html! { <ReasonEditor key={selected.map(|s| s.to_string()).unwrap_or_default()} {current} select={select.clone()} {on_saved} /> }
        }
        _ => html! {},
    };
    html! {
        <>
            <h1>{ i18n.t("reasons-title") }</h1>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="two-col">{ list }{ editor }</div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ReasonEditorProps {
    current: Option<ReasonCodeDto>,
    select: Callback<Option<Uuid>>,
    on_saved: Callback<()>,
}

#[function_component]
fn ReasonEditor(p: &ReasonEditorProps) -> Html {
    let i18n = use_i18n();
    let form = {
        let c = p.current.clone();
        use_reducer(move || {
            Form(
                c.map(|r| (r.name, r.kind, r.needs_approval))
                    .unwrap_or_else(|| (String::new(), "not_ready".into(), false)),
            )
        })
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let id = p.current.as_ref().map(|r| r.id);
    let onsubmit = {
        let (form, errors, failure, i18n, on_saved) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            i18n.clone(),
            p.on_saved.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (name, kind, needs_approval) = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "name", &name);
            errors.set(c.errors.clone());
            failure.set(None);
            if !c.ok() {
                return;
            }
            let (errors, failure, on_saved) = (errors.clone(), failure.clone(), on_saved.clone());
            spawn(async move {
                let body = ReasonCodeInput {
                    name: name.trim().into(),
                    kind,
                    needs_approval,
                };
                match save::<_, ReasonCodeDto>("/reason-codes", id, &body).await {
                    Ok(_) => on_saved.emit(()),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let kinds = vec![
        ("not_ready".to_string(), i18n.t("reasons-kind-not-ready")),
        ("break".to_string(), i18n.t("reasons-kind-break")),
    ];
    let d = form.dispatcher();
    // A system reason keeps its name and kind; only "needs approval" may change.
    let builtin = p.current.as_ref().is_some_and(|c| c.builtin_key.is_some());
    html! {
        <form id="reason-form" class="card" {onsubmit} novalidate=true>
            { editor_head(&i18n, id.is_some(), "reasons-new", "reasons-edit", &p.select) }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { other_errors(&errors, &["name", "kind"]) }
            if builtin {
                <p class="muted small" id="reason-builtin-note">{ i18n.t("reasons-builtin-hint") }</p>
                <dl class="facts">
                    <dt>{ i18n.t("reasons-name") }</dt>
                    <dd id="reason-name-fixed">{ p.current.as_ref().map(|c| super::agent::reason_label(&i18n, c)).unwrap_or_default() }</dd>
                    <dt>{ i18n.t("reasons-kind") }</dt>
                    <dd>{ i18n.t(&format!("reasons-kind-{}", form.0 .1.replace('_', "-"))) }</dd>
                </dl>
            } else {
                <TextField id="reason-name" label={i18n.t("reasons-name")} value={form.0 .0.clone()}
                    oninput={bind(&form, |f, v| f.0 = v)} error={errors.get("name").cloned()} required=true />
                <SelectField id="reason-kind" label={i18n.t("reasons-kind")} value={form.0 .1.clone()} options={kinds}
                    onchange={bind(&form, |f, v| f.1 = v)} error={errors.get("kind").cloned()} />
            }
            <Checkbox id="reason-approval" label={i18n.t("reasons-needs-approval")} checked={form.0 .2}
                onchange={Callback::from(move |v: bool| d.dispatch(Box::new(move |f: &mut (String, String, bool)| f.2 = v)))} />
            <button type="submit" class="primary">{ i18n.t("action-save") }</button>
        </form>
    }
}
