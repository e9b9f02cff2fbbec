//! Tickets: the register (filters, status colours, SLA badges, paging) and a ticket's page
//! (workflow buttons the user may press, comments and internal notes, history, assignee).

use std::collections::HashMap;
use std::rc::Rc;

use hotline_wire::api::{Page, TeamDto, UserDto};
use hotline_wire::permissions as perm;
use hotline_wire::sla::SlaState;
use hotline_wire::tickets::{
    StatusDef, TicketAssign, TicketCommentInput, TicketDto, TicketEventDto, TicketMove,
    TicketTypeDto, TicketViewDto, TicketViewFilters, TicketViewInput, TransitionDef, PRIORITIES,
};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::{use_app, Route, Session};

const PER_PAGE: i64 = 25;
/// How often the register re-reads the list, so a warning or due time passing shows up by
/// itself (the server computes the SLA state on read).
const REFRESH_MS: u32 = 10_000;

// ---------------------------------------------------------------- shared pieces

/// Names of users and teams, for showing assignees. Only readable with `users.read`;
/// without it the caller's own id is still named ("me").
#[derive(Clone, PartialEq, Default)]
pub struct Directory {
    pub users: HashMap<Uuid, String>,
    pub teams: HashMap<Uuid, String>,
    pub me: Option<Uuid>,
    pub my_team: Option<Uuid>,
}

impl Directory {
    pub fn assignee(&self, i18n: &I18n, user: Option<Uuid>, team: Option<Uuid>) -> String {
        let who = user.map(|u| {
            if Some(u) == self.me {
                i18n.t("tickets-assignee-me")
            } else {
                self.users
                    .get(&u)
                    .cloned()
                    .unwrap_or_else(|| i18n.t("tickets-assignee-colleague"))
            }
        });
        let team = team.map(|t| {
            self.teams
                .get(&t)
                .cloned()
                .unwrap_or_else(|| i18n.t("tickets-assignee-a-team"))
        });
        match (who, team) {
            (Some(w), Some(t)) => format!("{w} ({t})"),
            (Some(w), None) => w,
            (None, Some(t)) => t,
            (None, None) => i18n.t("tickets-unassigned"),
        }
    }
}

/// Loads the [`Directory`] once (users and teams only when the session may read them).
#[hook]
pub fn use_directory() -> Rc<Directory> {
    let app = use_app();
    let (me, my_team) = match &app.session {
        Session::User(s) => (Some(s.user.id), s.user.team_id),
        _ => (None, None),
    };
    let dir = use_state(|| Directory {
        me,
        my_team,
        ..Directory::default()
    });
    let can_read = app.session.can(perm::USERS_READ);
    {
        let dir = dir.clone();
        use_effect_with((me, can_read), move |(me, can_read)| {
            let (me, can_read) = (*me, *can_read);
            spawn(async move {
                let mut d = Directory {
                    me,
                    my_team,
                    ..Directory::default()
                };
                if can_read {
                    if let Ok(p) =
                        api::get::<Page<UserDto>>("/users?per_page=200&include_inactive=true").await
                    {
                        d.users = p.items.into_iter().map(|u| (u.id, u.name)).collect();
                    }
                    if let Ok(ts) = api::get::<Vec<TeamDto>>("/teams").await {
                        d.teams = ts.into_iter().map(|t| (t.id, t.name)).collect();
                    }
                }
                dir.set(d);
            });
        });
    }
    Rc::new((*dir).clone())
}

/// Black or white text, whichever reads better on `#rrggbb`.
pub fn ink_for(color: &str) -> &'static str {
    let hex = color.trim_start_matches('#');
    let c = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(128) as f64
    };
    if 0.299 * c(0) + 0.587 * c(2) + 0.114 * c(4) > 150.0 {
        "#111"
    } else {
        "#fff"
    }
}

