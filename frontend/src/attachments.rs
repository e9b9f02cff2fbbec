//! Attachments of a ticket or a knowledge-base article: the list with download links, an
//! upload button (size and type are checked by the server; its refusal is shown as is) and
//! removal for those who may change the owner.

use hotline_wire::tickets::FileDto;
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

#[derive(Properties, PartialEq)]
pub struct AttachmentsProps {
    /// Collection path under `/api/v1`, e.g. `/tickets/<id>/attachments`.
    pub base: AttrValue,
    /// Prefix for element ids (`ticket`, `kb`).
    pub id: AttrValue,
    /// Upload and remove buttons are shown.
    #[prop_or(true)]
    pub editable: bool,
}

/// `1.5 MB`-style size.
pub fn size_text(i18n: &I18n, bytes: i64) -> String {
    let (n, key) = match bytes {
        b if b >= 1 << 20 => (b as f64 / (1 << 20) as f64, "size-mb"),
        b if b >= 1 << 10 => (b as f64 / (1 << 10) as f64, "size-kb"),
        b => return i18n.ta("size-bytes", &[("n", i18n.number(b).into())]),
    };
    i18n.ta(key, &[("n", i18n.decimal(n, 1, 1).into())])
}

#[function_component]
pub fn Attachments(p: &AttachmentsProps) -> Html {
    let i18n = use_i18n();
    let (files, reload) = use_get::<Vec<FileDto>>(p.base.to_string());
    let busy = use_state(|| false);
    let failure = use_state(|| None::<ApiError>);
    let input = use_node_ref();

    let on_file = {
        let (base, busy, failure, reload, input) = (
            p.base.to_string(),
            busy.clone(),
            failure.clone(),
            reload.clone(),
            input.clone(),
        );
        Callback::from(move |_: Event| {
            let Some(el) = input.cast::<web_sys::HtmlInputElement>() else {
                return;
            };
            let Some(file) = el.files().and_then(|l| l.get(0)) else {
                return;
            };
            let (base, busy, failure, reload) =
                (base.clone(), busy.clone(), failure.clone(), reload.clone());
            busy.set(true);
            failure.set(None);
            el.set_value("");
            spawn(async move {
                let r = api::upload_form::<FileDto>(&base, &file).await;
                busy.set(false);
                match r {
                    Ok(_) => reload.emit(()),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let remove = {
        let (base, failure, reload) = (p.base.to_string(), failure.clone(), reload.clone());
        move |id: Uuid| {
            let (base, failure, reload) = (base.clone(), failure.clone(), reload.clone());
            Callback::from(move |_: MouseEvent| {
                let (base, failure, reload) = (base.clone(), failure.clone(), reload.clone());
                spawn(async move {
                    match api::delete(&format!("{base}/{id}")).await {
                        Ok(()) => reload.emit(()),
                        Err(e) => failure.set(Some(e)),
                    }
                });
            })
        }
    };

    let list = render_load(&files, &reload, |fs| {
        if fs.is_empty() {
            return html! { <p class="muted" id={format!("{}-attachments-empty", p.id)}>{ i18n.t("attachments-none") }</p> };
        }
        html! {
            <ul class="attachments" id={format!("{}-attachments", p.id)}>
                { for fs.iter().map(|f| html! {
                    <li data-name={f.name.clone()}>
                        <a href={format!("/api/v1{}/{}", p.base, f.id)} download={f.name.clone()}>{ &f.name }</a>
                        <span class="muted small">{ " · " }{ size_text(&i18n, f.size) }{ " · " }{ &f.content_type }</span>
                        if p.editable {
                            <button type="button" class="link attachment-remove" onclick={remove(f.id)}
                                aria-label={i18n.ta("attachments-remove", &[("name", f.name.clone().into())])}>{ "×" }</button>
                        }
                    </li>
                }) }
            </ul>
        }
    });
    let upload_error = failure.as_ref().map(|e| {
        // The server's own words for the two refusals users meet most: too big, wrong type.
        let text = match e.status() {
            Some(413) => i18n.t("attachments-too-large"),
            Some(415) => i18n.t("attachments-bad-type"),
            _ => error_text(&i18n, e),
        };
        html! { <div class="alert error" role="alert" id={format!("{}-attachment-error", p.id)}>{ text }</div> }
    });
    html! {
        <section class="card attachments-card" aria-labelledby={format!("{}-attachments-h", p.id)}>
            <h2 id={format!("{}-attachments-h", p.id)}>{ i18n.t("attachments-title") }</h2>
            { list }
            { for upload_error }
            if p.editable {
                <div class="field">
                    <label for={format!("{}-attachment-file", p.id)}>{ i18n.t("attachments-add") }</label>
                    <input type="file" ref={input} id={format!("{}-attachment-file", p.id)}
                        onchange={on_file} disabled={*busy} />
                    if *busy { <p class="hint">{ i18n.t("attachments-uploading") }</p> }
                </div>
            }
        </section>
    }
}
