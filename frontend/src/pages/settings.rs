//! Tenant settings that had only an API: API keys (`api_keys.write`: create — the secret is
//! shown once —, list, revoke) and the settings page (`settings.write`): how long call
//! recordings are kept, the knowledge base's search language, the CRM's country code.

use hotline_wire::api::{ApiKeyDto, CreateApiKey, CreatedApiKey, RoleDto};
use hotline_wire::calls::RecordingSettings;
use hotline_wire::crm::{CrmSettings, KbSettings};
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

// ---------------------------------------------------------------- API keys

#[function_component]
pub fn ApiKeysPage() -> Html {
    let i18n = use_i18n();
    let (keys, reload) = use_get::<Vec<ApiKeyDto>>("/api-keys".into());
    let (roles, reload_roles) = use_get::<Vec<RoleDto>>("/roles".into());
    let created = use_state(|| None::<CreatedApiKey>);
    let failure = use_state(|| None::<ApiError>);
    let confirming = use_state(|| None::<Uuid>);

    let role_name = |id: Uuid| -> String {
        match &roles {
            Load::Ready(rs) => rs
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| i18n.t("apikey-role-gone")),
            _ => String::new(),
        }
    };
    let list = render_load(&keys, &reload, |ks| {
        if ks.is_empty() {
            return html! { <p class="empty" id="api-keys-empty">{ i18n.t("apikey-none") }</p> };
        }
        html! {
            <table class="data" id="api-keys">
                <thead><tr>
                    <th scope="col">{ i18n.t("apikey-name") }</th>
                    <th scope="col">{ i18n.t("apikey-starts-with") }</th>
                    <th scope="col">{ i18n.t("apikey-role") }</th>
                    <th scope="col">{ i18n.t("apikey-created") }</th>
                    <th scope="col">{ i18n.t("apikey-last-used") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for ks.iter().map(|k| {
                    let id = k.id;
                    let asking = *confirming == Some(id);
                    let ask = { let c = confirming.clone(); move |_| c.set(Some(id)) };
                    let cancel = { let c = confirming.clone(); move |()| c.set(None) };
                    let revoke = {
                        let (c, reload, failure) = (confirming.clone(), reload.clone(), failure.clone());
                        move |()| {
                            let (reload, failure) = (reload.clone(), failure.clone());
                            failure.set(None);
                            c.set(None);
                            spawn(async move {
                                if let Err(e) = api::delete(&format!("/api-keys/{id}")).await {
                                    failure.set(Some(e));
                                }
                                reload.emit(());
                            });
                        }
                    };
                    let named = |key: &str| i18n.ta(key, &[("name", k.name.clone().into())]);
                    html! {
                        <tr data-name={k.name.clone()}>
                            <td>{ &k.name }</td>
                            <td><code>{ format!("{}…", k.prefix) }</code></td>
                            <td>{ role_name(k.role_id) }</td>
                            <td>{ i18n.datetime(&k.created_at) }</td>
                            <td>{ k.last_used_at.as_ref().map_or_else(|| i18n.t("apikey-never"), |t| i18n.datetime(t)) }</td>
                            <td class="actions">
                                <button type="button" class="link danger api-key-revoke" onclick={ask} aria-haspopup="dialog"
                                    aria-label={named("apikey-revoke-of")}>{ i18n.t("apikey-revoke") }</button>
                                if asking {
                                    <ConfirmDialog title={named("apikey-revoke-confirm")} text={i18n.t("dialog-delete-text")}
                                        confirm={i18n.t("apikey-revoke")} confirm_id="api-key-revoke-confirm"
                                        on_confirm={revoke} on_cancel={cancel} />
                                }
                            </td>
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });
    let form = match &roles {
        Load::Ready(rs) => {
            let on_created = {
                let (created, reload) = (created.clone(), reload.clone());
                Callback::from(move |k: CreatedApiKey| {
                    created.set(Some(k));
                    reload.emit(());
                })
            };
            html! { <ApiKeyForm roles={rs.to_vec()} {on_created} /> }
        }
        other => render_load(other, &reload_roles, |_| html! {}),
    };
    html! {
        <>
            <h1>{ i18n.t("apikey-title") }</h1>
            <p class="muted">{ i18n.t("apikey-intro") }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            if let Some(k) = &*created {
                <div class="alert ok" role="status" id="api-key-created">
                    <div>
                        <p><strong>{ i18n.ta("apikey-created-named", &[("name", k.key.name.clone().into())]) }</strong></p>
                        <p>{ i18n.t("apikey-shown-once") }</p>
                        <p><code id="api-key-secret" class="secret">{ &k.secret }</code></p>
                    </div>
                    <button type="button" class="link" onclick={let c = created.clone(); move |_| c.set(None)}>{ i18n.t("apikey-copied") }</button>
                </div>
            }
            <div class="two-col">
                <section>{ list }</section>
                { form }
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ApiKeyFormProps {
    roles: Vec<RoleDto>,
    on_created: Callback<CreatedApiKey>,
}

#[function_component]
fn ApiKeyForm(p: &ApiKeyFormProps) -> Html {
    let i18n = use_i18n();
    let name = use_state(String::new);
    let role = use_state(|| {
        p.roles
            .iter()
            .find(|r| !r.builtin)
            .or(p.roles.first())
            .map(|r| r.id.to_string())
            .unwrap_or_default()
    });
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let onsubmit = {
        let (name, role, errors, failure, i18n, done) = (
            name.clone(),
            role.clone(),
            errors.clone(),
            failure.clone(),
            i18n.clone(),
            p.on_created.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut c = Checks::default();
            c.required(&i18n, "name", &name);
            let role_id = role.parse::<Uuid>().ok();
            if role_id.is_none() {
                c.fail("role_id", i18n.t("form-required"));
            }
            errors.set(c.errors.clone());
            failure.set(None);
            let (true, Some(role_id)) = (c.ok(), role_id) else {
                return;
            };
            let body = CreateApiKey {
                name: name.trim().to_string(),
                role_id,
            };
            let (name, errors, failure, done) =
                (name.clone(), errors.clone(), failure.clone(), done.clone());
            spawn(async move {
                match api::post::<_, CreatedApiKey>("/api-keys", &body).await {
                    Ok(k) => {
                        name.set(String::new());
                        done.emit(k);
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let options: Vec<(String, String)> = p
        .roles
        .iter()
        .map(|r| (r.id.to_string(), r.name.clone()))
        .collect();
    html! {
        <form class="card" id="api-key-form" {onsubmit} novalidate=true>
            <h2>{ i18n.t("apikey-new") }</h2>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <TextField id="api-key-name" label={i18n.t("apikey-name")} value={(*name).clone()}
                oninput={let n = name.clone(); Callback::from(move |v| n.set(v))}
                error={errors.get("name").cloned()} required=true hint={Some(i18n.t("apikey-name-hint"))} />
            <SelectField id="api-key-role" label={i18n.t("apikey-role")} value={(*role).clone()} {options}
                onchange={let r = role.clone(); Callback::from(move |v| r.set(v))} error={errors.get("role_id").cloned()} />
            <p class="hint">{ i18n.t("apikey-role-hint") }</p>
            <button type="submit" id="api-key-create" class="primary">{ i18n.t("apikey-create") }</button>
        </form>
    }
}

// ---------------------------------------------------------------- settings

/// Postgres text-search configurations and the languages they are (ISO 639-1).
const TS_LANGUAGES: &[(&str, &str)] = &[
    ("arabic", "ar"),
    ("armenian", "hy"),
    ("basque", "eu"),
    ("catalan", "ca"),
    ("danish", "da"),
    ("dutch", "nl"),
    ("english", "en"),
    ("finnish", "fi"),
    ("french", "fr"),
    ("german", "de"),
    ("greek", "el"),
    ("hindi", "hi"),
    ("hungarian", "hu"),
    ("indonesian", "id"),
    ("irish", "ga"),
    ("italian", "it"),
    ("lithuanian", "lt"),
    ("nepali", "ne"),
    ("norwegian", "no"),
    ("portuguese", "pt"),
    ("romanian", "ro"),
    ("russian", "ru"),
    ("serbian", "sr"),
    ("spanish", "es"),
    ("swedish", "sv"),
    ("tamil", "ta"),
    ("turkish", "tr"),
    ("yiddish", "yi"),
];

/// A language's name in the UI's language (`Intl.DisplayNames`), e.g. `ru` → "rosyjski".
fn language_name(locale: &str, code: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let ctor: js_sys::Function = js_sys::Reflect::get(&intl, &"DisplayNames".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &"type".into(), &"language".into()).ok()?;
    let args = js_sys::Array::of2(&js_sys::Array::of1(&locale.into()), &opts);
    let names = js_sys::Reflect::construct(&ctor, &args).ok()?;
    let of: js_sys::Function = js_sys::Reflect::get(&names, &"of".into())
        .ok()?
        .dyn_into()
        .ok()?;
    of.call1(&names, &code.into()).ok()?.as_string()
}

/// A text-search configuration's name in words, in the UI's language (`russian` → "Russian",
/// "Rosyjski"); `simple` and any configuration without a language have a catalog message.
fn ts_language(i18n: &I18n, cfg: &str) -> String {
    let capitalised = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    };
    if let Some(t) = i18n.try_t(&format!("kblang-{cfg}")) {
        return t;
    }
    TS_LANGUAGES
        .iter()
        .find(|(c, _)| *c == cfg)
        .and_then(|(_, code)| language_name(i18n.locale(), code))
        .map(|n| capitalised(&n))
        .unwrap_or_else(|| capitalised(cfg))
}

#[function_component]
pub fn SettingsPage() -> Html {
    let i18n = use_i18n();
    let (rec, reload_rec) = use_get::<RecordingSettings>("/settings/recordings".into());
    let (kb, reload_kb) = use_get::<KbSettings>("/settings/kb".into());
    let (crm, reload_crm) = use_get::<CrmSettings>("/settings/crm".into());
    html! {
        <>
            <h1>{ i18n.t("settings-title") }</h1>
            { render_load(&rec, &reload_rec, |r| html! { <RetentionForm current={r.clone()} /> }) }
            { render_load(&kb, &reload_kb, |k| html! { <KbLanguageForm current={k.clone()} /> }) }
            { render_load(&crm, &reload_crm, |c| html! { <CountryCodeForm current={c.clone()} /> }) }
        </>
    }
}

/// The shared tail of the three settings forms: the error or the saved notice.
fn outcome(failure: &Option<ApiError>, saved: bool, i18n: &I18n) -> Html {
    html! {
        <>
            if let Some(e) = failure { <ErrorBox error={e.clone()} /> }
            if saved { <Notice text={i18n.t("settings-saved")} /> }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct RetentionProps {
    current: RecordingSettings,
}

#[function_component]
fn RetentionForm(p: &RetentionProps) -> Html {
    let i18n = use_i18n();
    let keep_all = use_state(|| p.current.retention_days.is_none());
    let days = use_state(|| {
        p.current
            .retention_days
            .map(|d| d.to_string())
            .unwrap_or_else(|| "365".into())
    });
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let onsubmit = {
        let (keep_all, days, errors, failure, saved, i18n) = (
            keep_all.clone(),
            days.clone(),
            errors.clone(),
            failure.clone(),
            saved.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            saved.set(false);
            failure.set(None);
            let retention_days = if *keep_all {
                None
            } else {
                match days.trim().parse::<u32>() {
                    Ok(d) if (1..=3650).contains(&d) => Some(d),
                    _ => {
                        errors.set(FieldErrors::from([(
                            "retention_days".to_string(),
                            i18n.t("settings-retention-range"),
                        )]));
                        return;
                    }
                }
            };
            errors.set(FieldErrors::new());
            let body = RecordingSettings { retention_days };
            let (errors, failure, saved) = (errors.clone(), failure.clone(), saved.clone());
            spawn(async move {
                match api::put::<_, RecordingSettings>("/settings/recordings", &body).await {
                    Ok(_) => saved.set(true),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let on_keep = {
        let k = keep_all.clone();
        Callback::from(move |v: bool| k.set(v))
    };
    html! {
        <form class="card" id="retention-form" {onsubmit} novalidate=true>
            <h2>{ i18n.t("settings-recordings") }</h2>
            { outcome(&failure, *saved, &i18n) }
            <Checkbox id="retention-forever" label={i18n.t("settings-keep-forever")} checked={*keep_all} onchange={on_keep} />
            if !*keep_all {
                <TextField id="retention-days" kind="number" label={i18n.t("settings-retention-days")} value={(*days).clone()}
                    oninput={let d = days.clone(); Callback::from(move |v| d.set(v))}
                    error={errors.get("retention_days").cloned()} hint={Some(i18n.t("settings-retention-hint"))} />
            }
            <button type="submit" id="retention-save" class="primary">{ i18n.t("action-save") }</button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct KbProps {
    current: KbSettings,
}

#[function_component]
fn KbLanguageForm(p: &KbProps) -> Html {
    let i18n = use_i18n();
    let lang = use_state(|| p.current.language.clone());
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let onsubmit = {
        let (lang, errors, failure, saved) =
            (lang.clone(), errors.clone(), failure.clone(), saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            saved.set(false);
            failure.set(None);
            let body = KbSettings {
                language: (*lang).clone(),
                available: vec![],
            };
            let (errors, failure, saved) = (errors.clone(), failure.clone(), saved.clone());
            spawn(async move {
                match api::put::<_, KbSettings>("/settings/kb", &body).await {
                    Ok(_) => saved.set(true),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let mut options: Vec<(String, String)> = p
        .current
        .available
        .iter()
        .map(|c| (c.clone(), ts_language(&i18n, c)))
        .collect();
    options.sort_by(|a, b| a.1.cmp(&b.1));
    html! {
        <form class="card" id="kb-language-form" {onsubmit} novalidate=true>
            <h2>{ i18n.t("settings-kb") }</h2>
            { outcome(&failure, *saved, &i18n) }
            <SelectField id="kb-language" label={i18n.t("settings-kb-language")} value={(*lang).clone()} {options}
                onchange={let l = lang.clone(); Callback::from(move |v| l.set(v))} error={errors.get("language").cloned()} />
            <p class="hint">{ i18n.t("settings-kb-hint") }</p>
            <button type="submit" id="kb-language-save" class="primary">{ i18n.t("action-save") }</button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct CrmProps {
    current: CrmSettings,
}

#[function_component]
fn CountryCodeForm(p: &CrmProps) -> Html {
    let i18n = use_i18n();
    let code = use_state(|| p.current.country_code.clone().unwrap_or_default());
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let onsubmit = {
        let (code, errors, failure, saved) =
            (code.clone(), errors.clone(), failure.clone(), saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            saved.set(false);
            failure.set(None);
            let v = code.trim().trim_start_matches('+').to_string();
            let body = CrmSettings {
                country_code: (!v.is_empty()).then_some(v),
            };
            let (errors, failure, saved) = (errors.clone(), failure.clone(), saved.clone());
            spawn(async move {
                match api::put::<_, CrmSettings>("/settings/crm", &body).await {
                    Ok(_) => {
                        errors.set(FieldErrors::new());
                        saved.set(true)
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    html! {
        <form class="card" id="country-code-form" {onsubmit} novalidate=true>
            <h2>{ i18n.t("settings-crm") }</h2>
            { outcome(&failure, *saved, &i18n) }
            <TextField id="country-code" label={i18n.t("settings-country-code")} value={(*code).clone()}
                oninput={let c = code.clone(); Callback::from(move |v| c.set(v))}
                error={errors.get("country_code").cloned()} hint={Some(i18n.t("settings-country-code-hint"))} />
            <button type="submit" id="country-code-save" class="primary">{ i18n.t("action-save") }</button>
        </form>
    }
}
