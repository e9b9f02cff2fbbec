//! Building blocks shared by every screen: form fields, loading and error states, paging.

use std::rc::Rc;

use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::i18n::{use_i18n, I18n};

// ---------------------------------------------------------------- form state

/// Form state kept in a reducer, so every keystroke updates the latest value (never a
/// stale copy captured by an older render).
#[derive(Clone, PartialEq, Default)]
pub struct Form<T>(pub T);

pub type FormAction<T> = Box<dyn FnOnce(&mut T)>;

impl<T: Clone + PartialEq> Reducible for Form<T> {
    type Action = FormAction<T>;
    fn reduce(self: Rc<Self>, action: Self::Action) -> Rc<Self> {
        let mut v = self.0.clone();
        action(&mut v);
        Rc::new(Form(v))
    }
}

/// A callback that writes an input's text into one field of a form.
pub fn bind<T: Clone + PartialEq + 'static>(
    form: &UseReducerHandle<Form<T>>,
    set: fn(&mut T, String),
) -> Callback<String> {
    let d = form.dispatcher();
    Callback::from(move |v: String| d.dispatch(Box::new(move |t: &mut T| set(t, v))))
}

/// Client-side checks, keyed by field like the server's errors.
#[derive(Default)]
pub struct Checks {
    pub errors: FieldErrors,
}

impl Checks {
    pub fn required(&mut self, i18n: &I18n, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.errors
                .entry(field.into())
                .or_insert_with(|| i18n.t("form-required"));
        }
    }
    pub fn email(&mut self, i18n: &I18n, field: &str, value: &str) {
        let v = value.trim();
        let looks_like_email = v.contains('@') && !v.starts_with('@') && !v.ends_with('@');
        if !v.is_empty() && !looks_like_email {
            self.errors
                .entry(field.into())
                .or_insert_with(|| i18n.t("form-invalid-email"));
        }
    }
    pub fn fail(&mut self, field: &str, message: String) {
        self.errors.entry(field.into()).or_insert(message);
    }
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

// ---------------------------------------------------------------- fields

#[derive(Properties, PartialEq)]
pub struct TextFieldProps {
    pub id: AttrValue,
    pub label: String,
    pub value: String,
    pub oninput: Callback<String>,
    #[prop_or_default]
    pub error: Option<String>,
    #[prop_or(AttrValue::Static("text"))]
    pub kind: AttrValue,
    #[prop_or_default]
    pub required: bool,
    #[prop_or_default]
    pub autocomplete: Option<AttrValue>,
    #[prop_or_default]
    pub hint: Option<String>,
    #[prop_or_default]
    pub disabled: bool,
}

/// A labelled input with its error (from the client or the server) right under it.
#[function_component]
pub fn TextField(p: &TextFieldProps) -> Html {
    let oninput = {
        let cb = p.oninput.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            cb.emit(el.value());
        })
    };
    // Also listen to `change`: autofill and some input methods change the value without
    // an `input` event, and the form state must never disagree with what is on screen.
    let onchange = {
        let cb = p.oninput.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            cb.emit(el.value());
        })
    };
    let err_id = format!("{}-error", p.id);
    let hint_id = format!("{}-hint", p.id);
    let describedby = match (&p.error, &p.hint) {
        (Some(_), _) => Some(err_id.clone()),
        (None, Some(_)) => Some(hint_id.clone()),
        _ => None,
    };
    html! {
        <div class={classes!("field", p.error.is_some().then_some("invalid"))}>
            <label for={p.id.clone()}>{ &p.label }{ p.required.then(|| html!{<span class="req" aria-hidden="true">{" *"}</span>}) }</label>
            <input id={p.id.clone()} name={p.id.clone()} type={p.kind.clone()} value={p.value.clone()}
                {oninput} {onchange} required={p.required} disabled={p.disabled}
                autocomplete={p.autocomplete.clone()}
                aria-invalid={p.error.is_some().then_some("true")}
                aria-describedby={describedby} />
            if let Some(h) = &p.hint { <p class="hint" id={hint_id}>{ h }</p> }
            if let Some(e) = &p.error { <p class="field-error" id={err_id}>{ e }</p> }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SelectFieldProps {
    pub id: AttrValue,
    pub label: String,
    pub value: String,
    /// `(value, label)` pairs.
    pub options: Vec<(String, String)>,
    pub onchange: Callback<String>,
    #[prop_or_default]
    pub error: Option<String>,
    #[prop_or_default]
    pub required: bool,
}

#[function_component]
pub fn SelectField(p: &SelectFieldProps) -> Html {
    let onchange = {
        let cb = p.onchange.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
            cb.emit(el.value());
        })
    };
    let err_id = format!("{}-error", p.id);
    html! {
        <div class={classes!("field", p.error.is_some().then_some("invalid"))}>
            <label for={p.id.clone()}>{ &p.label }</label>
            <select id={p.id.clone()} name={p.id.clone()} {onchange} required={p.required}
                aria-invalid={p.error.is_some().then_some("true")}
                aria-describedby={p.error.is_some().then(|| err_id.clone())}>
                { for p.options.iter().map(|(v, l)| html! {
                    <option value={v.clone()} selected={*v == p.value}>{ l }</option>
                }) }
            </select>
            if let Some(e) = &p.error { <p class="field-error" id={err_id}>{ e }</p> }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct CheckboxProps {
    pub id: AttrValue,
    pub label: String,
    pub checked: bool,
    pub onchange: Callback<bool>,
    #[prop_or_default]
    pub disabled: bool,
}

#[function_component]
pub fn Checkbox(p: &CheckboxProps) -> Html {
    let onchange = {
        let cb = p.onchange.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            cb.emit(el.checked());
        })
    };
    html! {
        <div class="check">
            <input type="checkbox" id={p.id.clone()} checked={p.checked} {onchange} disabled={p.disabled} />
            <label for={p.id.clone()}>{ &p.label }</label>
        </div>
    }
}

