//! Knowledge-base editing: the category tree with its articles, the article editor, the
//! version history (diff against the current text, restore) and the review workflow.

use hotline_wire::crm::{
    KbArticleDto, KbArticleInput, KbCategoryDto, KbCategoryInput, KbDiffLine, KbTransition,
    KbVersionDto,
};
use hotline_wire::permissions as perm;
use uuid::Uuid;
use yew::prelude::*;

use super::org::save;
use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::use_app;

/// Categories as `(id, indented name)`, parents before children.
fn category_options(cats: &[KbCategoryDto]) -> Vec<(Uuid, String, usize)> {
    fn walk(
        cats: &[KbCategoryDto],
        parent: Option<Uuid>,
        depth: usize,
        out: &mut Vec<(Uuid, String, usize)>,
    ) {
        let mut kids: Vec<&KbCategoryDto> = cats.iter().filter(|c| c.parent_id == parent).collect();
        kids.sort_by(|a, b| (a.position, &a.name).cmp(&(b.position, &b.name)));
        for c in kids {
            if out.iter().any(|(id, _, _)| *id == c.id) {
                continue;
            }
            out.push((c.id, c.name.clone(), depth));
            walk(cats, Some(c.id), depth + 1, out);
        }
    }
    let mut out = vec![];
    walk(cats, None, 0, &mut out);
    out
}

fn status_text(i18n: &I18n, s: &str) -> String {
    i18n.try_t(&format!("kb-status-{s}"))
        .unwrap_or_else(|| s.to_string())
}

/// What the editor shows: an existing article or a new one.
#[derive(Clone, PartialEq)]
enum Selected {
    None,
    New,
    Article(Uuid),
}

#[function_component]
pub fn KbEditPage() -> Html {
    let i18n = use_i18n();
    let (cats, reload_cats) = use_get::<Vec<KbCategoryDto>>("/kb/categories".into());
    let (articles, reload_articles) = use_get::<Vec<KbArticleDto>>("/kb/articles".into());
    let selected = use_state(|| Selected::None);
    let new_cat = use_state(String::new);
    let new_cat_parent = use_state(String::new);
    let cat_errors = use_state(FieldErrors::new);

    let add_category = {
        let (new_cat, parent, errors, reload, i18n) = (
            new_cat.clone(),
            new_cat_parent.clone(),
            cat_errors.clone(),
            reload_cats.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = KbCategoryInput {
                name: new_cat.trim().to_string(),
                parent_id: parent.parse().ok(),
                position: 0,
            };
            let (new_cat, errors, reload, i18n) = (
                new_cat.clone(),
                errors.clone(),
                reload.clone(),
                i18n.clone(),
            );
            spawn(async move {
                match api::post::<_, KbCategoryDto>("/kb/categories", &body).await {
                    Ok(_) => {
                        new_cat.set(String::new());
                        errors.set(FieldErrors::new());
                        reload.emit(());
                    }
                    Err(e) => {
                        let mut fe = e.field_errors();
                        if fe.is_empty() {
                            fe.insert("name".into(), error_text(&i18n, &e));
                        }
                        errors.set(fe);
                    }
                }
            });
        })
    };

    let tree = match (&cats, &articles) {
        (Load::Ready(cs), Load::Ready(arts)) => {
            let rows = category_options(cs);
            html! {
                <ul class="kb-tree" id="kb-tree">
                    { for rows.iter().map(|(id, name, depth)| {
                        let style = format!("padding-left:{}rem", *depth as f64 * 1.1);
                        html! {
                            <li {style} data-category={id.to_string()}>
                                <span class="tree-name">{ name }</span>
                                <ul class="kb-articles">
                                    { for arts.iter().filter(|a| a.category_id == *id).map(|a| {
                                        let sel = selected.clone();
                                        let aid = a.id;
                                        let active = *selected == Selected::Article(a.id);
                                        html! {
                                            <li>
                                                <button type="button" class={classes!("link", "kb-article-link", active.then_some("active"))}
                                                    data-id={a.id.to_string()} onclick={move |_| sel.set(Selected::Article(aid))}>{ &a.title }</button>
                                                { " " }<span class={classes!("badge", format!("kb-{}", a.status))}>{ status_text(&i18n, &a.status) }</span>
                                            </li>
                                        }
                                    }) }
                                </ul>
                            </li>
                        }
                    }) }
                </ul>
            }
        }
        (Load::Failed(e), _) => {
            html! { <ErrorBox error={e.clone()} retry={reload_cats.clone()} /> }
        }
        (_, Load::Failed(e)) => {
            html! { <ErrorBox error={e.clone()} retry={reload_articles.clone()} /> }
        }
        _ => html! { <Loading /> },
    };

    let mut parent_opts = vec![(String::new(), i18n.t("kb-category-top"))];
    if let Load::Ready(cs) = &cats {
        parent_opts.extend(
            category_options(cs)
                .into_iter()
                .map(|(id, n, d)| (id.to_string(), format!("{}{n}", "\u{2003}".repeat(d)))),
        );
    }
    let editor = match (&*selected, &cats, &articles) {
        (Selected::None, _, _) => {
            html! { <p class="placeholder card" id="kb-editor-placeholder">{ i18n.t("kb-pick-article") }</p> }
        }
        (sel, Load::Ready(cs), Load::Ready(arts)) => {
            let article = match sel {
                Selected::Article(id) => arts.iter().find(|a| a.id == *id).cloned(),
                _ => None,
            };
            let key = article
                .as_ref()
                .map(|a| a.id.to_string())
                .unwrap_or_else(|| "new".into());
            let on_saved = {
                let (selected, reload) = (selected.clone(), reload_articles.clone());
                Callback::from(move |a: KbArticleDto| {
                    selected.set(Selected::Article(a.id));
                    reload.emit(());
                })
            };
            html! { <ArticleEditor key={key} {article} categories={(**cs).clone()} {on_saved} /> }
        }
        _ => html! { <Loading /> },
    };
    let new_article = {
        let selected = selected.clone();
        Callback::from(move |_: MouseEvent| selected.set(Selected::New))
    };

    html! {
        <>
            <div class="page-head">
                <h1>{ i18n.t("kb-title") }</h1>
                <button type="button" class="primary" id="kb-new-article" onclick={new_article}>{ i18n.t("kb-new-article") }</button>
            </div>
            <div class="kb-layout">
                <div class="stack">
                    <section class="card" aria-labelledby="kb-tree-h">
                        <h2 id="kb-tree-h">{ i18n.t("kb-categories") }</h2>
                        { tree }
                    </section>
                    <form class="card" id="kb-category-form" onsubmit={add_category}>
                        <h2>{ i18n.t("kb-new-category") }</h2>
                        <TextField id="kb-category-name" label={i18n.t("kb-category-name")} value={(*new_cat).clone()}
                            oninput={let n = new_cat.clone(); Callback::from(move |v| n.set(v))} error={cat_errors.get("name").cloned()} required=true />
                        <SelectField id="kb-category-parent" label={i18n.t("kb-category-parent")} value={(*new_cat_parent).clone()}
                            options={parent_opts} onchange={let n = new_cat_parent.clone(); Callback::from(move |v| n.set(v))}
                            error={cat_errors.get("parent_id").cloned()} />
                        <button type="submit" class="secondary" id="kb-category-add">{ i18n.t("kb-add-category") }</button>
                    </form>
                </div>
                { editor }
            </div>
        </>
    }
}

