//! SIP trunks ("bring your own carrier", `/admin/trunks`): the tenant's trunks with the state
//! the gateways report (re-read every 5 s), an editor grouped as the carrier sees it
//! (carrier, authentication, calls out, calls in, codecs) with a write-only password, and
//! delete with a confirmation. API: `/trunks` (`backend/src/routes/trunks.rs`).

use hotline_wire::trunks::{
    CallerIdRule, NumberFormat, TrunkCodec, TrunkDto, TrunkInput, TrunkMode, TrunkState,
};
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

/// The editor's text fields, as typed.
#[derive(Clone, PartialEq, Default)]
struct Draft {
    id: Option<Uuid>,
    has_password: bool,
    name: String,
    disabled: bool,
    ip: bool,
    host: String,
    port: String,
    proxy: String,
    allowed: String,
    username: String,
    auth_username: String,
    password: String,
    expires: String,
    outbound: bool,
    format: String,
    country: String,
    prefix: String,
    fixed: String,
    same_format: bool,
    dids: String,
    codecs: String,
}

fn fmt_text(f: NumberFormat) -> &'static str {
    match f {
        NumberFormat::E164 => "e164",
        NumberFormat::Digits => "digits",
        NumberFormat::National => "national",
    }
}

const CODEC_ORDERS: [&str; 4] = ["PCMA,PCMU", "PCMU,PCMA", "PCMA", "PCMU"];