/// A status in its workflow colour.
pub fn status_badge(i18n: &I18n, s: &StatusDef) -> Html {
    let style = format!("background:{};color:{}", s.color, ink_for(&s.color));
    html! { <span class="status-badge" data-status={s.key.clone()} {style}>{ i18n.pick(&s.name, &s.name_i18n) }</span> }
}

pub fn priority_text(i18n: &I18n, p: &str) -> String {
    i18n.try_t(&format!("ticket-priority-{p}"))
        .unwrap_or_else(|| p.to_string())
}

/// The priorities as select options.
pub fn priority_options(i18n: &I18n) -> Vec<(String, String)> {
    PRIORITIES
        .iter()
        .map(|p| (p.to_string(), priority_text(i18n, p)))
        .collect()
}

/// Where an open ticket stands against its SLA, as the server computed it on read
/// (`sla_state`: the policy's warning threshold and the due time). A closed ticket shows no
/// badge: its SLA is no longer running.
fn sla_of(t: &TicketDto) -> SlaState {
    if t.closed_at.is_some() {
        SlaState::None
    } else {
        t.sla_state
    }
}

fn sla_badge(i18n: &I18n, t: &TicketDto) -> Html {
    match sla_of(t) {
        SlaState::None => html! {},
        SlaState::Ok => {
            html! { <span class="sla-badge sla-ok" data-sla="ok">{ i18n.t("tickets-sla-ok") }</span> }
        }
        SlaState::Warning => {
            html! { <span class="sla-badge sla-warning" data-sla="warning">{ i18n.t("tickets-sla-soon") }</span> }
        }
        SlaState::Breached => {
            html! { <span class="sla-badge sla-breached" data-sla="breached" role="status">{ i18n.t("tickets-sla-breached") }</span> }
        }
    }
}

fn category_text(i18n: &I18n, t: &TicketDto) -> String {
    if t.category_path.is_empty() {
        i18n.t("agent-category-none")
    } else {
        i18n.pick_path(&t.category_path, &t.category_path_i18n)
    }
}

// ---------------------------------------------------------------- register

#[derive(Clone, PartialEq, Default)]
struct Filters {
    status: String,
    /// `""` all, `mine`, `team`.
    scope: String,
    open: bool,
    q: String,
}

impl Filters {
    /// The filters as a saved view keeps them.
    fn to_view(&self, my_team: Option<Uuid>) -> TicketViewFilters {
        TicketViewFilters {
            status: Some(self.status.clone()).filter(|s| !s.is_empty()),
            mine: (self.scope == "mine").then_some(true),
            team_id: my_team.filter(|_| self.scope == "team"),
            open: self.open.then_some(true),
            q: Some(self.q.trim().to_string()).filter(|q| !q.is_empty()),
            ..TicketViewFilters::default()
        }
    }

    fn query(&self, page: i64, my_team: Option<Uuid>, view: Option<Uuid>) -> String {
        let mut s = format!("/tickets?page={page}&per_page={PER_PAGE}");
        if let Some(v) = view {
            s += &format!("&view={v}");
        }
        if !self.status.is_empty() {
            s += &format!("&status={}", api::enc(&self.status));
        }
        match (self.scope.as_str(), my_team) {
            ("mine", _) => s += "&mine=true",
            ("team", Some(t)) => s += &format!("&team_id={t}"),
            _ => {}
        }
        if self.open {
            s += "&open=true";
        }
        if !self.q.trim().is_empty() {
            s += &format!("&q={}", api::enc(self.q.trim()));
        }
        s
    }
}