// ---------------------------------------------------------------- loading and errors

#[function_component]
pub fn Loading() -> Html {
    let i18n = use_i18n();
    html! { <p class="loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{ i18n.t("state-loading") }</p> }
}

/// A readable sentence for an error, in the active language.
pub fn error_text(i18n: &I18n, e: &ApiError) -> String {
    match e {
        ApiError::Network => i18n.t("error-network"),
        ApiError::Decode(_) => i18n.t("error-decode"),
        ApiError::Http { status, problem } => {
            if let Some(p) = problem {
                if let Some(t) = i18n.try_t(&format!("problem-{}", p.code.replace('_', "-"))) {
                    return t;
                }
                if let Some(d) = &p.detail {
                    return d.clone();
                }
                if !p.title.is_empty() {
                    return p.title.clone();
                }
            }
            match status {
                403 => i18n.t("problem-forbidden"),
                404 => i18n.t("problem-not-found"),
                s if *s >= 500 => i18n.t("error-server"),
                _ => i18n.ta("error-status", &[("status", (*status as i64).into())]),
            }
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct ErrorBoxProps {
    pub error: ApiError,
    #[prop_or_default]
    pub retry: Option<Callback<()>>,
}

/// A server or network error as a readable message, with "try again" when it may help.
#[function_component]
pub fn ErrorBox(p: &ErrorBoxProps) -> Html {
    let i18n = use_i18n();
    html! {
        <div class="alert error" role="alert">
            <p>{ error_text(&i18n, &p.error) }</p>
            if let Some(r) = &p.retry {
                <button type="button" class="secondary" onclick={let r = r.clone(); move |_| r.emit(())}>{ i18n.t("action-retry") }</button>
            }
        </div>
    }
}

/// A saved-successfully notice.
#[derive(Properties, PartialEq)]
pub struct NoticeProps {
    pub text: String,
}

#[function_component]
pub fn Notice(p: &NoticeProps) -> Html {
    html! { <div class="alert ok" role="status">{ &p.text }</div> }
}

// ---------------------------------------------------------------- loading data

/// Where a fetched resource stands.
#[derive(Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(ApiError),
}

/// A decoded API answer of any type: [`use_get`]'s hooks keep it untyped so that their code
/// exists once in the wasm instead of once per resource type (it was a quarter of the app's
/// own code).
type AnyRc = Rc<dyn std::any::Any>;

fn decode_any<T: DeserializeOwned + 'static>(text: &str) -> Result<AnyRc, ApiError> {
    api::decode::<T>(text).map(|v| Rc::new(v) as AnyRc)
}

#[hook]
fn use_get_any(
    path: String,
    decode: fn(&str) -> Result<AnyRc, ApiError>,
) -> (Load<AnyRc>, Callback<()>) {
    let state = use_state(|| Load::Loading);
    let version = use_state(|| 0u32);
    {
        let state = state.clone();
        use_effect_with((path, *version), move |(path, _)| {
            let path = path.clone();
            // Keep showing the previous data while reloading (no flicker), except at first.
            if !matches!(*state, Load::Ready(_)) {
                state.set(Load::Loading);
            }
            wasm_bindgen_futures::spawn_local(async move {
                match api::get_text(&path).await.and_then(|t| decode(&t)) {
                    Ok(v) => state.set(Load::Ready(v)),
                    Err(e) => state.set(Load::Failed(e)),
                }
            });
        });
    }
    let reload = {
        let version = version.clone();
        Callback::from(move |_| version.set(*version + 1))
    };
    ((*state).clone(), reload)
}

/// A GET of `path`, re-run when `path` changes or when the returned callback is called.
#[hook]
pub fn use_get<T>(path: String) -> (Load<Rc<T>>, Callback<()>)
where
    T: DeserializeOwned + PartialEq + 'static,
{
    let (load, reload) = use_get_any(path, decode_any::<T>);
    let load = match load {
        Load::Loading => Load::Loading,
        Load::Failed(e) => Load::Failed(e),
        Load::Ready(v) => match v.downcast::<T>() {
            Ok(t) => Load::Ready(t),
            // Cannot happen: the value was decoded as `T` for this very hook.
            Err(_) => Load::Loading,
        },
    };
    (load, reload)
}

/// Renders loading / error / content for one resource.
pub fn render_load<T>(
    load: &Load<Rc<T>>,
    retry: &Callback<()>,
    ok: impl FnOnce(&T) -> Html,
) -> Html {
    match load {
        Load::Loading => html! { <Loading /> },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} retry={retry.clone()} /> },
        Load::Ready(v) => ok(v),
    }
}