impl Draft {
    fn new() -> Self {
        Draft {
            port: "5060".into(),
            expires: "300".into(),
            format: "e164".into(),
            codecs: CODEC_ORDERS[0].into(),
            ..Default::default()
        }
    }
    fn of(t: &TrunkDto) -> Self {
        let codecs = t
            .codecs
            .iter()
            .map(|c| {
                if *c == TrunkCodec::Pcma {
                    "PCMA"
                } else {
                    "PCMU"
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        Draft {
            id: Some(t.id),
            has_password: t.has_password,
            name: t.name.clone(),
            disabled: !t.enabled,
            ip: t.mode == TrunkMode::Ip,
            host: t.host.clone(),
            port: t.port.to_string(),
            proxy: t.outbound_proxy.clone().unwrap_or_default(),
            allowed: t.allowed_ips.join("\n"),
            username: t.username.clone(),
            auth_username: t.auth_username.clone().unwrap_or_default(),
            password: String::new(),
            expires: t.register_expires.to_string(),
            outbound: t.outbound,
            format: fmt_text(t.callee_format).into(),
            country: t.country_code.clone(),
            prefix: t.national_prefix.clone(),
            fixed: t.caller_id.fixed.clone().unwrap_or_default(),
            same_format: t.caller_id.same_format_as_callee,
            dids: t.inbound_dids.join("\n"),
            codecs,
        }
    }
    /// The API body, or the fields that are not numbers.
    fn input(&self, i18n: &I18n) -> Result<TrunkInput, FieldErrors> {
        let mut bad = FieldErrors::new();
        let port = self.port.trim().parse::<u16>().unwrap_or_else(|_| {
            bad.insert("port".into(), i18n.t("trunk-bad-port"));
            0
        });
        let expires = self.expires.trim().parse::<u32>().unwrap_or_else(|_| {
            bad.insert("register_expires".into(), i18n.t("trunk-bad-expires"));
            0
        });
        if !bad.is_empty() {
            return Err(bad);
        }
        let lines = |s: &str| -> Vec<String> {
            s.split(|c: char| c == '\n' || c == ',' || c.is_whitespace())
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(TrunkInput {
            name: self.name.clone(),
            enabled: !self.disabled,
            mode: if self.ip {
                TrunkMode::Ip
            } else {
                TrunkMode::Register
            },
            host: self.host.clone(),
            port,
            outbound_proxy: opt(&self.proxy),
            username: self.username.clone(),
            auth_username: opt(&self.auth_username),
            // Write-only: empty keeps the stored password (a new trunk has none).
            password: opt(&self.password),
            register_expires: expires,
            allowed_ips: lines(&self.allowed),
            codecs: self
                .codecs
                .split(',')
                .map(|c| {
                    if c == "PCMA" {
                        TrunkCodec::Pcma
                    } else {
                        TrunkCodec::Pcmu
                    }
                })
                .collect(),
            callee_format: match self.format.as_str() {
                "digits" => NumberFormat::Digits,
                "national" => NumberFormat::National,
                _ => NumberFormat::E164,
            },
            country_code: self.country.clone(),
            national_prefix: self.prefix.clone(),
            caller_id: CallerIdRule {
                fixed: opt(&self.fixed),
                same_format_as_callee: self.same_format,
            },
            inbound_dids: lines(&self.dids),
            outbound: self.outbound,
        })
    }
}

/// The status pill: what the gateways last reported.
fn pill(i18n: &I18n, t: &TrunkDto) -> Html {
    let (class, state, text) = match (&t.status, t.enabled) {
        (_, false) => ("badge", "disabled", i18n.t("trunk-state-disabled")),
        (None, _) => ("badge", "none", i18n.t("trunk-state-none")),
        (Some(s), _) => match s.state {
            TrunkState::Registered => (
                "badge ok",
                "registered",
                match &s.expires_at {
                    Some(e) => i18n.ta(
                        "trunk-state-registered-until",
                        &[("time", i18n.datetime(e).into())],
                    ),
                    None => i18n.t("trunk-state-registered"),
                },
            ),
            TrunkState::Failed => {
                let why = [s.status.map(|c| c.to_string()), s.reason.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (
                    "badge bad",
                    "failed",
                    i18n.ta("trunk-state-failed", &[("reason", why.into())]),
                )
            }
            TrunkState::Registering => (
                "badge warn",
                "registering",
                i18n.t("trunk-state-registering"),
            ),
            TrunkState::Ip => ("badge ok", "ip", i18n.t("trunk-state-ip")),
        },
    };
    html! { <span class={classes!(class, "trunk-state")} data-state={state}>{ text }</span> }
}

#[function_component]
pub fn TrunksPage() -> Html {
    let i18n = use_i18n();
    let (trunks, reload) = use_get::<Vec<TrunkDto>>("/trunks".into());
    {
        let reload = reload.clone();
        use_effect_with((), move |_| {
            let every = gloo_timers::callback::Interval::new(5_000, move || reload.emit(()));
            move || drop(every)
        });
    }
    let editing = use_state(|| None::<Draft>);
    let confirming = use_state(|| None::<Uuid>);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| None::<String>);

    let list = render_load(&trunks, &reload, |ts| {
        if ts.is_empty() {
            return html! { <p class="empty" id="trunks-empty">{ i18n.t("trunk-none") }</p> };
        }
        html! {
            <table class="data" id="trunks">
                <thead><tr>
                    <th scope="col">{ i18n.t("trunk-name") }</th>
                    <th scope="col">{ i18n.t("trunk-host") }</th>
                    <th scope="col">{ i18n.t("trunk-numbers") }</th>
                    <th scope="col">{ i18n.t("trunk-status") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for ts.iter().map(|t| {
                    let id = t.id;
                    let named = |key: &str| i18n.ta(key, &[("name", t.name.clone().into())]);
                    let edit = { let (e, d) = (editing.clone(), Draft::of(t)); move |_| e.set(Some(d.clone())) };
                    let ask = { let c = confirming.clone(); move |_| c.set(Some(id)) };
                    let cancel = { let c = confirming.clone(); move |_| c.set(None) };
                    let delete = {
                        let (c, reload, failure) = (confirming.clone(), reload.clone(), failure.clone());
                        move |_| {
                            let (c, reload, failure) = (c.clone(), reload.clone(), failure.clone());
                            spawn(async move {
                                c.set(None);
                                if let Err(e) = api::delete(&format!("/trunks/{id}")).await {
                                    failure.set(Some(e));
                                }
                                reload.emit(());
                            });
                        }
                    };
                    html! {
                        <tr data-name={t.name.clone()}>
                            <td>{ &t.name }{ t.outbound.then(|| html! { <>{ " " }<span class="badge">{ i18n.t("trunk-outbound-badge") }</span></> }) }</td>
                            <td><code>{ format!("{}:{}", t.host, t.port) }</code></td>
                            <td>{ t.inbound_dids.join(", ") }</td>
                            <td>{ pill(&i18n, t) }</td>
                            <td class="actions">
                                if *confirming == Some(id) {
                                    <span class="confirm" role="alertdialog" aria-label={named("trunk-delete-confirm")}>
                                        <button type="button" class="danger small trunk-delete-confirm" onclick={delete}>{ named("trunk-delete-confirm") }</button>
                                        <button type="button" class="link" onclick={cancel}>{ i18n.t("action-cancel") }</button>
                                    </span>
                                } else {
                                    <button type="button" class="link trunk-edit" onclick={edit} aria-label={named("action-edit-named")}>{ i18n.t("action-edit") }</button>
                                    <button type="button" class="link danger trunk-delete" onclick={ask} aria-label={named("action-delete-named")}>{ i18n.t("action-delete") }</button>
                                }
                            </td>
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });
    let on_done = {
        let (editing, reload, saved) = (editing.clone(), reload.clone(), saved.clone());
        Callback::from(move |name: Option<String>| {
            saved.set(name);
            editing.set(None);
            reload.emit(());
        })
    };
    html! {
        <>
            <h1>{ i18n.t("trunk-title") }</h1>
            <p class="muted">{ i18n.t("trunk-intro") }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            if let Some(n) = &*saved { <Notice text={i18n.ta("trunk-saved", &[("name", n.clone().into())])} /> }
            { list }
            if let Some(d) = &*editing {
                <TrunkEditor key={d.id.map(|i| i.to_string()).unwrap_or_default()} draft={d.clone()} {on_done} />
            } else {
                <button type="button" class="primary" id="trunk-add"
                    onclick={let (e, s) = (editing.clone(), saved.clone()); move |_| { s.set(None); e.set(Some(Draft::new())) }}>
                    { i18n.t("trunk-add") }
                </button>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct EditorProps {
    draft: Draft,
    /// Saved (the name) or cancelled (`None`).
    on_done: Callback<Option<String>>,
}

#[function_component]
fn TrunkEditor(p: &EditorProps) -> Html {
    let i18n = use_i18n();
    let form = use_reducer(|| Form(p.draft.clone()));
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let d = &form.0;
    // Server errors name list items (`inbound_dids.2`): shown on the list's field.
    let err = |f: &str| {
        errors
            .iter()
            .find(|(k, _)| k.as_str() == f || k.strip_prefix(f).is_some_and(|r| r.starts_with('.')))
            .map(|(_, v)| v.clone())
    };
    let text = |id: &'static str,
                label: &str,
                field: &str,
                value: &str,
                set: fn(&mut Draft, String)| {
        html! { <TextField {id} label={i18n.t(label)} value={value.to_string()} oninput={bind(&form, set)} error={err(field)} /> }
    };
    let check = |id: &'static str, label: &str, value: bool, set: fn(&mut Draft, bool)| {
        let d = form.dispatcher();
        let onchange =
            Callback::from(move |v: bool| d.dispatch(Box::new(move |t: &mut Draft| set(t, v))));
        html! { <Checkbox {id} label={i18n.t(label)} checked={value} {onchange} /> }
    };
    let area = |id: &'static str,
                label: &str,
                hint: &str,
                field: &str,
                value: &str,
                set: fn(&mut Draft, String)| {
        let cb = bind(&form, set);
        let oninput = Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            cb.emit(el.value());
        });
        let e = err(field);
        html! {
            <div class={classes!("field", e.is_some().then_some("invalid"))}>
                <label for={id}>{ i18n.t(label) }</label>
                <textarea {id} rows="3" value={value.to_string()} {oninput}
                    aria-describedby={format!("{id}-hint")} aria-invalid={e.is_some().then_some("true")} />
                <p class="hint" id={format!("{id}-hint")}>{ i18n.t(hint) }</p>
                if let Some(e) = e { <p class="field-error">{ e }</p> }
            </div>
        }
    };
    let onsubmit = {
        let (form, errors, failure, busy, done) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            busy.clone(),
            p.on_done.clone(),
        );
        let i18n = i18n.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let d = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "name", &d.name);
            c.required(&i18n, "host", &d.host);
            let input = match d.input(&i18n) {
                Ok(i) if c.ok() => i,
                Ok(_) => return errors.set(c.errors),
                Err(bad) => return errors.set(bad),
            };
            let (errors, failure, busy, done) =
                (errors.clone(), failure.clone(), busy.clone(), done.clone());
            busy.set(true);
            failure.set(None);
            spawn(async move {
                let r = match d.id {
                    Some(id) => api::put::<_, TrunkDto>(&format!("/trunks/{id}"), &input).await,
                    None => api::post::<_, TrunkDto>("/trunks", &input).await,
                };
                busy.set(false);
                match r {
                    Ok(t) => done.emit(Some(t.name)),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let opts = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(v, k)| (v.to_string(), i18n.t(k)))
            .collect()
    };
    let select = |id: &'static str,
                  label: &str,
                  value: &str,
                  options: Vec<(String, String)>,
                  set: fn(&mut Draft, String)| {
        html! { <SelectField {id} label={i18n.t(label)} value={value.to_string()} {options} onchange={bind(&form, set)} error={err(id.trim_start_matches("trunk-"))} /> }
    };
    let password_label = if d.has_password {
        "trunk-password-change"
    } else {
        "trunk-password-set"
    };
    html! {
        <form class="card" id="trunk-form" {onsubmit} novalidate=true aria-labelledby="trunk-form-title">
            <h2 id="trunk-form-title">{ if d.id.is_some() { i18n.ta("action-edit-named", &[("name", d.name.clone().into())]) } else { i18n.t("trunk-add") } }</h2>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <fieldset><legend>{ i18n.t("trunk-group-carrier") }</legend>
                { text("trunk-name", "trunk-name", "name", &d.name, |t, v| t.name = v) }
                { select("trunk-mode", "trunk-mode", if d.ip { "ip" } else { "register" },
                    opts(&[("register", "trunk-mode-register"), ("ip", "trunk-mode-ip")]), |t, v| t.ip = v == "ip") }
                { text("trunk-host", "trunk-host", "host", &d.host, |t, v| t.host = v) }
                { text("trunk-port", "trunk-port", "port", &d.port, |t, v| t.port = v) }
                { text("trunk-proxy", "trunk-proxy", "outbound_proxy", &d.proxy, |t, v| t.proxy = v) }
                { area("trunk-allowed", "trunk-allowed", "trunk-allowed-hint", "allowed_ips", &d.allowed, |t, v| t.allowed = v) }
                { check("trunk-disabled", "trunk-disabled", d.disabled, |t, v| t.disabled = v) }
            </fieldset>
            <fieldset><legend>{ i18n.t("trunk-group-auth") }</legend>
                { text("trunk-username", "trunk-username", "username", &d.username, |t, v| t.username = v) }
                { text("trunk-auth-username", "trunk-auth-username", "auth_username", &d.auth_username, |t, v| t.auth_username = v) }
                <TextField id="trunk-password" label={i18n.t(password_label)} kind="password" autocomplete="new-password"
                    value={d.password.clone()} oninput={bind(&form, |t, v| t.password = v)} error={err("password")}
                    hint={d.has_password.then(|| i18n.t("trunk-password-kept"))} />
                { text("trunk-expires", "trunk-expires", "register_expires", &d.expires, |t, v| t.expires = v) }
            </fieldset>
            <fieldset><legend>{ i18n.t("trunk-group-out") }</legend>
                { check("trunk-outbound", "trunk-outbound", d.outbound, |t, v| t.outbound = v) }
                { select("trunk-callee_format", "trunk-format", &d.format,
                    opts(&[("e164", "trunk-format-e164"), ("digits", "trunk-format-digits"), ("national", "trunk-format-national")]), |t, v| t.format = v) }
                { text("trunk-country", "trunk-country", "country_code", &d.country, |t, v| t.country = v) }
                { text("trunk-prefix", "trunk-prefix", "national_prefix", &d.prefix, |t, v| t.prefix = v) }
                { text("trunk-fixed", "trunk-fixed", "caller_id", &d.fixed, |t, v| t.fixed = v) }
                { check("trunk-same-format", "trunk-same-format", d.same_format, |t, v| t.same_format = v) }
            </fieldset>
            <fieldset><legend>{ i18n.t("trunk-group-in") }</legend>
                { area("trunk-dids", "trunk-dids", "trunk-dids-hint", "inbound_dids", &d.dids, |t, v| t.dids = v) }
            </fieldset>
            <fieldset><legend>{ i18n.t("trunk-group-codecs") }</legend>
                { select("trunk-codecs", "trunk-codecs", &d.codecs,
                    CODEC_ORDERS.iter().map(|o| (o.to_string(), o.replace(',', ", "))).collect(), |t, v| t.codecs = v) }
            </fieldset>
            <button type="submit" class="primary" id="trunk-save" disabled={*busy}>{ i18n.t("action-save") }</button>
            { " " }
            <button type="button" class="secondary" onclick={let d = p.on_done.clone(); move |_| d.emit(None)}>{ i18n.t("action-cancel") }</button>
        </form>
    }
}