#[derive(Clone, PartialEq, Default)]
struct ArticleForm {
    category_id: String,
    title: String,
    body: String,
    note: String,
}

impl ArticleForm {
    fn of(a: &KbArticleDto) -> Self {
        ArticleForm {
            category_id: a.category_id.to_string(),
            title: a.title.clone(),
            body: a.body.clone(),
            note: String::new(),
        }
    }
}

#[derive(Properties, PartialEq)]
struct ArticleEditorProps {
    article: Option<KbArticleDto>,
    categories: Vec<KbCategoryDto>,
    on_saved: Callback<KbArticleDto>,
}

#[function_component]
fn ArticleEditor(p: &ArticleEditorProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let current = {
        let a = p.article.clone();
        use_state(move || a)
    };
    let form = {
        let init = p
            .article
            .as_ref()
            .map(ArticleForm::of)
            .unwrap_or_else(|| ArticleForm {
                category_id: p
                    .categories
                    .first()
                    .map(|c| c.id.to_string())
                    .unwrap_or_default(),
                ..ArticleForm::default()
            });
        use_reducer(move || Form(init))
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<String>);
    let busy = use_state(|| false);

    // Shows an article the server answered with: form, status, versions.
    let accept = {
        let (current, form, on_saved) = (current.clone(), form.dispatcher(), p.on_saved.clone());
        Callback::from(move |a: KbArticleDto| {
            let f = ArticleForm::of(&a);
            form.dispatch(Box::new(move |t: &mut ArticleForm| *t = f));
            current.set(Some(a.clone()));
            on_saved.emit(a);
        })
    };

    let onsubmit = {
        let (form, errors, failure, notice, busy, current, accept, i18n) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            notice.clone(),
            busy.clone(),
            current.clone(),
            accept.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "title", &f.title);
            c.required(&i18n, "category_id", &f.category_id);
            errors.set(c.errors.clone());
            failure.set(None);
            notice.set(None);
            if !c.ok() {
                return;
            }
            let Ok(category_id) = f.category_id.parse::<Uuid>() else {
                return;
            };
            let body = KbArticleInput {
                category_id,
                title: f.title.trim().to_string(),
                body: f.body.clone(),
                note: f.note.trim().to_string(),
            };
            let id = (*current).as_ref().map(|a| a.id);
            let (errors, failure, notice, busy, accept, saved_text) = (
                errors.clone(),
                failure.clone(),
                notice.clone(),
                busy.clone(),
                accept.clone(),
                i18n.t("kb-saved"),
            );
            busy.set(true);
            spawn(async move {
                let r = save::<_, KbArticleDto>("/kb/articles", id, &body).await;
                busy.set(false);
                match r {
                    Ok(a) => {
                        notice.set(Some(saved_text));
                        accept.emit(a);
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };

    let step = |action: &'static str| {
        let (current, failure, notice, busy, accept) = (
            current.clone(),
            failure.clone(),
            notice.clone(),
            busy.clone(),
            accept.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(id) = (*current).as_ref().map(|a| a.id) else {
                return;
            };
            let (failure, notice, busy, accept) = (
                failure.clone(),
                notice.clone(),
                busy.clone(),
                accept.clone(),
            );
            busy.set(true);
            failure.set(None);
            notice.set(None);
            spawn(async move {
                let r = api::post::<_, KbArticleDto>(
                    &format!("/kb/articles/{id}/transition"),
                    &KbTransition {
                        action: action.into(),
                    },
                )
                .await;
                busy.set(false);
                match r {
                    Ok(a) => accept.emit(a),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let can_write = app.session.can(perm::KB_WRITE);
    let can_review = app.session.can(perm::KB_REVIEW);
    let actions: Vec<(&'static str, &'static str)> =
        match (*current).as_ref().map(|a| a.status.as_str()) {
            Some("draft") => {
                let mut v = vec![];
                if can_write {
                    v.push(("submit", "kb-action-submit"));
                }
                if can_review {
                    v.push(("archive", "kb-action-archive"));
                }
                v
            }
            Some("review") if can_review => vec![
                ("approve", "kb-action-approve"),
                ("reject", "kb-action-reject"),
                ("archive", "kb-action-archive"),
            ],
            Some("published") if can_review => vec![("archive", "kb-action-archive")],
            Some("archived") if can_write => vec![("reopen", "kb-action-reopen")],
            _ => vec![],
        };

    let on_restored = {
        let (accept, notice, i18n) = (accept.clone(), notice.clone(), i18n.clone());
        Callback::from(move |a: KbArticleDto| {
            notice.set(Some(
                i18n.ta("kb-restored", &[("version", (a.version as i64).into())]),
            ));
            accept.emit(a);
        })
    };
    let cat_opts: Vec<(String, String)> = category_options(&p.categories)
        .into_iter()
        .map(|(id, n, d)| (id.to_string(), format!("{}{n}", "\u{2003}".repeat(d))))
        .collect();
    let on_body = {
        let d = form.dispatcher();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            let v = el.value();
            d.dispatch(Box::new(move |t: &mut ArticleForm| t.body = v));
        })
    };
    let on_body_change = {
        let d = form.dispatcher();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            let v = el.value();
            d.dispatch(Box::new(move |t: &mut ArticleForm| t.body = v));
        })
    };
    let f = &form.0;

    html! {
        <div class="stack" id="kb-editor">
            <form class="card" id="kb-article-form" {onsubmit} novalidate=true>
                <div class="card-head">
                    <h2>{ if current.is_some() { i18n.t("kb-edit-article") } else { i18n.t("kb-new-article") } }</h2>
                    if let Some(a) = &*current {
                        <span id="kb-status" class={classes!("badge", format!("kb-{}", a.status))} data-status={a.status.clone()}>
                            { status_text(&i18n, &a.status) }{ " · " }{ i18n.ta("kb-version-n", &[("version", (a.version as i64).into())]) }
                        </span>
                    }
                </div>
                if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
                if let Some(n) = &*notice { <Notice text={n.clone()} /> }
                <SelectField id="kb-article-category" label={i18n.t("kb-category")} value={f.category_id.clone()}
                    options={cat_opts} onchange={bind(&form, |t, v| t.category_id = v)} error={errors.get("category_id").cloned()} required=true />
                <TextField id="kb-title" label={i18n.t("kb-article-title")} value={f.title.clone()}
                    oninput={bind(&form, |t, v| t.title = v)} error={errors.get("title").cloned()} required=true />
                <div class={classes!("field", errors.get("body").is_some().then_some("invalid"))}>
                    <label for="kb-body">{ i18n.t("kb-article-body") }</label>
                    <textarea id="kb-body" rows="10" value={f.body.clone()} oninput={on_body} onchange={on_body_change}
                        aria-describedby="kb-body-hint" />
                    <p class="hint" id="kb-body-hint">{ i18n.t("kb-body-hint") }</p>
                    if let Some(e) = errors.get("body") { <p class="field-error">{ e }</p> }
                </div>
                <TextField id="kb-note" label={i18n.t("kb-change-note")} value={f.note.clone()}
                    oninput={bind(&form, |t, v| t.note = v)} />
                <div class="button-row">
                    <button type="submit" id="kb-save" class="primary" disabled={*busy}>{ i18n.t("kb-save") }</button>
                    { for actions.into_iter().map(|(action, key)| html! {
                        <button type="button" id={format!("kb-action-{action}")} class="secondary" disabled={*busy}
                            onclick={step(action)}>{ i18n.t(key) }</button>
                    }) }
                </div>
            </form>
            if let Some(a) = &*current {
                <KbVersions key={format!("{}-{}", a.id, a.version)} id={a.id} current={a.version} {on_restored} />
                <crate::attachments::Attachments key={format!("att-{}", a.id)}
                    base={format!("/kb/articles/{}/attachments", a.id)} id="kb" />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct KbVersionsProps {
    id: Uuid,
    current: i32,
    on_restored: Callback<KbArticleDto>,
}

/// Every saved version, newest first, with a diff against the current one and restore.
#[function_component]
fn KbVersions(p: &KbVersionsProps) -> Html {
    let i18n = use_i18n();
    let (versions, reload) =
        use_get::<Vec<KbVersionDto>>(format!("/kb/articles/{}/versions", p.id));
    let diff = use_state(|| None::<(i32, Vec<KbDiffLine>)>);
    let failure = use_state(|| None::<ApiError>);
    let id = p.id;
    let current = p.current;

    let show_diff = |v: i32| {
        let (diff, failure) = (diff.clone(), failure.clone());
        Callback::from(move |_: MouseEvent| {
            let (diff, failure) = (diff.clone(), failure.clone());
            spawn(async move {
                match api::get::<Vec<KbDiffLine>>(&format!(
                    "/kb/articles/{id}/diff?from={v}&to={current}"
                ))
                .await
                {
                    Ok(lines) => diff.set(Some((v, lines))),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let restore = |v: i32| {
        let (failure, on_restored) = (failure.clone(), p.on_restored.clone());
        Callback::from(move |_: MouseEvent| {
            let (failure, on_restored) = (failure.clone(), on_restored.clone());
            spawn(async move {
                match api::post::<_, KbArticleDto>(
                    &format!("/kb/articles/{id}/versions/{v}/restore"),
                    &serde_json::json!({}),
                )
                .await
                {
                    Ok(a) => on_restored.emit(a),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };

    let list = render_load(&versions, &reload, |vs| {
        html! {
            <ol class="kb-versions" id="kb-versions" reversed=true>
                { for vs.iter().rev().map(|v| html! {
                    <li data-version={v.version.to_string()}>
                        <strong>{ i18n.ta("kb-version-n", &[("version", (v.version as i64).into())]) }</strong>
                        { " " }<span class="muted small">{ i18n.datetime(&v.created_at) }</span>
                        if !v.note.is_empty() { { " — " }{ &v.note } }
                        if v.version != current {
                            <span class="button-row">
                                <button type="button" class="link kb-diff" onclick={show_diff(v.version)}
                                    aria-label={i18n.ta("kb-compare-n", &[("version", (v.version as i64).into())])}>{ i18n.t("kb-compare") }</button>
                                <button type="button" class="link kb-restore" onclick={restore(v.version)}
                                    aria-label={i18n.ta("kb-restore-n", &[("version", (v.version as i64).into())])}>{ i18n.t("kb-restore") }</button>
                            </span>
                        } else {
                            { " " }<span class="badge ok">{ i18n.t("kb-current") }</span>
                        }
                    </li>
                }) }
            </ol>
        }
    });

    html! {
        <section class="card" aria-labelledby="kb-versions-h">
            <h2 id="kb-versions-h">{ i18n.t("kb-versions") }</h2>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { list }
            if let Some((from, lines)) = &*diff {
                <h3>{ i18n.ta("kb-diff-title", &[("from", (*from as i64).into()), ("to", (current as i64).into())]) }</h3>
                <pre class="kb-diff" id="kb-diff">
                    { for lines.iter().map(|l| {
                        let class = match l.op.as_str() { "+" => "add", "-" => "del", _ => "same" };
                        html! { <div class={classes!("diff-line", class)}>{ format!("{} {}", l.op.replace('=', " "), l.text) }</div> }
                    }) }
                </pre>
            }
        </section>
    }
}
