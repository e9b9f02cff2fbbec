//! The interaction/complaint category tree (`crm.admin`): add (at the top or under a node),
//! rename, delete, and order — by dragging a node onto another (it goes before that node,
//! under the same parent) or with the ↑ / ↓ buttons, which work from the keyboard.
//! An order change writes `position` (×10) for every sibling whose place changed.

use hotline_wire::crm::{CategoryDto, CategoryInput};
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

use super::org::{save, DeleteButton};
use crate::api::{ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

fn input_of(c: &CategoryDto) -> CategoryInput {
    CategoryInput {
        name: c.name.clone(),
        name_i18n: c.name_i18n.clone(),
        parent_id: c.parent_id,
        position: c.position,
        active: c.active,
    }
}

/// `parent`'s children in display order.
fn children(all: &[CategoryDto], parent: Option<Uuid>) -> Vec<CategoryDto> {
    let mut v: Vec<CategoryDto> = all
        .iter()
        .filter(|c| c.parent_id == parent)
        .cloned()
        .collect();
    v.sort_by_key(|c| (c.position, c.name.to_lowercase()));
    v
}

/// Whether `node` is `ancestor` or lies under it.
fn is_within(all: &[CategoryDto], node: Uuid, ancestor: Uuid) -> bool {
    let mut cur = Some(node);
    let mut steps = 0;
    while let Some(id) = cur {
        if id == ancestor {
            return true;
        }
        cur = all.iter().find(|c| c.id == id).and_then(|c| c.parent_id);
        steps += 1;
        if steps > 100 {
            break;
        }
    }
    false
}

/// Writes `order` as the children of `parent`, touching only the nodes that changed.
async fn save_order(parent: Option<Uuid>, order: Vec<CategoryDto>) -> Result<(), ApiError> {
    for (i, c) in order.into_iter().enumerate() {
        let position = (i as i32 + 1) * 10;
        if c.position != position || c.parent_id != parent {
            let body = CategoryInput {
                position,
                parent_id: parent,
                ..input_of(&c)
            };
            save::<_, CategoryDto>("/categories", Some(c.id), &body).await?;
        }
    }
    Ok(())
}

/// The new sibling order when `dragged` is dropped on `target` (before it, same parent);
/// `None` when the drop makes no sense (onto itself or its own subtree).
fn drop_before(
    all: &[CategoryDto],
    dragged: Uuid,
    target: Uuid,
) -> Option<(Option<Uuid>, Vec<CategoryDto>)> {
    if is_within(all, target, dragged) {
        return None;
    }
    let t = all.iter().find(|c| c.id == target)?;
    let d = all.iter().find(|c| c.id == dragged)?.clone();
    let mut sibs: Vec<CategoryDto> = children(all, t.parent_id)
        .into_iter()
        .filter(|c| c.id != dragged)
        .collect();
    let at = sibs.iter().position(|c| c.id == target)?;
    sibs.insert(at, d);
    Some((t.parent_id, sibs))
}

type Job = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>;

#[function_component]
pub fn CategoriesPage() -> Html {
    let i18n = use_i18n();
    let (cats, reload) = use_get::<Vec<CategoryDto>>("/categories".into());
    let failure = use_state(|| None::<ApiError>);
    // The dragged node: read at drop time (a ref, not the render's snapshot), and as state
    // for the styling.
    let dragged = use_mut_ref(|| None::<Uuid>);
    let dragging = use_state(|| None::<Uuid>);
    let drop_target = use_state(|| None::<Uuid>);
    // The node being renamed, or the node getting a child (`adding`).
    let renaming = use_state(|| None::<Uuid>);
    let adding = use_state(|| None::<Option<Uuid>>);
    let draft = use_state(String::new);
    let errors = use_state(FieldErrors::new);

    let run = {
        let (failure, reload) = (failure.clone(), reload.clone());
        Callback::from(move |fut: Job| {
            let (failure, reload) = (failure.clone(), reload.clone());
            failure.set(None);
            spawn(async move {
                if let Err(e) = fut.await {
                    failure.set(Some(e));
                }
                reload.emit(());
            });
        })
    };

    let body = render_load(&cats, &reload, |all| {
        let all: Vec<CategoryDto> = all.to_vec();
        if all.is_empty() {
            return html! { <p class="empty">{ i18n.t("cat-none") }</p> };
        }
        let ctx = TreeCtx {
            i18n: i18n.clone(),
            all: all.clone(),
            run: run.clone(),
            dragged: dragged.clone(),
            dragging: dragging.clone(),
            drop_target: drop_target.clone(),
            renaming: renaming.clone(),
            adding: adding.clone(),
            draft: draft.clone(),
            errors: errors.clone(),
            failure: failure.clone(),
            reload: reload.clone(),
        };
        html! { <ul class="tree cat-tree" id="cat-tree" aria-label={i18n.t("cat-title")}>{ branch(&ctx, None) }</ul> }
    });

    // The "new top-level category" form.
    let add_root = {
        let (draft_root, adding, errors, run) =
            (draft.clone(), adding.clone(), errors.clone(), run.clone());
        let cats = cats.clone();
        let i18n = i18n.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let name = if *adding == Some(None) {
                draft_root.trim().to_string()
            } else {
                String::new()
            };
            if name.is_empty() {
                errors.set(FieldErrors::from([(
                    "cat-new-root".to_string(),
                    i18n.t("form-required"),
                )]));
                return;
            }
            errors.set(FieldErrors::new());
            let position = match &cats {
                Load::Ready(all) => children(all, None).last().map_or(10, |c| c.position + 10),
                _ => 10,
            };
            let body = CategoryInput {
                name,
                name_i18n: Default::default(),
                parent_id: None,
                position,
                active: true,
            };
            draft_root.set(String::new());
            adding.set(None);
            run.emit(Box::pin(async move {
                save::<_, CategoryDto>("/categories", None, &body)
                    .await
                    .map(|_| ())
            }));
        })
    };
    let root_value = if *adding == Some(None) {
        (*draft).clone()
    } else {
        String::new()
    };
    let on_root_input = {
        let (draft, adding) = (draft.clone(), adding.clone());
        Callback::from(move |v: String| {
            adding.set(Some(None));
            draft.set(v);
        })
    };
    let root_drop = {
        // Dropped on the "top level" zone: goes last among the top-level categories.
        let (dragged, dragging, drop_target, run, cats) = (
            dragged.clone(),
            dragging.clone(),
            drop_target.clone(),
            run.clone(),
            cats.clone(),
        );
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            drop_target.set(None);
            dragging.set(None);
            let d = dragged.borrow_mut().take();
            let (Some(d), Load::Ready(all)) = (d, &cats) else {
                return;
            };
            let Some(dc) = all.iter().find(|c| c.id == d).cloned() else {
                return;
            };
            let mut sibs: Vec<CategoryDto> = children(all, None)
                .into_iter()
                .filter(|c| c.id != d)
                .collect();
            sibs.push(dc);
            run.emit(Box::pin(save_order(None, sibs)));
        })
    };
    html! {
        <>
            <h1>{ i18n.t("cat-title") }</h1>
            <p class="muted">{ i18n.t("cat-intro") }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <section class="card">
                <form class="toolbar" id="cat-add-root-form" onsubmit={add_root} novalidate=true>
                    <TextField id="cat-new-root" label={i18n.t("cat-new-root")} value={root_value}
                        oninput={on_root_input} error={errors.get("cat-new-root").cloned()} />
                    <button type="submit" id="cat-add-root" class="secondary">{ i18n.t("cat-add") }</button>
                </form>
                { body }
                <div id="cat-root-drop" class={classes!("drop-zone", dragging.is_some().then_some("active"))}
                    ondragover={Callback::from(|e: DragEvent| e.prevent_default())} ondrop={root_drop}>
                    { i18n.t("cat-drop-top") }
                </div>
            </section>
        </>
    }
}

