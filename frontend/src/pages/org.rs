//! The center's structure: teams (a tree), skills, queues, custom roles, reason codes.
//!
//! Each page is one [`ListEditor`] over an [`Item`]: the list (a sortable, paged
//! [`DataTable`], or the teams' tree) and the form that creates and edits, with deletes asked
//! in a dialog and saves and deletes confirmed in a toast. An `Item` says where it lives in
//! the API, its columns, its row, its form and how the form becomes a request body.

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
pub(crate) use crate::components::DeleteButton;
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

// ---------------------------------------------------------------- the generic page

/// One kind of thing an administrator lists and edits on one page.
pub(crate) trait Item: Clone + PartialEq + DeserializeOwned + 'static {
    /// The API collection: `GET`/`POST` here, `PUT`/`DELETE` at `{PATH}/{id}`.
    const PATH: &'static str;
    /// Catalog prefix: `{KEY}-title`, `{KEY}-empty`, `{KEY}-new`, `{KEY}-edit`.
    const KEY: &'static str;
    /// Element ids of the list (table or tree) and of the form.
    const LIST_ID: &'static str;
    const FORM_ID: &'static str;
    /// The permission writing needs beyond the page's own (`None`: the page's suffices).
    const WRITE: Option<&'static str> = None;
    /// The form under the list (a wide form) rather than beside it.
    const STACKED: bool = false;
    /// The fields the form shows under an input (the server's others are listed on top).
    const FIELDS: &'static [&'static str];
    /// What else the page loaded for the rows and the form (skills, permissions…).
    type Ctx: Clone + PartialEq + 'static;
    type Form: Clone + PartialEq + 'static;
    type Input: Serialize + 'static;

    fn id(&self) -> Uuid;
    /// The name in toasts and in the buttons' labels.
    fn name(&self, i18n: &I18n) -> String;
    fn deletable(&self) -> bool {
        true
    }
    /// Shown in the form but not saved (built-in roles).
    fn readonly(&self) -> bool {
        false
    }
    fn cols(i18n: &I18n) -> Vec<Col>;
    /// The `<tr>` (ending with `actions`, a `td.actions` or nothing) and its sort keys.
    fn row(&self, i18n: &I18n, ctx: &Self::Ctx, all: &[Self], actions: Html) -> TableRow;
    /// A list drawn otherwise than as a table (the teams' tree).
    fn custom_list(
        _all: &[Self],
        _i18n: &I18n,
        _actions: &dyn Fn(&Self) -> Option<Html>,
    ) -> Option<Html> {
        None
    }
    fn form(current: Option<&Self>) -> Self::Form;
    /// Checks the form (its complaints into `c`) and makes the request body.
    fn input(f: &Self::Form, i18n: &I18n, c: &mut Checks) -> Self::Input;
    fn fields(
        form: &UseReducerHandle<Form<Self::Form>>,
        errors: &FieldErrors,
        i18n: &I18n,
        current: Option<&Self>,
        ctx: &Self::Ctx,
        all: &[Self],
    ) -> Html;
}

#[derive(Properties, PartialEq)]
pub(crate) struct ListEditorProps<T: Item> {
    pub ctx: T::Ctx,
}

/// A list of `T` with edit and delete on each, and the form for a new or the chosen one.
/// Only what needs `T` is generic; the frames around it are plain functions (one copy in the
/// wasm for every kind of item).
#[function_component]
pub(crate) fn ListEditor<T: Item>(p: &ListEditorProps<T>) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let (items, reload) = use_get::<Vec<T>>(T::PATH.into());
    let (selected, select) = use_selection();
    let failure = use_state(|| None::<ApiError>);
    let can_write = T::WRITE.is_none_or(|w| app.session.can(w));
    let on_error = {
        let failure = failure.clone();
        Callback::from(move |e| failure.set(Some(e)))
    };
    let ctl = RowCtl {
        path: T::PATH,
        select: select.clone(),
        reload: reload.clone(),
        on_error,
    };
    let actions = |x: &T| -> Option<Html> {
        can_write.then(|| ctl.actions(&i18n, x.id(), x.name(&i18n), x.deletable()))
    };
    let list = render_load(&items, &reload, |xs| {
        if xs.is_empty() {
            return empty_list(&i18n, T::KEY);
        }
        if let Some(h) = T::custom_list(xs, &i18n, &actions) {
            return h;
        }
        let rows: Vec<TableRow> = xs
            .iter()
            .map(|x| {
                x.row(
                    &i18n,
                    &p.ctx,
                    xs,
                    actions(x).map(actions_cell).unwrap_or_default(),
                )
            })
            .collect();
        table(&i18n, T::LIST_ID, T::KEY, T::cols(&i18n), can_write, rows)
    });
    let editor = match (&items, can_write) {
        (Load::Ready(xs), true) => {
            let current = selected.and_then(|id| xs.iter().find(|x| x.id() == id).cloned());
            html! {
                <ItemEditor<T> key={selected.map(|s| s.to_string()).unwrap_or_default()}
                    all={xs.clone()} {current} ctx={p.ctx.clone()} select={select.clone()}
                    on_saved={saved_then(&reload, &select)} />
            }
        }
        _ => html! {},
    };
    frame(&i18n, T::KEY, &failure, T::STACKED, list, editor)
}