// ---------------------------------------------------------------- paging

#[derive(Properties, PartialEq)]
pub struct PagerProps {
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    pub on_page: Callback<i64>,
}

#[function_component]
pub fn Pager(p: &PagerProps) -> Html {
    let i18n = use_i18n();
    let pages = ((p.total + p.per_page.max(1) - 1) / p.per_page.max(1)).max(1);
    let prev = {
        let cb = p.on_page.clone();
        let page = p.page;
        move |_| cb.emit(page - 1)
    };
    let next = {
        let cb = p.on_page.clone();
        let page = p.page;
        move |_| cb.emit(page + 1)
    };
    html! {
        <nav class="pager" aria-label={i18n.t("pager-label")}>
            <button type="button" class="secondary" onclick={prev} disabled={p.page <= 1}>{ i18n.t("pager-prev") }</button>
            <span class="pager-status">{ i18n.ta("pager-status", &[
                ("page", i18n.number(p.page).into()),
                ("pages", i18n.number(pages).into()),
                ("total", i18n.number(p.total).into()),
            ]) }</span>
            <button type="button" class="secondary" onclick={next} disabled={p.page >= pages}>{ i18n.t("pager-next") }</button>
        </nav>
    }
}

/// `m:ss` (or `h:mm:ss`) of a duration in milliseconds.
pub fn duration(ms: i64) -> String {
    let s = (ms.max(0) + 500) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The browser's clock.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// The time now, re-rendering the component every second (timers on the agent desktop).
#[hook]
pub fn use_now() -> chrono::DateTime<chrono::Utc> {
    let now = use_state(now);
    {
        let now = now.clone();
        use_effect_with((), move |_| {
            let t = gloo_timers::callback::Interval::new(1_000, move || now.set(self::now()));
            move || drop(t)
        });
    }
    *now
}

/// Runs an async action with a busy flag; used by every form's submit.
pub fn spawn<F>(fut: F)
where
    F: std::future::Future<Output = ()> + 'static,
{
    wasm_bindgen_futures::spawn_local(fut);
}

// ---------------------------------------------------------------- empty states

#[derive(Properties, PartialEq)]
pub struct EmptyStateProps {
    pub message: String,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    /// What to do about it (a link or a button), shown under the message.
    #[prop_or_default]
    pub action: Option<Html>,
}

/// "Nothing here yet", with an optional way forward.
#[function_component]
pub fn EmptyState(p: &EmptyStateProps) -> Html {
    html! {
        <div class="empty-state card" id={p.id.clone()}>
            <p class="empty">{ &p.message }</p>
            if let Some(a) = &p.action { { a.clone() } }
        </div>
    }
}

// ---------------------------------------------------------------- toasts

/// One short message in the corner: a save or delete went through (or did not).
#[derive(Clone, PartialEq)]
struct Toast {
    id: u32,
    error: bool,
    text: String,
}

/// The handle [`use_toast`] returns.
#[derive(Clone, PartialEq)]
pub struct Toasts(Callback<(bool, String)>);

impl Toasts {
    /// A success ("Saved", "Deleted"): `role="status"`, gone after 6 s.
    pub fn ok(&self, text: String) {
        self.0.emit((false, text));
    }
    /// A failure: `role="alert"`, stays 12 s.
    pub fn error(&self, text: String) {
        self.0.emit((true, text));
    }
}

/// Shows toasts from anywhere under [`ToastProvider`] (mounted once in the shell).
#[hook]
pub fn use_toast() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(|| Toasts(Callback::noop()))
}

