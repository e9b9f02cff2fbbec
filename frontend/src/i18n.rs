//! Translations (Fluent `.ftl` catalogs) and locale-aware formatting.
//!
//! English is compiled in, so the app always has words to show; other catalogs are fetched
//! from `dist/i18n/<lang>-<hash>.ftl` (their URLs come from `index.html`) when chosen, and
//! any message they lack falls back to English.

use std::rc::Rc;

use chrono::{DateTime, Utc};
use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;
use wasm_bindgen::JsValue;
use yew::prelude::*;

const EN_FTL: &str = include_str!("../i18n/en.ftl");
const STORAGE_KEY: &str = "hotline.lang";

/// A language the app offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lang {
    /// Catalog name and `<html lang>`.
    pub code: &'static str,
    /// BCP 47 tag given to `Intl` for dates and numbers.
    pub intl: &'static str,
    /// The language's own name, shown in the picker.
    pub native: &'static str,
}

pub const LANGS: [Lang; 5] = [
    Lang {
        code: "en",
        intl: "en-GB",
        native: "English",
    },
    Lang {
        code: "az",
        intl: "az-Latn-AZ",
        native: "Azərbaycanca",
    },
    Lang {
        code: "pl",
        intl: "pl-PL",
        native: "Polski",
    },
    Lang {
        code: "ru",
        intl: "ru-RU",
        native: "Русский",
    },
    Lang {
        code: "zh",
        intl: "zh-CN",
        native: "简体中文",
    },
];

pub fn lang_by_code(code: &str) -> Option<Lang> {
    LANGS.iter().copied().find(|l| l.code == code)
}

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: &str, source: String) -> Bundle {
    let id: LanguageIdentifier = lang.parse().unwrap_or_default();
    let mut b = FluentBundle::new(vec![id]);
    // Unicode isolation marks around arguments confuse copy/paste and tests; our arguments
    // are names and numbers that do not need bidi isolation.
    b.set_use_isolating(false);
    let res = match FluentResource::try_new(source) {
        Ok(r) => r,
        // A catalog with a syntax error still yields every message it could parse.
        Err((r, _)) => r,
    };
    let _ = b.add_resource(res);
    b
}

/// The active language and its catalog, shared through a context.
#[derive(Clone)]
pub struct I18n {
    pub lang: Lang,
    catalog: Rc<Bundle>,
    english: Rc<Bundle>,
    set_lang: Callback<Lang>,
    /// True while a newly chosen catalog is still being fetched.
    pub switching: bool,
}

impl PartialEq for I18n {
    fn eq(&self, other: &Self) -> bool {
        self.lang == other.lang
            && Rc::ptr_eq(&self.catalog, &other.catalog)
            && self.switching == other.switching
    }
}

impl I18n {
    /// The message `key`, in the active language (English when it has no translation).
    pub fn t(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// The message `key` with arguments, e.g. `("count", 3.into())`.
    pub fn ta(&self, key: &str, args: &[(&str, FluentValue<'static>)]) -> String {
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, v.clone());
        }
        self.format(key, Some(&fa))
    }

    /// Like [`Self::t`], but `None` when no catalog has the message.
    pub fn try_t(&self, key: &str) -> Option<String> {
        self.format_opt(key, None)
    }

    fn format(&self, key: &str, args: Option<&FluentArgs>) -> String {
        self.format_opt(key, args)
            .unwrap_or_else(|| key.to_string())
    }

    fn format_opt(&self, key: &str, args: Option<&FluentArgs>) -> Option<String> {
        for (i, b) in [&self.catalog, &self.english].into_iter().enumerate() {
            if let Some(pattern) = b.get_message(key).and_then(|m| m.value()) {
                if i == 1 && !Rc::ptr_eq(&self.catalog, &self.english) {
                    note_fallback(key);
                }
                let mut errors = vec![];
                return Some(b.format_pattern(pattern, args, &mut errors).into_owned());
            }
        }
        None
    }

    /// A tenant-defined name (category, ticket type, status) in the active language: its
    /// translation from `name_i18n` when there is one, else `name`.
    pub fn pick<'a>(
        &self,
        name: &'a str,
        name_i18n: &'a hotline_wire::names::Translations,
    ) -> &'a str {
        hotline_wire::names::pick(name, name_i18n, self.lang.code)
    }

    /// A category path (`Billing › Payment`) in the active language; `path_i18n` is parallel
    /// to `path` (the API's `category_path_i18n`).
    pub fn pick_path(
        &self,
        path: &[String],
        path_i18n: &[hotline_wire::names::Translations],
    ) -> String {
        hotline_wire::names::pick_path(path, path_i18n, self.lang.code).join(" › ")
    }

    pub fn set_lang(&self, lang: Lang) {
        self.set_lang.emit(lang);
    }

    /// A date and time in the active locale (e.g. `23 Nov 2025, 16:05`).
    pub fn datetime(&self, at: &DateTime<Utc>) -> String {
        let opts = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&opts, &"dateStyle".into(), &"medium".into());
        let _ = js_sys::Reflect::set(&opts, &"timeStyle".into(), &"short".into());
        self.js_date(at)
            .to_locale_string(self.lang.intl, &opts)
            .into()
    }

    /// A time of day in the active locale, with seconds.
    pub fn time(&self, at: &DateTime<Utc>) -> String {
        let opts = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&opts, &"timeStyle".into(), &"medium".into());
        self.js_date(at)
            .to_locale_time_string_with_options(self.lang.intl, &opts)
            .into()
    }

    /// The active locale's `Intl` tag (e.g. `pl-PL`).
    pub fn locale(&self) -> &'static str {
        self.lang.intl
    }

    /// A number in the active locale (grouping separators and so on).
    pub fn number(&self, n: i64) -> String {
        js_sys::Number::from(n as f64)
            .to_locale_string(self.lang.intl)
            .into()
    }

    /// A decimal number in the active locale with `min..=max` fraction digits
    /// (`1.5` in English, `1,5` in Polish, Russian and Azerbaijani).
    pub fn decimal(&self, x: f64, min_digits: u32, max_digits: u32) -> String {
        use wasm_bindgen::JsCast;
        let opts = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&opts, &"minimumFractionDigits".into(), &min_digits.into());
        let _ = js_sys::Reflect::set(&opts, &"maximumFractionDigits".into(), &max_digits.into());
        let n = js_sys::Number::from(x);
        js_sys::Reflect::get(&n, &"toLocaleString".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call2(&n, &self.lang.intl.into(), &opts).ok())
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| format!("{x:.prec$}", prec = max_digits as usize))
    }

    fn js_date(&self, at: &DateTime<Utc>) -> js_sys::Date {
        js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64))
    }
}

