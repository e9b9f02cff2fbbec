//! Building blocks shared by every screen: form fields, loading and error states, paging.

use std::rc::Rc;

use serde::de::DeserializeOwned;
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