#[derive(Properties, PartialEq)]
pub struct ChildrenOnly {
    pub children: Html,
}

/// Holds the toasts of the whole app and draws them (`#toasts`, bottom right).
#[function_component]
pub fn ToastProvider(p: &ChildrenOnly) -> Html {
    let i18n = use_i18n();
    let list = use_mut_ref(|| (0u32, Vec::<Toast>::new()));
    let redraw = use_force_update();
    let remove = {
        let (list, redraw) = (list.clone(), redraw.clone());
        Rc::new(move |id: u32| {
            list.borrow_mut().1.retain(|t| t.id != id);
            redraw.force_update();
        })
    };
    // One callback for the app's lifetime: the context never changes, so showing a toast
    // re-renders no page.
    let push = {
        let (list, remove) = (list.clone(), remove.clone());
        let redraw = redraw.clone();
        use_memo((), move |_| {
            Toasts(Callback::from(move |(error, text): (bool, String)| {
                let id = {
                    let mut l = list.borrow_mut();
                    l.0 += 1;
                    let id = l.0;
                    l.1.push(Toast { id, error, text });
                    id
                };
                redraw.force_update();
                let remove = remove.clone();
                let ms = if error { 12_000 } else { 6_000 };
                gloo_timers::callback::Timeout::new(ms, move || remove(id)).forget();
            }))
        })
    };
    let toasts = list
        .borrow()
        .1
        .iter()
        .map(|t| {
            let (remove, id) = (remove.clone(), t.id);
            html! {
                <div key={id} class={classes!("toast", if t.error { "error" } else { "ok" })}
                    role={if t.error { "alert" } else { "status" }}>
                    <p>{ &t.text }</p>
                    <button type="button" class="ghost small" aria-label={i18n.t("action-dismiss")}
                        onclick={move |_| remove(id)}>{ "×" }</button>
                </div>
            }
        })
        .collect::<Html>();
    html! {
        <ContextProvider<Toasts> context={(*push).clone()}>
            { p.children.clone() }
            <div id="toasts" class="toasts">{ toasts }</div>
        </ContextProvider<Toasts>>
    }
}

// ---------------------------------------------------------------- dialogs

#[derive(Properties, PartialEq)]
pub struct ConfirmProps {
    pub title: String,
    #[prop_or_default]
    pub text: Option<String>,
    /// The confirm button's label ("Delete").
    pub confirm: String,
    #[prop_or_default]
    pub confirm_id: Option<AttrValue>,
    pub on_confirm: Callback<()>,
    pub on_cancel: Callback<()>,
}

fn focus(r: &NodeRef) {
    if let Some(el) = r.cast::<web_sys::HtmlElement>() {
        let _ = el.focus();
    }
}