/// What a row's Edit and Delete act on.
struct RowCtl {
    path: &'static str,
    select: Callback<Option<Uuid>>,
    reload: Callback<()>,
    on_error: Callback<ApiError>,
}

impl RowCtl {
    #[inline(never)]
    fn actions(&self, i18n: &I18n, id: Uuid, name: String, deletable: bool) -> Html {
        html! {
            <>
                { edit_button(i18n, &name, id, &self.select) }
                if deletable {
                    <DeleteButton path={format!("{}/{id}", self.path)} {name}
                        on_done={self.reload.clone()} on_error={self.on_error.clone()} />
                }
            </>
        }
    }
}

#[inline(never)]
fn actions_cell(a: Html) -> Html {
    html! { <td class="actions">{ a }</td> }
}

#[inline(never)]
fn empty_list(i18n: &I18n, key: &str) -> Html {
    html! { <EmptyState message={i18n.t(&format!("{key}-empty"))} /> }
}

#[inline(never)]
fn table(
    i18n: &I18n,
    id: &'static str,
    key: &str,
    mut cols: Vec<Col>,
    actions: bool,
    rows: Vec<TableRow>,
) -> Html {
    if actions {
        cols.push(Col::actions(i18n));
    }
    html! { <DataTable {id} caption={i18n.t(&format!("{key}-title"))} {cols} {rows} /> }
}

/// After a save: reload the list and go back to "new".
#[inline(never)]
fn saved_then(reload: &Callback<()>, select: &Callback<Option<Uuid>>) -> Callback<()> {
    let (reload, select) = (reload.clone(), select.clone());
    Callback::from(move |_| {
        reload.emit(());
        select.emit(None);
    })
}