/// Records that `key` was shown in English because the active catalog lacks it: added to the
/// JS `Set` `window.__hotlineFallbacks`, which `tests/tests/browser_all_routes.rs` reads after
/// each page (and clears before the next). Always on: one `Set.add` per untranslated message
/// rendered, nothing at all once the catalogs are complete.
fn note_fallback(key: &str) {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let name = JsValue::from_str("__hotlineFallbacks");
    let set = match js_sys::Reflect::get(&window, &name) {
        Ok(v) if v.is_instance_of::<js_sys::Set>() => js_sys::Set::from(v),
        _ => {
            let set = js_sys::Set::new(&JsValue::UNDEFINED);
            let _ = js_sys::Reflect::set(&window, &name, &set);
            set
        }
    };
    set.add(&JsValue::from_str(key));
}

/// The URL of a catalog in `dist/`, from the JSON that `build.sh` writes into `index.html`.
fn catalog_url(code: &str) -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let json = doc.get_element_by_id("hotline-catalogs")?.text_content()?;
    let map: std::collections::HashMap<String, String> = serde_json::from_str(&json).ok()?;
    map.get(code).cloned()
}

async fn fetch_text(url: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    let window = web_sys::window()?;
    let resp = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
        .await
        .ok()?;
    let resp: web_sys::Response = resp.dyn_into().ok()?;
    if !resp.ok() {
        return None;
    }
    wasm_bindgen_futures::JsFuture::from(resp.text().ok()?)
        .await
        .ok()?
        .as_string()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The language to start in: the user's last choice, else the browser's, else English.
fn initial_lang() -> Lang {
    if let Some(l) = storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|c| lang_by_code(&c))
    {
        return l;
    }
    let nav = web_sys::window().and_then(|w| w.navigator().language());
    nav.and_then(|n| lang_by_code(n.split('-').next().unwrap_or("")))
        .unwrap_or(LANGS[0])
}

fn set_document_lang(lang: Lang) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = el.set_attribute("lang", lang.code);
    }
}

#[derive(Properties, PartialEq)]
pub struct ProviderProps {
    pub children: Html,
}

/// Holds the active language; switching it re-renders every translated string in place.
#[function_component]
pub fn I18nProvider(props: &ProviderProps) -> Html {
    let english = use_memo((), |_| bundle("en", EN_FTL.to_string()));
    let state = {
        let english = english.clone();
        use_state(move || (LANGS[0], english, false))
    };

    let set_lang = {
        let state = state.clone();
        let english = english.clone();
        Callback::from(move |lang: Lang| {
            if let Some(s) = storage() {
                let _ = s.set_item(STORAGE_KEY, lang.code);
            }
            if lang.code == "en" {
                set_document_lang(lang);
                state.set((lang, english.clone(), false));
                return;
            }
            state.set((state.0, state.1.clone(), true));
            let state = state.clone();
            let english = english.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let text = match catalog_url(lang.code) {
                    Some(url) => fetch_text(&url).await,
                    None => None,
                };
                match text {
                    Some(t) => {
                        set_document_lang(lang);
                        state.set((lang, Rc::new(bundle(lang.code, t)), false));
                    }
                    // Catalog unreachable: stay readable in English.
                    None => state.set((LANGS[0], english, false)),
                }
            });
        })
    };

    {
        let set_lang = set_lang.clone();
        use_effect_with((), move |_| {
            let lang = initial_lang();
            if lang.code != "en" {
                set_lang.emit(lang);
            }
        });
    }

    let ctx = I18n {
        lang: state.0,
        catalog: state.1.clone(),
        english: english.clone(),
        set_lang,
        switching: state.2,
    };
    html! {
        <ContextProvider<I18n> context={ctx}>{ props.children.clone() }</ContextProvider<I18n>>
    }
}

/// The active language and catalog.
#[hook]
pub fn use_i18n() -> I18n {
    use_context::<I18n>().expect("I18nProvider is at the root of the app")
}

/// The language picker: a labelled `<select>` that switches the whole app live.
#[function_component]
pub fn LangPicker() -> Html {
    let i18n = use_i18n();
    let onchange = {
        let i18n = i18n.clone();
        Callback::from(move |e: Event| {
            let sel: web_sys::HtmlSelectElement = e.target_unchecked_into();
            if let Some(l) = lang_by_code(&sel.value()) {
                i18n.set_lang(l);
            }
        })
    };
    html! {
        <div class="lang-picker">
            <label for="lang-picker">{ i18n.t("shell-language") }</label>
            <select id="lang-picker" {onchange} aria-busy={i18n.switching.to_string()}>
                { for LANGS.iter().map(|l| html! {
                    <option value={l.code} lang={l.code} selected={l.code == i18n.lang.code}>{ l.native }</option>
                }) }
            </select>
        </div>
    }
}