/// A modal question: `role="dialog"`, `aria-modal`, labelled by its title. Focus moves to
/// Cancel when it opens and back where it was when it closes; Esc cancels; Tab stays inside.
#[function_component]
pub fn ConfirmDialog(p: &ConfirmProps) -> Html {
    let i18n = use_i18n();
    let (cancel_ref, ok_ref) = (use_node_ref(), use_node_ref());
    {
        let cancel_ref = cancel_ref.clone();
        use_effect_with((), move |_| {
            let before = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            focus(&cancel_ref);
            move || {
                if let Some(el) = before {
                    let _ = el.focus();
                }
            }
        });
    }
    let onkeydown = {
        let (cancel, cancel_ref, ok_ref) =
            (p.on_cancel.clone(), cancel_ref.clone(), ok_ref.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => {
                e.prevent_default();
                cancel.emit(());
            }
            "Tab" => {
                // Two buttons: from the last forward or the first backward, wrap around.
                let (from, to) = if e.shift_key() {
                    (&cancel_ref, &ok_ref)
                } else {
                    (&ok_ref, &cancel_ref)
                };
                let at_edge = match (e.target(), from.get()) {
                    (Some(t), Some(n)) => js_sys::Object::is(t.as_ref(), n.as_ref()),
                    _ => true,
                };
                if at_edge {
                    e.prevent_default();
                    focus(to);
                }
            }
            _ => {}
        })
    };
    let (ok, cancel) = (p.on_confirm.clone(), p.on_cancel.clone());
    html! {
        <div class="dialog-backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title"
                aria-describedby={p.text.is_some().then_some("dialog-text")} {onkeydown}>
                <h2 id="dialog-title">{ &p.title }</h2>
                if let Some(t) = &p.text { <p id="dialog-text">{ t }</p> }
                <div class="dialog-actions">
                    <button type="button" class="secondary" id="dialog-cancel" ref={cancel_ref}
                        onclick={move |_| cancel.emit(())}>{ i18n.t("action-cancel") }</button>
                    <button type="button" class="danger" id={p.confirm_id.clone().unwrap_or(AttrValue::Static("dialog-confirm"))}
                        ref={ok_ref} onclick={move |_| ok.emit(())}>{ &p.confirm }</button>
                </div>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct DeleteProps {
    pub path: String,
    pub name: String,
    pub on_done: Callback<()>,
    pub on_error: Callback<ApiError>,
}

/// A delete button that asks in a [`ConfirmDialog`] first and says "deleted" in a toast.
#[function_component]
pub fn DeleteButton(p: &DeleteProps) -> Html {
    let i18n = use_i18n();
    let toast = use_toast();
    let open = use_state(|| false);
    let name = || [("name", p.name.clone().into())];
    let go = {
        let (path, done, err, open, text) = (
            p.path.clone(),
            p.on_done.clone(),
            p.on_error.clone(),
            open.clone(),
            i18n.ta("toast-deleted", &name()),
        );
        Callback::from(move |_| {
            let (path, done, err, toast, text) = (
                path.clone(),
                done.clone(),
                err.clone(),
                toast.clone(),
                text.clone(),
            );
            open.set(false);
            spawn(async move {
                match api::delete(&path).await {
                    Ok(()) => {
                        toast.ok(text);
                        done.emit(());
                    }
                    Err(e) => err.emit(e),
                }
            });
        })
    };
    let (o1, o2) = (open.clone(), open.clone());
    html! {
        <>
            <button type="button" class="link danger" onclick={move |_| o1.set(true)} aria-haspopup="dialog"
                aria-label={i18n.ta("action-delete-named", &name())}>{ i18n.t("action-delete") }</button>
            if *open {
                <ConfirmDialog title={i18n.ta("action-confirm-delete", &name())} text={i18n.t("dialog-delete-text")}
                    confirm={i18n.t("action-delete")} on_confirm={go} on_cancel={move |_| o2.set(false)} />
            }
        </>
    }
}

// ---------------------------------------------------------------- data tables

/// What a column sorts by, one per cell.
#[derive(Clone, PartialEq)]
pub enum SortKey {
    Text(String),
    Num(i64),
}

impl SortKey {
    fn cmp(&self, other: &SortKey) -> std::cmp::Ordering {
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.cmp(b),
            (SortKey::Text(a), SortKey::Text(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
            (SortKey::Num(_), _) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        }
    }
}

impl From<&str> for SortKey {
    fn from(s: &str) -> Self {
        SortKey::Text(s.to_string())
    }
}
impl From<String> for SortKey {
    fn from(s: String) -> Self {
        SortKey::Text(s)
    }
}
impl From<i64> for SortKey {
    fn from(n: i64) -> Self {
        SortKey::Num(n)
    }
}

/// A column: its header and whether it sorts.
#[derive(Clone, PartialEq)]
pub struct Col {
    pub label: String,
    pub sort: bool,
    pub num: bool,
    /// The header is read by screen readers only (the actions column).
    pub hidden: bool,
}

impl Col {
    pub fn new(label: String) -> Col {
        Col {
            label,
            sort: true,
            num: false,
            hidden: false,
        }
    }
    pub fn num(label: String) -> Col {
        Col {
            num: true,
            ..Col::new(label)
        }
    }
    /// A column that does not sort.
    pub fn plain(label: String) -> Col {
        Col {
            sort: false,
            ..Col::new(label)
        }
    }
    pub fn actions(i18n: &I18n) -> Col {
        Col {
            hidden: true,
            ..Col::plain(i18n.t("table-actions"))
        }
    }
}

/// A row: its `<tr>` as the page draws it, and the value each column sorts it by.
#[derive(Clone, PartialEq)]
pub struct TableRow {
    pub keys: Vec<SortKey>,
    pub html: Html,
}

pub const PER_PAGE: usize = 20;

/// The rows' order for a sort by column `c` (ascending or not): a stable insertion sort —
/// lists here are short, and it keeps the wasm smaller than the standard library's sort.
fn sorted(rows: &[TableRow], sort: Option<(usize, bool)>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let Some((c, asc)) = sort else { return order };
    let before = |a: usize, b: usize| match (rows[a].keys.get(c), rows[b].keys.get(c)) {
        (Some(x), Some(y)) => {
            let o = x.cmp(y);
            if asc {
                o.is_lt()
            } else {
                o.is_gt()
            }
        }
        _ => false,
    };
    for i in 1..order.len() {
        let mut j = i;
        while j > 0 && before(order[j], order[j - 1]) {
            order.swap(j, j - 1);
            j -= 1;
        }
    }
    order
}

#[derive(Properties, PartialEq)]
pub struct DataTableProps {
    pub id: AttrValue,
    #[prop_or_default]
    pub caption: Option<String>,
    pub cols: Vec<Col>,
    pub rows: Vec<TableRow>,
    /// Rows per page here; 0 when the page pages on the server (it shows its own pager).
    #[prop_or(PER_PAGE)]
    pub per_page: usize,
}

/// A table whose headers sort (a button in each: ascending, then descending; `aria-sort`
/// on the sorted one) and that pages by itself when it has more rows than `per_page`.
#[function_component]
pub fn DataTable(p: &DataTableProps) -> Html {
    let sort = use_state(|| None::<(usize, bool)>);
    let page = use_state(|| 1i64);
    let order = sorted(&p.rows, *sort);
    let per = p.per_page;
    let total = p.rows.len() as i64;
    let (shown, pager) = if per > 0 && p.rows.len() > per {
        let pages = (total + per as i64 - 1) / per as i64;
        let cur = (*page).clamp(1, pages);
        let start = (cur as usize - 1) * per;
        let on_page = {
            let page = page.clone();
            Callback::from(move |n| page.set(n))
        };
        (
            &order[start..(start + per).min(order.len())],
            html! { <Pager page={cur} per_page={per as i64} {total} {on_page} /> },
        )
    } else {
        (&order[..], html! {})
    };
    let heads = p.cols.iter().enumerate().map(|(i, c)| {
        let state = match *sort {
            Some((s, asc)) if s == i => Some(asc),
            _ => None,
        };
        let aria = state.map(|asc| if asc { "ascending" } else { "descending" });
        let label = if c.hidden {
            html! { <span class="sr-only">{ &c.label }</span> }
        } else if c.sort {
            let (sort, page) = (sort.clone(), page.clone());
            let mark = match state {
                Some(true) => "▲",
                Some(false) => "▼",
                None => "↕",
            };
            html! {
                <button type="button" class="sort" onclick={move |_| {
                    sort.set(Some((i, state != Some(true))));
                    page.set(1);
                }}>{ &c.label }<span class="sort-mark" aria-hidden="true">{ mark }</span></button>
            }
        } else {
            html! { { &c.label } }
        };
        html! { <th scope="col" class={classes!(c.num.then_some("num"))} aria-sort={aria}>{ label }</th> }
    });
    html! {
        <div class="table-wrap">
            <table class="data" id={p.id.clone()}>
                if let Some(c) = &p.caption { <caption class="sr-only">{ c }</caption> }
                <thead><tr>{ for heads }</tr></thead>
                <tbody>{ for shown.iter().map(|&i| p.rows[i].html.clone()) }</tbody>
            </table>
            { pager }
        </div>
    }
}

// ---------------------------------------------------------------- numbers → flows

/// Re-runs `reload` whenever `version` changes after the first render (a sibling card changed
/// what this one shows).
#[hook]
pub fn use_reload_on(version: u32, reload: Callback<()>) {
    let seen = use_mut_ref(|| version);
    use_effect_with(version, move |v| {
        if *seen.borrow() != *v {
            *seen.borrow_mut() = *v;
            reload.emit(());
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct DidFlowPickerProps {
    /// The tenant's flows (`/ivr/flows`).
    pub flows: Rc<Vec<hotline_wire::calls::FlowDto>>,
    /// The catalog key of the text shown when the tenant has no numbers.
    pub empty_key: AttrValue,
    /// Bumped by the page when something else changed the numbers.
    #[prop_or_default]
    pub version: u32,
}

/// The tenant's numbers (`/ivr/dids`), each with a picker of the published flow answering
/// it ("Default flow" removes the assignment; a flow no longer published still shows,
/// marked). Used by the IVR page and the Numbers page.
#[function_component]
pub fn DidFlowPicker(p: &DidFlowPickerProps) -> Html {
    use hotline_wire::calls::{DidDto, DidFlow};
    let i18n = use_i18n();
    let toast = use_toast();
    let (dids, reload) = use_get::<Vec<DidDto>>("/ivr/dids".into());
    use_reload_on(p.version, reload.clone());
    let assign = |did: String| {
        let (reload, i18n, flows, toast) =
            (reload.clone(), i18n.clone(), p.flows.clone(), toast.clone());
        Callback::from(move |v: String| {
            let (reload, did, toast, i18n) =
                (reload.clone(), did.clone(), toast.clone(), i18n.clone());
            let flow = v.parse::<uuid::Uuid>().ok();
            let flow_name = flow
                .and_then(|id| flows.iter().find(|f| f.id == id))
                .map(|f| f.name.clone())
                .unwrap_or_else(|| i18n.t("numbers-default-flow"));
            let done = i18n.ta(
                "numbers-flow-set",
                &[("did", did.clone().into()), ("flow", flow_name.into())],
            );
            spawn(async move {
                let r = match flow {
                    Some(flow_id) => {
                        let body = DidFlow {
                            did: did.clone(),
                            flow_id,
                        };
                        api::put::<_, DidFlow>("/ivr/dids", &body).await.map(|_| ())
                    }
                    None => match api::delete(&format!("/ivr/dids/{}", api::enc(&did))).await {
                        Err(e) if e.status() == Some(404) => Ok(()),
                        r => r,
                    },
                };
                match r {
                    Ok(()) => toast.ok(done),
                    Err(e) => toast.error(error_text(&i18n, &e)),
                }
                reload.emit(());
            });
        })
    };
    let list = render_load(&dids, &reload, |ds| {
        if ds.is_empty() {
            return html! { <p class="empty" id="dids-empty">{ i18n.t(&p.empty_key) }</p> };
        }
        let cols = vec![
            Col::new(i18n.t("numbers-number")),
            Col::new(i18n.t("numbers-region")),
            Col::plain(i18n.t("numbers-answered-by")),
        ];
        let rows = ds.iter().map(|d| {
            // Published flows, and the current one even if it is not live any more.
            let mut options = vec![(String::new(), i18n.t("numbers-default-flow"))];
            options.extend(
                p.flows
                    .iter()
                    .filter(|f| f.published_version.is_some() || Some(f.id) == d.flow_id)
                    .map(|f| {
                        let label = if f.published_version.is_some() {
                            f.name.clone()
                        } else {
                            i18n.ta("numbers-flow-not-live", &[("flow", f.name.clone().into())])
                        };
                        (f.id.to_string(), label)
                    }),
            );
            let digits: String = d.did.chars().filter(|c| c.is_ascii_digit()).collect();
            TableRow {
                keys: vec![d.did.as_str().into(), d.region.as_str().into()],
                html: html! {
                    <tr key={d.did.clone()} data-did={d.did.clone()}>
                        <td>{ &d.did }</td>
                        <td>{ &d.region }</td>
                        <td>
                            <SelectField id={format!("did-flow-{digits}")}
                                label={i18n.ta("numbers-flow-of", &[("did", d.did.clone().into())])}
                                value={d.flow_id.map(|f| f.to_string()).unwrap_or_default()}
                                options={options} onchange={assign(d.did.clone())} />
                        </td>
                    </tr>
                },
            }
        });
        html! { <DataTable id="dids-table" caption={i18n.t("numbers-mine-title")} {cols} rows={rows.collect::<Vec<_>>()} /> }
    });
    list
}