#[derive(Clone)]
struct TreeCtx {
    i18n: I18n,
    all: Vec<CategoryDto>,
    run: Callback<Job>,
    dragged: std::rc::Rc<std::cell::RefCell<Option<Uuid>>>,
    dragging: UseStateHandle<Option<Uuid>>,
    drop_target: UseStateHandle<Option<Uuid>>,
    renaming: UseStateHandle<Option<Uuid>>,
    adding: UseStateHandle<Option<Option<Uuid>>>,
    draft: UseStateHandle<String>,
    errors: UseStateHandle<FieldErrors>,
    failure: UseStateHandle<Option<ApiError>>,
    reload: Callback<()>,
}

fn branch(ctx: &TreeCtx, parent: Option<Uuid>) -> Html {
    let kids = children(&ctx.all, parent);
    let n = kids.len();
    html! { <>{ for kids.iter().enumerate().map(|(i, c)| node(ctx, &kids, i, n, c)) }</> }
}

fn node(ctx: &TreeCtx, sibs: &[CategoryDto], i: usize, n: usize, c: &CategoryDto) -> Html {
    let i18n = &ctx.i18n;
    let id = c.id;
    let name = i18n.pick(&c.name, &c.name_i18n).to_string();
    let named = |k: &str| i18n.ta(k, &[("name", name.clone().into())]);
    let mover = |to: usize| {
        let (order, run, parent) = (sibs.to_vec(), ctx.run.clone(), c.parent_id);
        Callback::from(move |_: MouseEvent| {
            let mut order = order.clone();
            order.swap(i, to);
            run.emit(Box::pin(save_order(parent, order)));
        })
    };
    let ondragstart = {
        let (dragged, dragging) = (ctx.dragged.clone(), ctx.dragging.clone());
        Callback::from(move |e: DragEvent| {
            e.stop_propagation();
            // Firefox starts a drag only with data set; the id itself travels in state.
            if let Ok(dt) = js_sys::Reflect::get(&e, &JsValue::from_str("dataTransfer")) {
                if let Ok(f) = js_sys::Reflect::get(&dt, &JsValue::from_str("setData")) {
                    if let Ok(f) = f.dyn_into::<js_sys::Function>() {
                        let _ = f.call2(&dt, &"text/plain".into(), &id.to_string().into());
                    }
                }
            }
            *dragged.borrow_mut() = Some(id);
            dragging.set(Some(id));
        })
    };
    let ondragend = {
        let (dragged, dragging, target) = (
            ctx.dragged.clone(),
            ctx.dragging.clone(),
            ctx.drop_target.clone(),
        );
        Callback::from(move |_: DragEvent| {
            dragged.borrow_mut().take();
            dragging.set(None);
            target.set(None);
        })
    };
    let ondragover = {
        let target = ctx.drop_target.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            e.stop_propagation();
            if *target != Some(id) {
                target.set(Some(id));
            }
        })
    };
    let ondrop = {
        let (dragged, dragging, target, all, run) = (
            ctx.dragged.clone(),
            ctx.dragging.clone(),
            ctx.drop_target.clone(),
            ctx.all.clone(),
            ctx.run.clone(),
        );
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            e.stop_propagation();
            target.set(None);
            dragging.set(None);
            let Some(d) = dragged.borrow_mut().take() else {
                return;
            };
            if let Some((parent, order)) = drop_before(&all, d, id) {
                run.emit(Box::pin(save_order(parent, order)));
            }
        })
    };
    let renaming = *ctx.renaming == Some(id);
    let adding_here = *ctx.adding == Some(Some(id));
    let start_rename = {
        let (r, a, draft, cur, errors) = (
            ctx.renaming.clone(),
            ctx.adding.clone(),
            ctx.draft.clone(),
            c.name.clone(),
            ctx.errors.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            errors.set(FieldErrors::new());
            a.set(None);
            draft.set(cur.clone());
            r.set(Some(id));
        })
    };
    let start_add = {
        let (r, a, draft, errors) = (
            ctx.renaming.clone(),
            ctx.adding.clone(),
            ctx.draft.clone(),
            ctx.errors.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            errors.set(FieldErrors::new());
            r.set(None);
            draft.set(String::new());
            a.set(Some(Some(id)));
        })
    };
    let cancel = {
        let (r, a) = (ctx.renaming.clone(), ctx.adding.clone());
        Callback::from(move |_: MouseEvent| {
            r.set(None);
            a.set(None);
        })
    };
    let on_draft = {
        let draft = ctx.draft.clone();
        Callback::from(move |v: String| draft.set(v))
    };
    let submit = {
        let (draft, r, a, errors, run, i18n) = (
            ctx.draft.clone(),
            ctx.renaming.clone(),
            ctx.adding.clone(),
            ctx.errors.clone(),
            ctx.run.clone(),
            i18n.clone(),
        );
        let me = c.clone();
        let next_child = children(&ctx.all, Some(id))
            .last()
            .map_or(10, |x| x.position + 10);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let name = draft.trim().to_string();
            let field = format!("cat-draft-{id}");
            if name.is_empty() {
                errors.set(FieldErrors::from([(field, i18n.t("form-required"))]));
                return;
            }
            errors.set(FieldErrors::new());
            let job: Job = if *r == Some(id) {
                // Translations were of the old name: a rename drops them (Names page refills).
                let name_i18n = if name == me.name {
                    me.name_i18n.clone()
                } else {
                    Default::default()
                };
                let body = CategoryInput {
                    name,
                    name_i18n,
                    ..input_of(&me)
                };
                Box::pin(async move {
                    save::<_, CategoryDto>("/categories", Some(id), &body)
                        .await
                        .map(|_| ())
                })
            } else {
                let body = CategoryInput {
                    name,
                    name_i18n: Default::default(),
                    parent_id: Some(id),
                    position: next_child,
                    active: true,
                };
                Box::pin(async move {
                    save::<_, CategoryDto>("/categories", None, &body)
                        .await
                        .map(|_| ())
                })
            };
            r.set(None);
            a.set(None);
            draft.set(String::new());
            run.emit(job);
        })
    };
    let draft_form = |label_key: &str| {
        let field = format!("cat-draft-{id}");
        html! {
            <form class="toolbar cat-draft" onsubmit={submit.clone()} novalidate=true>
                <TextField id={field.clone()} label={named(label_key)} value={(*ctx.draft).clone()}
                    oninput={on_draft.clone()} error={ctx.errors.get(&field).cloned()} />
                <button type="submit" class="primary cat-draft-save">{ i18n.t("action-save") }</button>
                <button type="button" class="link" onclick={cancel.clone()}>{ i18n.t("action-cancel") }</button>
            </form>
        }
    };
    let deleted = {
        let reload = ctx.reload.clone();
        Callback::from(move |_| reload.emit(()))
    };
    let del_error = {
        let failure = ctx.failure.clone();
        Callback::from(move |e: ApiError| failure.set(Some(e)))
    };
    let has_kids = ctx.all.iter().any(|x| x.parent_id == Some(id));
    html! {
        <li data-name={c.name.clone()}>
            <div class={classes!("tree-node", (*ctx.drop_target == Some(id)).then_some("drop-here"),
                    (*ctx.dragging == Some(id)).then_some("dragging"))}
                draggable="true" data-id={id.to_string()}
                {ondragstart} {ondragend} {ondragover} {ondrop}>
                <span class="drag-handle" aria-hidden="true">{ "⠿" }</span>
                if renaming {
                    { draft_form("cat-rename-of") }
                } else {
                    <span class="tree-name">{ name.clone() }</span>
                    if !c.active { <span class="badge">{ i18n.t("status-inactive") }</span> }
                    <button type="button" class="link cat-up" disabled={i == 0} onclick={mover(i.saturating_sub(1))}
                        aria-label={named("cat-move-up-of")}>{ "↑" }</button>
                    <button type="button" class="link cat-down" disabled={i + 1 == n} onclick={mover((i + 1).min(n - 1))}
                        aria-label={named("cat-move-down-of")}>{ "↓" }</button>
                    // The visible words start the accessible name (WCAG 2.5.3 "label in name").
                    <button type="button" class="link cat-add-child" onclick={start_add}>
                        { i18n.t("cat-add-child") }<span class="sr-only">{ format!(" ({name})") }</span></button>
                    <button type="button" class="link cat-rename" onclick={start_rename}
                        aria-label={named("cat-rename-of")}>{ i18n.t("cat-rename") }</button>
                    <DeleteButton path={format!("/categories/{id}")} name={name.clone()} on_done={deleted} on_error={del_error} />
                }
            </div>
            if adding_here { { draft_form("cat-add-child-of") } }
            if has_kids {
                <ul class="tree">{ branch(ctx, Some(id)) }</ul>
            }
        </li>
    }
}