#[function_component]
pub fn TicketsPage() -> Html {
    let i18n = use_i18n();
    let dir = use_directory();
    let form = use_reducer(Form::<Filters>::default);
    let applied = use_state(Filters::default);
    let page = use_state(|| 1i64);
    let view = use_state(|| None::<Uuid>);
    let (list, reload) = use_get::<Page<TicketDto>>(applied.query(*page, dir.my_team, *view));
    let (types, _) = use_get::<Vec<TicketTypeDto>>("/ticket-types".into());

    // Re-read now and then: new tickets arrive and due times pass while the page is open.
    {
        let reload = reload.clone();
        use_effect_with((), move |_| {
            let timer = gloo_timers::callback::Interval::new(REFRESH_MS, move || reload.emit(()));
            move || drop(timer)
        });
    }

    let mut status_opts = vec![(String::new(), i18n.t("tickets-any-status"))];
    if let Load::Ready(ts) = &types {
        for t in ts.iter() {
            for s in &t.statuses {
                if !status_opts.iter().any(|(k, _)| *k == s.key) {
                    status_opts.push((s.key.clone(), i18n.pick(&s.name, &s.name_i18n).to_string()));
                }
            }
        }
    }
    let mut scope_opts = vec![
        (String::new(), i18n.t("tickets-scope-all")),
        ("mine".to_string(), i18n.t("tickets-scope-mine")),
    ];
    if dir.my_team.is_some() {
        scope_opts.push(("team".to_string(), i18n.t("tickets-scope-team")));
    }
    let onsubmit = {
        let (form, applied, page, view) =
            (form.clone(), applied.clone(), page.clone(), view.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            applied.set(form.0.clone());
            view.set(None);
            page.set(1);
        })
    };
    let on_view = {
        let (form, applied, page, view) =
            (form.clone(), applied.clone(), page.clone(), view.clone());
        Callback::from(move |v: Option<Uuid>| {
            // A view carries its own filters: the form starts again from empty.
            form.dispatch(Box::new(|f: &mut Filters| *f = Filters::default()));
            applied.set(Filters::default());
            view.set(v);
            page.set(1);
        })
    };
    let on_open = {
        let d = form.dispatcher();
        Callback::from(move |v: bool| d.dispatch(Box::new(move |f: &mut Filters| f.open = v)))
    };

    let table = render_load(&list, &reload, |p| {
        if p.items.is_empty() {
            return html! { <p class="empty" id="tickets-empty">{ i18n.t("tickets-empty") }</p> };
        }
        html! {
            <>
            <table class="data" id="tickets-table">
                <caption class="sr-only">{ i18n.t("tickets-title") }</caption>
                <thead><tr>
                    <th scope="col" class="num">{ i18n.t("ticket-number") }</th>
                    <th scope="col">{ i18n.t("ticket-subject") }</th>
                    <th scope="col">{ i18n.t("ticket-status") }</th>
                    <th scope="col">{ i18n.t("ticket-priority") }</th>
                    <th scope="col">{ i18n.t("ticket-category") }</th>
                    <th scope="col">{ i18n.t("ticket-assignee") }</th>
                    <th scope="col">{ i18n.t("ticket-due") }</th>
                    <th scope="col">{ i18n.t("ticket-sla") }</th>
                </tr></thead>
                <tbody>
                { for p.items.iter().map(|t| {
                    let breached = sla_of(t) == SlaState::Breached;
                    html! {
                        <tr data-number={t.number.to_string()} class={classes!(breached.then_some("breached"))}>
                            <td class="num">{ format!("#{}", t.number) }</td>
                            <td><Link<Route> to={Route::Ticket { id: t.id.to_string() }}>{ &t.subject }</Link<Route>></td>
                            <td>{ status_badge(&i18n, &t.status) }</td>
                            <td><span class={classes!("priority", t.priority.clone())}>{ priority_text(&i18n, &t.priority) }</span></td>
                            <td>{ category_text(&i18n, t) }</td>
                            <td class="assignee">{ dir.assignee(&i18n, t.assignee_user_id, t.assignee_team_id) }</td>
                            <td>{ t.due_at.map(|d| i18n.datetime(&d)).unwrap_or_else(|| "—".into()) }</td>
                            <td>{ sla_badge(&i18n, t) }</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            <Pager page={p.page} per_page={p.per_page} total={p.total}
                on_page={let page = page.clone(); Callback::from(move |n| page.set(n))} />
            </>
        }
    });

    html! {
        <>
            <div class="page-head"><h1>{ i18n.t("tickets-title") }</h1></div>
            <form class="card filters" id="tickets-filters" role="search" {onsubmit}>
                <SelectField id="tickets-status" label={i18n.t("ticket-status")} value={form.0.status.clone()}
                    options={status_opts} onchange={bind(&form, |f, v| f.status = v)} />
                <SelectField id="tickets-scope" label={i18n.t("tickets-scope")} value={form.0.scope.clone()}
                    options={scope_opts} onchange={bind(&form, |f, v| f.scope = v)} />
                <TextField id="tickets-q" label={i18n.t("tickets-search")} value={form.0.q.clone()}
                    oninput={bind(&form, |f, v| f.q = v)} kind="search" />
                <Checkbox id="tickets-open" label={i18n.t("tickets-open-only")} checked={form.0.open} onchange={on_open} />
                <div class="filter-actions">
                    <button type="submit" id="tickets-apply" class="primary">{ i18n.t("action-filter") }</button>
                </div>
            </form>
            <SavedViews selected={*view} on_select={on_view} filters={form.0.to_view(dir.my_team)} />
            { table }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct SavedViewsProps {
    selected: Option<Uuid>,
    on_select: Callback<Option<Uuid>>,
    /// What "save as view" keeps: the filter form as it is now.
    filters: TicketViewFilters,
}

/// The saved views of the register: pick one (its filters apply on the server), save the
/// current filters under a name (shared with everyone by `tickets.admin`), delete one's own.
#[function_component]
fn SavedViews(p: &SavedViewsProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let (views, reload) = use_get::<Vec<TicketViewDto>>("/ticket-views".into());
    let name = use_state(String::new);
    let shared = use_state(|| false);
    let failure = use_state(|| None::<ApiError>);
    let can_share = app.session.can(perm::TICKETS_ADMIN);
    let me = match &app.session {
        Session::User(s) => Some(s.user.id),
        _ => None,
    };
    let list: Vec<TicketViewDto> = match &views {
        Load::Ready(v) => v.to_vec(),
        _ => vec![],
    };
    let mut options = vec![(String::new(), i18n.t("tickets-views-none"))];
    for v in &list {
        let label = if v.shared {
            i18n.ta("tickets-view-shared", &[("name", v.name.clone().into())])
        } else {
            v.name.clone()
        };
        options.push((v.id.to_string(), label));
    }
    let choose = {
        let cb = p.on_select.clone();
        Callback::from(move |v: String| cb.emit(v.parse().ok()))
    };
    let save = {
        let (name, shared, failure, reload, cb, filters) = (
            name.clone(),
            shared.clone(),
            failure.clone(),
            reload.clone(),
            p.on_select.clone(),
            p.filters.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = TicketViewInput {
                name: name.trim().to_string(),
                shared: *shared,
                filters: filters.clone(),
            };
            let (name, failure, reload, cb) =
                (name.clone(), failure.clone(), reload.clone(), cb.clone());
            spawn(async move {
                match api::post::<_, TicketViewDto>("/ticket-views", &body).await {
                    Ok(v) => {
                        name.set(String::new());
                        failure.set(None);
                        reload.emit(());
                        cb.emit(Some(v.id));
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let selected = p
        .selected
        .and_then(|id| list.iter().find(|v| v.id == id).cloned());
    let delete = selected
        .filter(|v| Some(v.owner_id) == me || can_share)
        .map(|v| {
            let (failure, reload, cb) = (failure.clone(), reload.clone(), p.on_select.clone());
            Callback::from(move |_: MouseEvent| {
                let (failure, reload, cb) = (failure.clone(), reload.clone(), cb.clone());
                let id = v.id;
                spawn(async move {
                    match api::delete(&format!("/ticket-views/{id}")).await {
                        Ok(()) => {
                            reload.emit(());
                            cb.emit(None);
                        }
                        Err(e) => failure.set(Some(e)),
                    }
                });
            })
        });
    html! {
        <form class="card filters saved-views" id="tickets-views" onsubmit={save}>
            <SelectField id="tickets-view" label={i18n.t("tickets-views")}
                value={p.selected.map(|v| v.to_string()).unwrap_or_default()} options={options} onchange={choose} />
            if let Some(d) = delete {
                <div class="filter-actions">
                    <button type="button" class="secondary" id="tickets-view-delete" onclick={d}>{ i18n.t("tickets-view-delete") }</button>
                </div>
            }
            <TextField id="tickets-view-name" label={i18n.t("tickets-view-name")} value={(*name).clone()}
                oninput={let n = name.clone(); Callback::from(move |v| n.set(v))} />
            if can_share {
                <Checkbox id="tickets-view-shared" label={i18n.t("tickets-view-share")} checked={*shared}
                    onchange={let s = shared.clone(); Callback::from(move |v| s.set(v))} />
            }
            <div class="filter-actions">
                <button type="submit" class="secondary" id="tickets-view-save" disabled={name.trim().is_empty()}>
                    { i18n.t("tickets-view-save") }
                </button>
            </div>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
        </form>
    }
}

// ---------------------------------------------------------------- one ticket

#[derive(Properties, PartialEq)]
pub struct TicketPageProps {
    pub id: String,
}

/// The moves the workflow offers from the ticket's status that this user may make.
fn allowed_moves<'a>(
    ty: &'a TicketTypeDto,
    from: &str,
    can: impl Fn(&str) -> bool,
) -> Vec<&'a TransitionDef> {
    ty.transitions
        .iter()
        .filter(|t| t.from == from && t.permission.as_deref().is_none_or(&can))
        .collect()
}

#[function_component]
pub fn TicketPage(p: &TicketPageProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let dir = use_directory();
    let (ticket, reload_ticket) = use_get::<TicketDto>(format!("/tickets/{}", p.id));
    let (events, reload_events) =
        use_get::<Vec<TicketEventDto>>(format!("/tickets/{}/events", p.id));
    let (types, _) = use_get::<Vec<TicketTypeDto>>("/ticket-types".into());
    let comment = use_state(String::new);
    let internal = use_state(|| false);
    let busy = use_state(|| false);
    let failure = use_state(|| None::<ApiError>);
    let reload = {
        let (a, b) = (reload_ticket.clone(), reload_events.clone());
        Callback::from(move |_| {
            a.emit(());
            b.emit(());
        })
    };

    let Load::Ready(t) = &ticket else {
        return render_load(&ticket, &reload_ticket, |_| html! {});
    };
    let ty: Option<TicketTypeDto> = match &types {
        Load::Ready(ts) => ts.iter().find(|x| x.id == t.type_id).cloned(),
        _ => None,
    };
    let id = t.id;

    // Runs one request, then re-reads the ticket and its history.
    let act = {
        let (busy, failure, reload) = (busy.clone(), failure.clone(), reload.clone());
        move |fut: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>| {
            let (busy, failure, reload) = (busy.clone(), failure.clone(), reload.clone());
            busy.set(true);
            failure.set(None);
            spawn(async move {
                let r = fut.await;
                busy.set(false);
                match r {
                    Ok(()) => reload.emit(()),
                    Err(e) => failure.set(Some(e)),
                }
            });
        }
    };

    let moves = match &ty {
        Some(ty) => allowed_moves(ty, &t.status.key, |p| app.session.can(p))
            .into_iter()
            .map(|tr| {
                let to = tr.to.clone();
                let act = act.clone();
                let comment = comment.clone();
                let onclick = Callback::from(move |_: MouseEvent| {
                    let body = TicketMove {
                        to: to.clone(),
                        comment: Some(comment.trim().to_string()).filter(|c| !c.is_empty()),
                    };
                    comment.set(String::new());
                    act(Box::pin(async move {
                        api::post::<_, TicketDto>(&format!("/tickets/{id}/move"), &body)
                            .await
                            .map(|_| ())
                    }));
                });
                html! {
                    <button type="button" class="primary ticket-move" data-to={tr.to.clone()} {onclick} disabled={*busy}>{ i18n.pick(&tr.name, &tr.name_i18n) }</button>
                }
            })
            .collect::<Html>(),
        None => html! {},
    };

    let on_comment = {
        let (comment, internal, act) = (comment.clone(), internal.clone(), act.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = TicketCommentInput {
                body: comment.trim().to_string(),
                internal: *internal,
            };
            if body.body.is_empty() {
                return;
            }
            comment.set(String::new());
            act(Box::pin(async move {
                api::post::<_, TicketEventDto>(&format!("/tickets/{id}/comments"), &body)
                    .await
                    .map(|_| ())
            }));
        })
    };
    let take = {
        let act = act.clone();
        let body = TicketAssign {
            user_id: dir.me,
            team_id: t.assignee_team_id.or(dir.my_team),
        };
        Callback::from(move |_: MouseEvent| {
            let body = body.clone();
            act(Box::pin(async move {
                api::post::<_, TicketDto>(&format!("/tickets/{id}/assign"), &body)
                    .await
                    .map(|_| ())
            }));
        })
    };
    let on_text = {
        let c = comment.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            c.set(el.value());
        })
    };
    let on_text_change = {
        let c = comment.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            c.set(el.value());
        })
    };

    let status_name = |key: &str| -> String {
        ty.as_ref()
            .and_then(|ty| ty.statuses.iter().find(|s| s.key == key))
            .map(|s| i18n.pick(&s.name, &s.name_i18n).to_string())
            .unwrap_or_else(|| key.to_string())
    };
    let history = render_load(&events, &reload_events, |evs| {
        html! {
            <ol class="ticket-history" id="ticket-history">
                { for evs.iter().rev().map(|e| {
                    let who = e.actor_id.map(|a| dir.assignee(&i18n, Some(a), None)).unwrap_or_default();
                    let what = match e.kind.as_str() {
                        "status" => i18n.ta("ticket-event-status", &[
                            ("from", status_name(e.details["from"].as_str().unwrap_or_default()).into()),
                            ("to", status_name(e.details["to"].as_str().unwrap_or_default()).into()),
                        ]),
                        "assigned" => {
                            let user = e.details["to_user"].as_str().and_then(|s| s.parse().ok());
                            let team = e.details["to_team"].as_str().and_then(|s| s.parse().ok());
                            i18n.ta("ticket-event-assigned", &[("who", dir.assignee(&i18n, user, team).into())])
                        }
                        "created" => {
                            let user = e.details["assignee_user_id"].as_str().and_then(|s| s.parse().ok());
                            let team = e.details["assignee_team_id"].as_str().and_then(|s| s.parse().ok());
                            i18n.ta("ticket-event-created", &[("who", dir.assignee(&i18n, user, team).into())])
                        }
                        "note" => i18n.t("ticket-event-note"),
                        "comment" => i18n.t("ticket-event-comment"),
                        other => other.to_string(),
                    };
                    html! {
                        <li class={classes!("event", e.kind.clone())} data-kind={e.kind.clone()}>
                            <span class="muted small">{ i18n.datetime(&e.at) }{ " · " }{ who }</span>
                            <strong>{ what }</strong>
                            if !e.body.is_empty() { <p class="event-body">{ &e.body }</p> }
                        </li>
                    }
                }) }
            </ol>
        }
    });

    html! {
        <>
            <p class="crumbs"><Link<Route> to={Route::Tickets}>{ i18n.t("tickets-back") }</Link<Route>></p>
            <div class="page-head">
                <h1 id="ticket-title">{ format!("#{} ", t.number) }{ &t.subject }</h1>
                <span id="ticket-status">{ status_badge(&i18n, &t.status) }</span>
            </div>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="two-col">
                <div class="stack">
                    <section class="card">
                        <dl class="facts" id="ticket-facts">
                            <dt>{ i18n.t("ticket-type") }</dt><dd>{ ty.as_ref().map(|t| i18n.pick(&t.name, &t.name_i18n).to_string()).unwrap_or_default() }</dd>
                            <dt>{ i18n.t("ticket-priority") }</dt><dd>{ priority_text(&i18n, &t.priority) }</dd>
                            <dt>{ i18n.t("ticket-category") }</dt><dd>{ category_text(&i18n, t) }</dd>
                            <dt>{ i18n.t("ticket-assignee") }</dt><dd id="ticket-assignee">{ dir.assignee(&i18n, t.assignee_user_id, t.assignee_team_id) }</dd>
                            <dt>{ i18n.t("ticket-due") }</dt>
                            <dd id="ticket-due">{ t.due_at.map(|d| i18n.datetime(&d)).unwrap_or_else(|| "—".into()) }{ " " }{ sla_badge(&i18n, t) }</dd>
                            <dt>{ i18n.t("ticket-created") }</dt><dd>{ i18n.datetime(&t.created_at) }</dd>
                        </dl>
                        if let Some(c) = t.customer_id { <TicketCustomer customer={c} /> }
                        if !t.description.is_empty() { <p class="ticket-description" id="ticket-description">{ &t.description }</p> }
                        if t.assignee_user_id != dir.me {
                            <button type="button" class="secondary" id="ticket-take" onclick={take} disabled={*busy}>{ i18n.t("ticket-take") }</button>
                        }
                    </section>
                    <section class="card" aria-labelledby="ticket-actions-h">
                        <h2 id="ticket-actions-h">{ i18n.t("ticket-actions") }</h2>
                        <form id="ticket-comment-form" onsubmit={on_comment}>
                            <div class="field">
                                <label for="ticket-comment">{ i18n.t("ticket-comment") }</label>
                                <textarea id="ticket-comment" rows="3" value={(*comment).clone()} oninput={on_text} onchange={on_text_change} />
                                <p class="hint">{ i18n.t("ticket-comment-hint") }</p>
                            </div>
                            <Checkbox id="ticket-internal" label={i18n.t("ticket-internal")} checked={*internal}
                                onchange={let i = internal.clone(); Callback::from(move |v| i.set(v))} />
                            <div class="button-row" id="ticket-moves">
                                <button type="submit" id="ticket-comment-add" class="secondary" disabled={*busy}>
                                    { if *internal { i18n.t("ticket-add-note") } else { i18n.t("ticket-add-comment") } }
                                </button>
                                { moves }
                            </div>
                        </form>
                    </section>
                </div>
                <div class="stack">
                    <crate::attachments::Attachments base={format!("/tickets/{id}/attachments")} id="ticket"
                        editable={t.closed_at.is_none()} />
                    <section class="card" aria-labelledby="ticket-history-h">
                        <h2 id="ticket-history-h">{ i18n.t("ticket-history") }</h2>
                        { history }
                    </section>
                </div>
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct TicketCustomerProps {
    customer: Uuid,
}

/// The ticket's customer: name and numbers, each with click-to-call.
#[function_component]
fn TicketCustomer(p: &TicketCustomerProps) -> Html {
    let i18n = use_i18n();
    let (c, _) = use_get::<hotline_wire::crm::CustomerDto>(format!("/customers/{}", p.customer));
    let Load::Ready(c) = c else { return html! {} };
    html! {
        <dl class="facts" id="ticket-customer">
            <dt>{ i18n.t("ticket-customer") }</dt><dd id="ticket-customer-name">{ &c.name }</dd>
            { for c.phones.iter().enumerate().map(|(i, ph)| html! {
                <>
                    <dt>{ if ph.label.is_empty() { i18n.t("ticket-customer-phone") } else { ph.label.clone() } }</dt>
                    <dd>{ &ph.number }{ " " }
                        <crate::pages::calls::ClickToCall number={ph.number.clone()} id={format!("ticket-phone-call-{i}")} />
                    </dd>
                </>
            }) }
        </dl>
    }
}