#[inline(never)]
fn frame(
    i18n: &I18n,
    key: &str,
    failure: &Option<ApiError>,
    stacked: bool,
    list: Html,
    editor: Html,
) -> Html {
    html! {
        <>
            <h1>{ i18n.t(&format!("{key}-title")) }</h1>
            if let Some(e) = failure { <ErrorBox error={e.clone()} /> }
            <div class={if stacked { "stack" } else { "two-col" }}>{ list }{ editor }</div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ItemEditorProps<T: Item> {
    all: Rc<Vec<T>>,
    current: Option<T>,
    ctx: T::Ctx,
    select: Callback<Option<Uuid>>,
    on_saved: Callback<()>,
}

/// The editor's state that does not depend on `T`.
#[derive(Clone)]
struct EditorState {
    errors: UseStateHandle<FieldErrors>,
    failure: UseStateHandle<Option<ApiError>>,
    on_saved: Callback<()>,
    toast: Toasts,
    i18n: I18n,
}

impl EditorState {
    /// Shows the form's own complaints; true when there are none.
    fn checked(&self, c: Checks) -> bool {
        let ok = c.ok();
        self.errors.set(c.errors);
        self.failure.set(None);
        ok
    }
}

/// Saves a checked form: POST (new) or PUT (`id`), then a toast naming what was saved (`name`,
/// else the saved `name`).
async fn submit(
    st: EditorState,
    path: &'static str,
    id: Option<Uuid>,
    name: Option<String>,
    body: serde_json::Value,
) {
    match save::<_, serde_json::Value>(path, id, &body).await {
        Ok(v) => {
            let name = name.unwrap_or_else(|| v["name"].as_str().unwrap_or_default().into());
            let text = st.i18n.ta("toast-saved", &[("name", name.into())]);
            st.toast.ok(text);
            st.on_saved.emit(());
        }
        Err(e) => {
            st.errors.set(e.field_errors());
            st.failure.set(Some(e));
        }
    }
}

#[function_component]
fn ItemEditor<T: Item>(p: &ItemEditorProps<T>) -> Html {
    let i18n = use_i18n();
    let st = EditorState {
        errors: use_state(FieldErrors::new),
        failure: use_state(|| None::<ApiError>),
        on_saved: p.on_saved.clone(),
        toast: use_toast(),
        i18n: i18n.clone(),
    };
    let form = {
        let c = p.current.clone();
        use_reducer(move || Form(T::form(c.as_ref())))
    };
    let id = p.current.as_ref().map(T::id);
    // A system reason keeps its (translated) name; anything else is named as saved.
    let name = p
        .current
        .as_ref()
        .filter(|c| !c.deletable())
        .map(|c| c.name(&i18n));
    let onsubmit = {
        let (form, st) = (form.clone(), st.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut c = Checks::default();
            let body = T::input(&form.0, &st.i18n, &mut c);
            if st.checked(c) {
                let body = serde_json::to_value(&body).unwrap_or_default();
                spawn(submit(st.clone(), T::PATH, id, name.clone(), body));
            }
        })
    };
    let fields = T::fields(&form, &st.errors, &i18n, p.current.as_ref(), &p.ctx, &p.all);
    let readonly = p.current.as_ref().is_some_and(T::readonly);
    editor_frame(
        &st,
        T::FORM_ID,
        T::KEY,
        T::FIELDS,
        &p.select,
        id.is_some(),
        readonly,
        fields,
        onsubmit,
    )
}

#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn editor_frame(
    st: &EditorState,
    form_id: &'static str,
    key: &str,
    shown: &[&str],
    select: &Callback<Option<Uuid>>,
    editing: bool,
    readonly: bool,
    fields: Html,
    onsubmit: Callback<SubmitEvent>,
) -> Html {
    let i18n = &st.i18n;
    let (new_key, edit_key) = (format!("{key}-new"), format!("{key}-edit"));
    html! {
        <form id={form_id} class="card" {onsubmit} novalidate=true>
            { editor_head(i18n, editing, &new_key, &edit_key, select) }
            if let Some(e) = &*st.failure { <ErrorBox error={e.clone()} /> }
            { other_errors(&st.errors, shown) }
            { fields }
            if !readonly { <button type="submit" class="primary">{ i18n.t("action-save") }</button> }
        </form>
    }
}

/// A callback that sets one flag of a form.
fn bind_bool<F: Clone + PartialEq + 'static>(
    form: &UseReducerHandle<Form<F>>,
    set: fn(&mut F, bool),
) -> Callback<bool> {
    let d = form.dispatcher();
    Callback::from(move |v: bool| d.dispatch(Box::new(move |f: &mut F| set(f, v))))
}

// ---------------------------------------------------------------- teams

#[function_component]
pub fn TeamsPage() -> Html {
    html! { <ListEditor<TeamDto> ctx={()} /> }
}

/// The teams under `parent`, each with its own subtree (`seen` guards against cycles).
fn team_tree(
    ts: &[TeamDto],
    parent: Option<Uuid>,
    actions: &dyn Fn(&TeamDto) -> Option<Html>,
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
            let sub = team_tree(ts, Some(t.id), actions, seen);
            html! {
                <li>
                    <div class="tree-node">
                        <span class="tree-name">{ &t.name }</span>
                        { actions(t).unwrap_or_default() }
                    </div>
                    { sub }
                </li>
            }
        })
        .collect();
    html! { <ul class="tree">{ for items }</ul> }
}

