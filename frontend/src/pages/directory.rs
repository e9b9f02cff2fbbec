//! The company directory on the agent desk: every employee with an extension, their presence
//! (a dot and its word, re-read every few seconds), a search, and Call (this agent's phone
//! calls the colleague's desk phone); during a call also Transfer and Consult to them.

use hotline_wire::calls::{CallbackStarted, DirectoryEntry, TransferRequest};
use serde_json::json;
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::use_i18n;

/// How often presence is re-read.
const REFRESH_MS: u32 = 3_000;

#[derive(Properties, PartialEq)]
pub struct DirectoryProps {
    /// The agent's connected call, if any: rows offer Transfer and Consult to it.
    #[prop_or_default]
    pub call: Option<Uuid>,
}

#[function_component]
pub fn Directory(p: &DirectoryProps) -> Html {
    let i18n = use_i18n();
    let (list, reload) = use_get::<Vec<DirectoryEntry>>("/directory".into());
    let search = use_state(String::new);
    let status = use_state(|| None::<Result<String, ApiError>>);
    {
        let reload = reload.clone();
        use_effect_with((), move |_| {
            let every = gloo_timers::callback::Interval::new(REFRESH_MS, move || reload.emit(()));
            move || drop(every)
        });
    }
    // (what, user): `call`, `transfer` or `consult`.
    let act = {
        let (status, reload, call, i18n) = (status.clone(), reload.clone(), p.call, i18n.clone());
        Callback::from(move |(what, e): (&'static str, DirectoryEntry)| {
            let (status, reload, i18n) = (status.clone(), reload.clone(), i18n.clone());
            status.set(None);
            spawn(async move {
                let name = e.name.clone();
                let r = match (what, call) {
                    ("transfer", Some(c)) => {
                        let body = TransferRequest {
                            extension: Some(e.extension.clone()),
                            ..Default::default()
                        };
                        api::post_empty(&format!("/agent/calls/{c}/transfer"), &body).await
                    }
                    ("consult", Some(c)) => api::post::<_, CallbackStarted>(
                        &format!("/agent/calls/{c}/consult"),
                        &json!({ "extension": e.extension }),
                    )
                    .await
                    .map(|_| ()),
                    _ => api::post::<_, CallbackStarted>(
                        "/agent/internal-call",
                        &json!({ "user_id": e.user_id }),
                    )
                    .await
                    .map(|_| ()),
                };
                let key = format!("directory-{what}-done");
                status.set(Some(
                    r.map(|()| i18n.ta(&key, &[("name", name.into())])),
                ));
                reload.emit(());
            });
        })
    };
    let oninput = {
        let search = search.clone();
        Callback::from(move |v: String| search.set(v))
    };
    let q = search.trim().to_lowercase();
    let body = render_load(&list, &reload, |items| {
        let shown: Vec<&DirectoryEntry> = items
            .iter()
            .filter(|e| {
                q.is_empty()
                    || e.name.to_lowercase().contains(&q)
                    || e.extension.contains(&q)
                    || e.team.as_deref().is_some_and(|t| t.to_lowercase().contains(&q))
            })
            .collect();
        if shown.is_empty() {
            return html! { <p class="muted" id="directory-empty">{ i18n.t("directory-empty") }</p> };
        }
        html! {
            <ul class="directory" id="directory-list">
                { for shown.into_iter().map(|e| {
                    let presence = i18n.t(&format!("directory-presence-{}", e.presence));
                    let button = |what: &'static str, class: &'static str| {
                        let (act, e2) = (act.clone(), e.clone());
                        let onclick = Callback::from(move |_: MouseEvent| act.emit((what, e2.clone())));
                        let label = i18n.ta(&format!("directory-{what}-to"), &[("name", e.name.clone().into())]);
                        html! {
                            <button type="button" {class} {onclick} aria-label={label}
                                id={format!("directory-{what}-{}", e.extension)}
                                disabled={e.presence == "offline"}>
                                { i18n.t(&format!("directory-{what}")) }
                            </button>
                        }
                    };
                    html! {
                        <li data-user={e.user_id.to_string()} data-presence={e.presence.clone()}>
                            <span class={classes!("presence", e.presence.clone())}>
                                <span class="dot" aria-hidden="true"></span>{ presence }
                            </span>
                            <span class="name">{ &e.name }</span>
                            <span class="ext">{ i18n.ta("directory-extension", &[("ext", e.extension.clone().into())]) }</span>
                            if let Some(t) = &e.team { <span class="team muted">{ t }</span> }
                            if p.call.is_some() {
                                { button("transfer", "secondary") }
                                { button("consult", "secondary") }
                            } else {
                                { button("call", "secondary") }
                            }
                        </li>
                    }
                }) }
            </ul>
        }
    });
    html! {
        <div class="directory-panel" id="directory">
            <h3>{ i18n.t("directory-title") }</h3>
            <TextField id="directory-search" label={i18n.t("directory-search")} value={(*search).clone()}
                {oninput} kind="search" />
            { match &*status {
                Some(Ok(t)) => html! { <p class="muted" id="directory-status" role="status">{ t }</p> },
                Some(Err(e)) => html! { <p class="field-error" id="directory-error" role="alert">{ error_text(&i18n, e) }</p> },
                None => html! {},
            } }
            { body }
        </div>
    }
}
