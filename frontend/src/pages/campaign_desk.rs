//! The agent's side of agent campaigns, in the softphone pane: the campaign script of the
//! contact on the line (questions follow the branches of the answers given; Save keeps the
//! answers on the contact), and preview mode (take the next contact, read it, then call or
//! skip it).

use std::collections::BTreeMap;

use hotline_wire::calls::CallbackStarted;
use hotline_wire::campaigns::{script_path, AgentCampaignContact, ScriptAnswers};
use serde_json::json;
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::use_i18n;

#[derive(Properties, PartialEq)]
pub struct ScriptProps {
    /// The campaign contact on the line (or on screen in preview).
    pub contact: Uuid,
}

/// The campaign script for one contact: the questions asked so far (by the answers' branches),
/// each answered with a choice or a free text / number; Save stores the answers.
#[function_component]
pub fn CampaignScript(p: &ScriptProps) -> Html {
    let i18n = use_i18n();
    let (loaded, reload) =
        use_get::<AgentCampaignContact>(format!("/agent/campaign-contacts/{}", p.contact));
    let answers = use_state(|| None::<BTreeMap<String, String>>);
    let saved = use_state(|| false);
    let failure = use_state(|| None::<ApiError>);
    let Load::Ready(c) = &loaded else {
        return html! { <section class="campaign-script" id="campaign-script">{ render_load(&loaded, &reload, |_| html! {}) }</section> };
    };
    let current = (*answers)
        .clone()
        .unwrap_or_else(|| c.contact.answers.clone());
    let path = script_path(&c.script, &current);
    let set = {
        let (answers, saved, current, script) = (
            answers.clone(),
            saved.clone(),
            current.clone(),
            c.script.clone(),
        );
        move |id: String| {
            let (answers, saved, current, script) = (
                answers.clone(),
                saved.clone(),
                current.clone(),
                script.clone(),
            );
            Callback::from(move |v: String| {
                let mut a = current.clone();
                if v.is_empty() {
                    a.remove(&id);
                } else {
                    a.insert(id.clone(), v);
                }
                // Answers to questions a changed branch no longer asks are dropped.
                let asked: Vec<String> = script_path(&script, &a)
                    .into_iter()
                    .map(|i| script[i].id.clone())
                    .collect();
                a.retain(|k, _| asked.contains(k));
                answers.set(Some(a));
                saved.set(false);
            })
        }
    };
    let on_save = {
        let (current, failure, saved, answers, id) = (
            current.clone(),
            failure.clone(),
            saved.clone(),
            answers.clone(),
            p.contact,
        );
        Callback::from(move |_: MouseEvent| {
            let body = ScriptAnswers {
                answers: current.clone(),
            };
            let (failure, saved, answers) = (failure.clone(), saved.clone(), answers.clone());
            failure.set(None);
            spawn(async move {
                match api::put::<_, AgentCampaignContact>(
                    &format!("/agent/campaign-contacts/{id}/answers"),
                    &body,
                )
                .await
                {
                    Ok(c) => {
                        answers.set(Some(c.contact.answers.clone()));
                        saved.set(true);
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    html! {
        <section class="campaign-script card" id="campaign-script" aria-labelledby="campaign-script-h"
            data-contact={p.contact.to_string()}>
            <h3 id="campaign-script-h">{ i18n.ta("desk-campaign-title", &[("name", c.campaign_name.clone().into())]) }</h3>
            <p class="muted" id="campaign-contact">{ format!("{} · {}", c.contact.name, c.contact.phone) }</p>
            if c.script.is_empty() {
                <p class="muted">{ i18n.t("desk-campaign-no-script") }</p>
            }
            { for path.iter().map(|i| {
                let q = &c.script[*i];
                let fid = format!("script-{}", q.id);
                let value = current.get(&q.id).cloned().unwrap_or_default();
                let on = set(q.id.clone());
                if q.kind == "choice" {
                    let mut options = vec![(String::new(), i18n.t("desk-campaign-choose"))];
                    options.extend(q.options.iter().map(|o| (o.value.clone(), o.label.clone())));
                    html! { <SelectField id={fid} label={q.text.clone()} {value} {options} onchange={on} /> }
                } else {
                    let kind = if q.kind == "number" { "number" } else { "text" };
                    html! { <TextField id={fid} label={q.text.clone()} {value} oninput={on} kind={kind} /> }
                }
            }) }
            if !c.script.is_empty() {
                <button type="button" class="primary" id="campaign-script-save" onclick={on_save}>{ i18n.t("desk-campaign-save") }</button>
            }
            if *saved { <p class="muted" role="status" id="campaign-script-saved">{ i18n.t("desk-campaign-saved") }</p> }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct PreviewProps {
    /// A preview call was placed for this contact: its script should stay on screen.
    pub on_dialled: Callback<Uuid>,
}

/// Preview mode: the agent takes the next contact of their queues' preview campaigns, sees
/// who it is (and the script), and calls or skips it.
#[function_component]
pub fn PreviewPane(p: &PreviewProps) -> Html {
    let i18n = use_i18n();
    let current = use_state(|| None::<AgentCampaignContact>);
    let empty = use_state(|| false);
    let failure = use_state(|| None::<ApiError>);
    let next = {
        let (current, empty, failure) = (current.clone(), empty.clone(), failure.clone());
        Callback::from(move |_: MouseEvent| {
            let (current, empty, failure) = (current.clone(), empty.clone(), failure.clone());
            failure.set(None);
            spawn(async move {
                match api::post::<_, Option<AgentCampaignContact>>(
                    "/agent/preview/next",
                    &json!({}),
                )
                .await
                {
                    Ok(c) => {
                        empty.set(c.is_none());
                        current.set(c);
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let act = |verb: &'static str| {
        let (current, failure, on_dialled) =
            (current.clone(), failure.clone(), p.on_dialled.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(c) = (*current).clone() else { return };
            let (current, failure, on_dialled) =
                (current.clone(), failure.clone(), on_dialled.clone());
            failure.set(None);
            spawn(async move {
                let path = format!("/agent/preview/{}/{verb}", c.contact.id);
                let r = if verb == "dial" {
                    api::post::<_, CallbackStarted>(&path, &json!({}))
                        .await
                        .map(|_| ())
                } else {
                    api::post_empty(&path, &json!({})).await
                };
                match r {
                    Ok(()) => {
                        if verb == "dial" {
                            on_dialled.emit(c.contact.id);
                        }
                        current.set(None);
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    html! {
        <section class="preview card" id="preview-pane" aria-labelledby="preview-h">
            <h3 id="preview-h">{ i18n.t("desk-preview-title") }</h3>
            if let Some(c) = &*current {
                <dl class="facts" id="preview-contact" data-contact={c.contact.id.to_string()}>
                    <dt>{ i18n.t("desk-preview-campaign") }</dt><dd>{ &c.campaign_name }</dd>
                    <dt>{ i18n.t("desk-preview-name") }</dt><dd id="preview-name">{ &c.contact.name }</dd>
                    <dt>{ i18n.t("desk-preview-phone") }</dt><dd id="preview-phone">{ &c.contact.phone }</dd>
                    <dt>{ i18n.t("desk-preview-attempts") }</dt><dd>{ c.contact.attempts }</dd>
                </dl>
                <div class="button-row">
                    <button type="button" class="primary" id="preview-dial" onclick={act("dial")}>{ i18n.t("desk-preview-dial") }</button>
                    <button type="button" class="secondary" id="preview-skip" onclick={act("skip")}>{ i18n.t("desk-preview-skip") }</button>
                </div>
                <CampaignScript key={c.contact.id.to_string()} contact={c.contact.id} />
            } else {
                <button type="button" class="secondary" id="preview-next" onclick={next}>{ i18n.t("desk-preview-next") }</button>
                if *empty { <p class="muted" id="preview-empty" role="status">{ i18n.t("desk-preview-empty") }</p> }
            }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
        </section>
    }
}