impl Item for TeamDto {
    const PATH: &'static str = "/teams";
    const KEY: &'static str = "teams";
    const LIST_ID: &'static str = "teams-tree";
    const FORM_ID: &'static str = "team-form";
    const WRITE: Option<&'static str> = Some(perm::TEAMS_WRITE);
    const FIELDS: &'static [&'static str] = &["name", "parent_id"];
    type Ctx = ();
    type Form = (String, String);
    type Input = TeamInput;

    fn id(&self) -> Uuid {
        self.id
    }
    fn name(&self, _: &I18n) -> String {
        self.name.clone()
    }
    fn cols(_: &I18n) -> Vec<Col> {
        vec![]
    }
    fn row(&self, _: &I18n, _: &(), _: &[Self], _: Html) -> TableRow {
        TableRow {
            keys: vec![],
            html: html! {},
        }
    }
    fn custom_list(ts: &[Self], _: &I18n, actions: &dyn Fn(&Self) -> Option<Html>) -> Option<Html> {
        let mut seen = vec![];
        let out = team_tree(ts, None, actions, &mut seen);
        // Teams whose parent is missing still show, at the top level.
        let orphans: Vec<TeamDto> = ts
            .iter()
            .filter(|t| !seen.contains(&t.id))
            .map(|t| TeamDto {
                parent_id: None,
                ..t.clone()
            })
            .collect();
        let rest = team_tree(&orphans, None, actions, &mut seen);
        Some(html! { <div id="teams-tree" class="card">{ out }{ rest }</div> })
    }
    fn form(c: Option<&Self>) -> Self::Form {
        c.map(|t| {
            let parent = t.parent_id.map(|p| p.to_string()).unwrap_or_default();
            (t.name.clone(), parent)
        })
        .unwrap_or_default()
    }
    fn input(f: &Self::Form, i18n: &I18n, c: &mut Checks) -> TeamInput {
        c.required(i18n, "name", &f.0);
        TeamInput {
            name: f.0.trim().into(),
            parent_id: f.1.parse().ok(),
        }
    }
    fn fields(
        form: &UseReducerHandle<Form<Self::Form>>,
        errors: &FieldErrors,
        i18n: &I18n,
        current: Option<&Self>,
        _: &(),
        all: &[Self],
    ) -> Html {
        // A team cannot move under itself or its own descendants.
        let mut banned: Vec<Uuid> = current.map(|t| t.id).into_iter().collect();
        let mut i = 0;
        while i < banned.len() && banned.len() <= all.len() {
            let b = banned[i];
            banned.extend(all.iter().filter(|t| t.parent_id == Some(b)).map(|t| t.id));
            i += 1;
        }
        let mut parents = vec![(String::new(), i18n.t("teams-no-parent"))];
        parents.extend(
            team_options(all)
                .into_iter()
                .filter(|(tid, _)| !banned.contains(tid))
                .map(|(tid, n)| (tid.to_string(), n)),
        );
        html! {
            <>
                <TextField id="team-name" label={i18n.t("teams-name")} value={form.0 .0.clone()}
                    oninput={bind(form, |f, v| f.0 = v)} error={errors.get("name").cloned()} required=true />
                <SelectField id="team-parent" label={i18n.t("teams-parent")} value={form.0 .1.clone()} options={parents}
                    onchange={bind(form, |f, v| f.1 = v)} error={errors.get("parent_id").cloned()} />
            </>
        }
    }
}

// ---------------------------------------------------------------- skills

#[function_component]
pub fn SkillsPage() -> Html {
    html! { <ListEditor<SkillDto> ctx={()} /> }
}

impl Item for SkillDto {
    const PATH: &'static str = "/skills";
    const KEY: &'static str = "skills";
    const LIST_ID: &'static str = "skills-table";
    const FORM_ID: &'static str = "skill-form";
    const WRITE: Option<&'static str> = Some(perm::SKILLS_WRITE);
    const FIELDS: &'static [&'static str] = &["name", "description"];
    type Ctx = ();
    type Form = (String, String);
    type Input = SkillInput;

    fn id(&self) -> Uuid {
        self.id
    }
    fn name(&self, _: &I18n) -> String {
        self.name.clone()
    }
    fn cols(i18n: &I18n) -> Vec<Col> {
        vec![
            Col::new(i18n.t("skills-name")),
            Col::new(i18n.t("skills-description")),
        ]
    }
    fn row(&self, _: &I18n, _: &(), _: &[Self], actions: Html) -> TableRow {
        TableRow {
            keys: vec![self.name.as_str().into(), self.description.as_str().into()],
            html: html! {
                <tr key={self.id.to_string()}>
                    <td>{ &self.name }</td>
                    <td>{ &self.description }</td>
                    { actions }
                </tr>
            },
        }
    }
    fn form(c: Option<&Self>) -> Self::Form {
        c.map(|s| (s.name.clone(), s.description.clone()))
            .unwrap_or_default()
    }
    fn input(f: &Self::Form, i18n: &I18n, c: &mut Checks) -> SkillInput {
        c.required(i18n, "name", &f.0);
        SkillInput {
            name: f.0.trim().into(),
            description: f.1.trim().into(),
        }
    }
    fn fields(
        form: &UseReducerHandle<Form<Self::Form>>,
        errors: &FieldErrors,
        i18n: &I18n,
        _: Option<&Self>,
        _: &(),
        _: &[Self],
    ) -> Html {
        html! {
            <>
                <TextField id="skill-name" label={i18n.t("skills-name")} value={form.0 .0.clone()}
                    oninput={bind(form, |f, v| f.0 = v)} error={errors.get("name").cloned()} required=true />
                <TextField id="skill-description" label={i18n.t("skills-description")} value={form.0 .1.clone()}
                    oninput={bind(form, |f, v| f.1 = v)} error={errors.get("description").cloned()} />
            </>
        }
    }
}

// ---------------------------------------------------------------- queues

/// What the queues page loaded besides the queues.
#[derive(Clone, PartialEq)]
pub(crate) struct QueueCtx {
    skills: Rc<Vec<SkillDto>>,
    users: Rc<Vec<UserDto>>,
}

#[function_component]
pub fn QueuesPage() -> Html {
    let (skills, reload_skills) = use_get::<Vec<SkillDto>>("/skills".into());
    let (users, _) = use_get::<Page<UserDto>>("/users?per_page=200".into());
    let users = match &users {
        Load::Ready(u) => Rc::new(u.items.clone()),
        _ => Rc::new(vec![]),
    };
    match &skills {
        Load::Ready(skills) => {
            let ctx = QueueCtx {
                skills: skills.clone(),
                users,
            };
            html! { <ListEditor<QueueDto> {ctx} /> }
        }
        other => render_load(other, &reload_skills, |_| html! {}),
    }
}

fn strategy_key(s: QueueStrategy) -> String {
    format!("strategy-{}", s.as_str().replace('_', "-"))
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

#[derive(Clone, PartialEq)]
pub(crate) struct QueueForm {
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

impl Item for QueueDto {
    const PATH: &'static str = "/queues";
    const KEY: &'static str = "queues";
    const LIST_ID: &'static str = "queues-table";
    const FORM_ID: &'static str = "queue-form";
    const WRITE: Option<&'static str> = Some(perm::QUEUES_WRITE);
    const STACKED: bool = true;
    const FIELDS: &'static [&'static str] = &[
        "name",
        "strategy",
        "max_wait_seconds",
        "wrap_up_seconds",
        "priority",
        "overflow_queue_id",
        "required_skills",
        "max_wait_prompt",
        "voicemail_user_id",
        "announce_interval_seconds",
    ];
    type Ctx = QueueCtx;
    type Form = QueueForm;
    type Input = QueueInput;

    fn id(&self) -> Uuid {
        self.id
    }
    fn name(&self, _: &I18n) -> String {
        self.name.clone()
    }
    fn cols(i18n: &I18n) -> Vec<Col> {
        vec![
            Col::new(i18n.t("queues-name")),
            Col::new(i18n.t("queues-strategy")),
            Col::plain(i18n.t("queues-required-skills")),
            Col::num(i18n.t("queues-max-wait")),
            Col::num(i18n.t("queues-wrap-up")),
            Col::num(i18n.t("queues-priority")),
            Col::new(i18n.t("queues-overflow")),
        ]
    }
    fn row(&self, i18n: &I18n, ctx: &QueueCtx, all: &[Self], actions: Html) -> TableRow {
        let skill_name = |id: Uuid| {
            ctx.skills
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "?".into())
        };
        let q = self;
        let (strategy, exit) = (i18n.t(&strategy_key(q.strategy)), exit_label(i18n, q, all));
        let skills = q
            .required_skills
            .iter()
            .map(|s| format!("{} ≥ {}", skill_name(s.skill_id), s.level))
            .collect::<Vec<_>>()
            .join(", ");
        TableRow {
            keys: vec![
                q.name.as_str().into(),
                strategy.as_str().into(),
                SortKey::Num(0),
                (q.max_wait_seconds as i64).into(),
                (q.wrap_up_seconds as i64).into(),
                (q.priority as i64).into(),
                exit.as_str().into(),
            ],
            html: html! {
                <tr key={q.id.to_string()}>
                    <td>{ &q.name }</td>
                    <td>{ strategy }</td>
                    <td>{ skills }</td>
                    <td class="num">{ i18n.number(q.max_wait_seconds as i64) }</td>
                    <td class="num">{ i18n.number(q.wrap_up_seconds as i64) }</td>
                    <td class="num">{ i18n.number(q.priority as i64) }</td>
                    <td>{ exit }</td>
                    { actions }
                </tr>
            },
        }
    }
    fn form(c: Option<&Self>) -> QueueForm {
        match c {
            Some(q) => QueueForm {
                overflow: exit_value(q),
                name: q.name.clone(),
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
        }
    }
    fn input(f: &QueueForm, i18n: &I18n, c: &mut Checks) -> QueueInput {
        c.required(i18n, "name", &f.name);
        let num = |c: &mut Checks, field: &str, v: &str, lo: i32, hi: i32| -> i32 {
            match v.trim().parse::<i32>() {
                Ok(n) if (lo..=hi).contains(&n) => n,
                _ => {
                    let range = [("min", (lo as i64).into()), ("max", (hi as i64).into())];
                    c.fail(field, i18n.ta("form-range", &range));
                    0
                }
            }
        };
        let max_wait = num(c, "max_wait_seconds", &f.max_wait, 0, 86_400);
        let wrap_up = num(c, "wrap_up_seconds", &f.wrap_up, 0, 3_600);
        let priority = num(c, "priority", &f.priority, 0, 100);
        let announce_every = announce_interval(i18n, c, f);
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
        QueueInput {
            name: f.name.trim().into(),
            strategy: QueueStrategy::parse(&f.strategy).unwrap_or(QueueStrategy::LongestIdle),
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
        }
    }
    fn fields(
        form: &UseReducerHandle<Form<QueueForm>>,
        errors: &FieldErrors,
        i18n: &I18n,
        current: Option<&Self>,
        ctx: &QueueCtx,
        all: &[Self],
    ) -> Html {
        let id = current.map(|q| q.id);
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
        overflow.extend(all.iter().filter(|q| Some(q.id) != id).map(|q| {
            (
                format!("queue:{}", q.id),
                i18n.ta("queues-exit-queue", &[("queue", q.name.clone().into())]),
            )
        }));
        let says_something = matches!(form.0.overflow.as_str(), "callback" | "hangup");
        let mut owners = vec![(String::new(), i18n.t("queues-voicemail-nobody"))];
        owners.extend(
            ctx.users
                .iter()
                .filter(|u| u.active)
                .map(|u| (u.id.to_string(), u.name.clone())),
        );
        let skill_rows = ctx.skills.iter().map(|s| {
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
        let err = |k: &str| errors.get(k).cloned();
        html! {
            <>
                <div class="row">
                    <TextField id="queue-name" label={i18n.t("queues-name")} value={form.0.name.clone()}
                        oninput={bind(form, |f, v| f.name = v)} error={err("name")} required=true />
                    <SelectField id="queue-strategy" label={i18n.t("queues-strategy")} value={form.0.strategy.clone()}
                        options={strategies} onchange={bind(form, |f, v| f.strategy = v)} error={err("strategy")} />
                    <SelectField id="queue-overflow" label={i18n.t("queues-overflow")} value={form.0.overflow.clone()}
                        options={overflow} onchange={bind(form, |f, v| f.overflow = v)} error={err("overflow_queue_id")} />
                </div>
                <div class="row">
                    <TextField id="queue-max-wait" kind="number" label={i18n.t("queues-max-wait")} value={form.0.max_wait.clone()}
                        oninput={bind(form, |f, v| f.max_wait = v)} error={err("max_wait_seconds")} />
                    <TextField id="queue-wrap-up" kind="number" label={i18n.t("queues-wrap-up")} value={form.0.wrap_up.clone()}
                        oninput={bind(form, |f, v| f.wrap_up = v)} error={err("wrap_up_seconds")} />
                    <TextField id="queue-priority" kind="number" label={i18n.t("queues-priority")} value={form.0.priority.clone()}
                        oninput={bind(form, |f, v| f.priority = v)} error={err("priority")} />
                </div>
                <div class="row">
                    if says_something {
                        <TextField id="queue-max-wait-prompt" label={i18n.t("queues-max-wait-prompt")} value={form.0.prompt.clone()}
                            hint={i18n.t("queues-max-wait-prompt-hint")}
                            oninput={bind(form, |f, v| f.prompt = v)} error={err("max_wait_prompt")} />
                    }
                    <SelectField id="queue-voicemail-user" label={i18n.t("queues-voicemail-user")} value={form.0.voicemail_user.clone()}
                        options={owners} onchange={bind(form, |f, v| f.voicemail_user = v)} error={err("voicemail_user_id")} />
                </div>
                <div class="row">
                    <Checkbox id="queue-announce-position" label={i18n.t("queues-announce-position")} checked={form.0.announce_position}
                        onchange={bind_bool(form, |f, on| f.announce_position = on)} />
                    <Checkbox id="queue-announce-wait" label={i18n.t("queues-announce-wait")} checked={form.0.announce_wait}
                        onchange={bind_bool(form, |f, on| f.announce_wait = on)} />
                    <TextField id="queue-announce-every" kind="number" label={i18n.t("queues-announce-every")} value={form.0.announce_every.clone()}
                        hint={i18n.t("queues-announce-every-hint")}
                        oninput={bind(form, |f, v| f.announce_every = v)} error={err("announce_interval_seconds")} />
                </div>
                <fieldset class="skills">
                    <legend>{ i18n.t("queues-required-skills") }</legend>
                    if ctx.skills.is_empty() { <p class="muted">{ i18n.t("user-no-skills-defined") }</p> }
                    { for skill_rows }
                    if let Some(e) = err("required_skills") { <p class="field-error">{ e }</p> }
                </fieldset>
            </>
        }
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
fn permission_summary(i18n: &I18n, keys: &[String], perms: &[PermissionDto]) -> Html {
    let label = |k: &String| {
        let fallback = perms
            .iter()
            .find(|p| &p.key == k)
            .map(|p| p.description.clone());
        permission_label(i18n, k, &fallback.unwrap_or_else(|| k.clone()))
    };
    let labels: Vec<String> = keys.iter().map(label).collect();
    let shown = labels
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
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
    let (perms, reload_perms) = use_get::<Vec<PermissionDto>>("/permissions".into());
    match &perms {
        Load::Ready(ps) => html! { <ListEditor<RoleDto> ctx={ps.clone()} /> },
        other => render_load(other, &reload_perms, |_| html! {}),
    }
}

impl Item for RoleDto {
    const PATH: &'static str = "/roles";
    const KEY: &'static str = "roles";
    const LIST_ID: &'static str = "roles-table";
    const FORM_ID: &'static str = "role-form";
    const FIELDS: &'static [&'static str] = &["name", "permissions"];
    type Ctx = Rc<Vec<PermissionDto>>;
    type Form = (String, Vec<String>);
    type Input = RoleInput;

    fn id(&self) -> Uuid {
        self.id
    }
    fn name(&self, _: &I18n) -> String {
        self.name.clone()
    }
    fn deletable(&self) -> bool {
        !self.builtin
    }
    fn readonly(&self) -> bool {
        self.builtin
    }
    fn cols(i18n: &I18n) -> Vec<Col> {
        vec![
            Col::new(i18n.t("roles-name")),
            Col::plain(i18n.t("roles-permissions")),
        ]
    }
    fn row(&self, i18n: &I18n, perms: &Self::Ctx, _: &[Self], actions: Html) -> TableRow {
        let r = self;
        TableRow {
            keys: vec![r.name.as_str().into()],
            html: html! {
                <tr key={r.id.to_string()}>
                    <td>{ &r.name }{ " " }if r.builtin { <span class="badge">{ i18n.t("roles-builtin") }</span> }</td>
                    <td class="perm-list">{ permission_summary(i18n, &r.permissions, perms) }</td>
                    { actions }
                </tr>
            },
        }
    }
    fn form(c: Option<&Self>) -> Self::Form {
        c.map(|r| (r.name.clone(), r.permissions.clone()))
            .unwrap_or_default()
    }
    fn input(f: &Self::Form, i18n: &I18n, c: &mut Checks) -> RoleInput {
        c.required(i18n, "name", &f.0);
        if f.1.is_empty() {
            c.fail("permissions", i18n.t("roles-pick-one"));
        }
        RoleInput {
            name: f.0.trim().into(),
            permissions: f.1.clone(),
        }
    }
    fn fields(
        form: &UseReducerHandle<Form<Self::Form>>,
        errors: &FieldErrors,
        i18n: &I18n,
        current: Option<&Self>,
        perms: &Self::Ctx,
        _: &[Self],
    ) -> Html {
        let readonly = current.is_some_and(|r| r.builtin);
        let boxes = perms.iter().map(|perm| {
            let key = perm.key.clone();
            let d = form.dispatcher();
            let checked = form.0 .1.contains(&perm.key);
            let label = format!(
                "{} ({})",
                permission_label(i18n, &perm.key, &perm.description),
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
            <>
                if readonly { <p class="muted">{ i18n.t("roles-builtin-readonly") }</p> }
                <TextField id="role-name" label={i18n.t("roles-name")} value={form.0 .0.clone()} disabled={readonly}
                    oninput={bind(form, |f, v| f.0 = v)} error={errors.get("name").cloned()} required=true />
                <fieldset>
                    <legend>{ i18n.t("roles-permissions") }</legend>
                    { for boxes }
                    if let Some(e) = errors.get("permissions") { <p class="field-error">{ e }</p> }
                </fieldset>
            </>
        }
    }
}

// ---------------------------------------------------------------- reason codes

#[function_component]
pub fn ReasonCodesPage() -> Html {
    html! { <ListEditor<ReasonCodeDto> ctx={()} /> }
}

impl Item for ReasonCodeDto {
    const PATH: &'static str = "/reason-codes";
    const KEY: &'static str = "reasons";
    const LIST_ID: &'static str = "reason-codes-table";
    const FORM_ID: &'static str = "reason-form";
    const FIELDS: &'static [&'static str] = &["name", "kind"];
    type Ctx = ();
    type Form = (String, String, bool);
    type Input = ReasonCodeInput;

    fn id(&self) -> Uuid {
        self.id
    }
    /// System reasons (the ACD's missed / rejected, softphone lost…) in the user's language.
    fn name(&self, i18n: &I18n) -> String {
        super::agent::reason_label(i18n, self)
    }
    /// System reasons cannot be deleted or renamed.
    fn deletable(&self) -> bool {
        self.builtin_key.is_none()
    }
    fn cols(i18n: &I18n) -> Vec<Col> {
        vec![
            Col::new(i18n.t("reasons-name")),
            Col::new(i18n.t("reasons-kind")),
            Col::new(i18n.t("reasons-needs-approval")),
        ]
    }
    fn row(&self, i18n: &I18n, _: &(), _: &[Self], actions: Html) -> TableRow {
        let c = self;
        let label = self.name(i18n);
        let kind = i18n.t(&format!("reasons-kind-{}", c.kind.replace('_', "-")));
        let approval = i18n.t(if c.needs_approval {
            "answer-yes"
        } else {
            "answer-no"
        });
        TableRow {
            keys: vec![
                label.as_str().into(),
                kind.as_str().into(),
                approval.as_str().into(),
            ],
            html: html! {
                <tr key={c.id.to_string()} data-builtin={c.builtin_key.clone()}>
                    <td>
                        { label }
                        if c.builtin_key.is_some() {
                            { " " }<span class="badge builtin" title={i18n.t("reasons-builtin-hint")}>{ i18n.t("reasons-builtin") }</span>
                        }
                    </td>
                    <td>{ kind }</td>
                    <td>{ approval }</td>
                    { actions }
                </tr>
            },
        }
    }
    fn form(c: Option<&Self>) -> Self::Form {
        c.map(|r| (r.name.clone(), r.kind.clone(), r.needs_approval))
            .unwrap_or_else(|| (String::new(), "not_ready".into(), false))
    }
    fn input(f: &Self::Form, i18n: &I18n, c: &mut Checks) -> ReasonCodeInput {
        c.required(i18n, "name", &f.0);
        ReasonCodeInput {
            name: f.0.trim().into(),
            kind: f.1.clone(),
            needs_approval: f.2,
        }
    }
    fn fields(
        form: &UseReducerHandle<Form<Self::Form>>,
        errors: &FieldErrors,
        i18n: &I18n,
        current: Option<&Self>,
        _: &(),
        _: &[Self],
    ) -> Html {
        let kinds = vec![
            ("not_ready".to_string(), i18n.t("reasons-kind-not-ready")),
            ("break".to_string(), i18n.t("reasons-kind-break")),
        ];
        // A system reason keeps its name and kind; only "needs approval" may change.
        let builtin = current.filter(|c| c.builtin_key.is_some());
        html! {
            <>
                if let Some(c) = builtin {
                    <p class="muted small" id="reason-builtin-note">{ i18n.t("reasons-builtin-hint") }</p>
                    <dl class="facts">
                        <dt>{ i18n.t("reasons-name") }</dt>
                        <dd id="reason-name-fixed">{ c.name(i18n) }</dd>
                        <dt>{ i18n.t("reasons-kind") }</dt>
                        <dd>{ i18n.t(&format!("reasons-kind-{}", form.0 .1.replace('_', "-"))) }</dd>
                    </dl>
                } else {
                    <TextField id="reason-name" label={i18n.t("reasons-name")} value={form.0 .0.clone()}
                        oninput={bind(form, |f, v| f.0 = v)} error={errors.get("name").cloned()} required=true />
                    <SelectField id="reason-kind" label={i18n.t("reasons-kind")} value={form.0 .1.clone()} options={kinds}
                        onchange={bind(form, |f, v| f.1 = v)} error={errors.get("kind").cloned()} />
                }
                <Checkbox id="reason-approval" label={i18n.t("reasons-needs-approval")} checked={form.0 .2}
                    onchange={bind_bool(form, |f, v| f.2 = v)} />
            </>
        }
    }
}
