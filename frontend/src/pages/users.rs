//! Users: list with search and paging; create, edit, deactivate, reset password.

use std::rc::Rc;

use hotline_wire::api::{
    CreateUser, Page, ResetPasswordRequest, RoleDto, SkillDto, SkillLevel, TeamDto, UpdateUser,
    UserDto,
};
use hotline_wire::permissions as perm;
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::use_i18n;
use crate::pages::auth::{password_message, translate_password_errors, PasswordMeter};
use crate::pages::desk_phone::{use_desk_phones, DeskPhoneCard, DeskPhoneStatusCell};
use crate::route::{use_app, Flash, Route, Session};

const PER_PAGE: i64 = 20;

/// Teams as `(id, indented name)` in tree order, for pickers.
pub fn team_options(teams: &[TeamDto]) -> Vec<(Uuid, String)> {
    fn walk(teams: &[TeamDto], parent: Option<Uuid>, depth: usize, out: &mut Vec<(Uuid, String)>) {
        let mut kids: Vec<&TeamDto> = teams.iter().filter(|t| t.parent_id == parent).collect();
        kids.sort_by_key(|t| t.name.to_lowercase());
        for t in kids {
            if out.iter().any(|(id, _)| *id == t.id) {
                continue; // a cycle in bad data must not hang the page
            }
            out.push((t.id, format!("{}{}", "\u{2003}".repeat(depth), t.name)));
            walk(teams, Some(t.id), depth + 1, out);
        }
    }
    let mut out = vec![];
    walk(teams, None, 0, &mut out);
    // Orphans (parent not visible) still appear.
    for t in teams {
        if !out.iter().any(|(id, _)| *id == t.id) {
            out.push((t.id, t.name.clone()));
        }
    }
    out
}

#[function_component]
pub fn UsersPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let query = use_state(String::new);
    let typed = use_state(String::new);
    let page = use_state(|| 1i64);
    let inactive = use_state(|| false);
    let path = format!(
        "/users?page={}&per_page={}&q={}&include_inactive={}",
        *page,
        PER_PAGE,
        api::enc(&query),
        *inactive
    );
    let (users, reload) = use_get::<Page<UserDto>>(path);
    let (teams, _) = use_get::<Vec<TeamDto>>("/teams".into());
    let (phones, _) = use_desk_phones();
    let can_write = app.session.can(perm::USERS_WRITE);

    let onsearch = {
        let (query, typed, page) = (query.clone(), typed.clone(), page.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            query.set(typed.trim().to_string());
            page.set(1);
        })
    };
    let team_name = |id: Option<Uuid>| -> String {
        match (&teams, id) {
            (Load::Ready(ts), Some(id)) => ts
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            _ => String::new(),
        }
    };

    let table = render_load(&users, &reload, |p| {
        if p.items.is_empty() {
            let action = can_write.then(|| html! {
                <Link<Route> to={Route::User { id: "new".into() }} classes="button primary">{ i18n.t("users-new") }</Link<Route>>
            });
            return html! { <EmptyState message={i18n.t("users-empty")} {action} /> };
        }
        let cols = vec![
            Col::new(i18n.t("user-name")),
            Col::new(i18n.t("user-email")),
            Col::new(i18n.t("user-role")),
            Col::new(i18n.t("user-team")),
            Col::new(i18n.t("user-extension")),
            Col::plain(i18n.t("desk-phone-title")),
            Col::num(i18n.t("user-skills")),
            Col::new(i18n.t("user-status")),
            Col::new(i18n.t("user-created")),
        ];
        let rows: Vec<TableRow> = p.items.iter().map(|u| {
            let team = team_name(u.team_id);
            let ext = u.extension.clone().unwrap_or_default();
            TableRow {
                keys: vec![
                    u.name.as_str().into(),
                    u.email.as_str().into(),
                    u.role_name.as_str().into(),
                    team.as_str().into(),
                    ext.as_str().into(),
                    SortKey::Num(0),
                    (u.skills.len() as i64).into(),
                    (u.active as i64).into(),
                    u.created_at.timestamp().into(),
                ],
                html: html! {
                    <tr key={u.id.to_string()} class={classes!((!u.active).then_some("inactive"))}>
                        <td><Link<Route> to={Route::User { id: u.id.to_string() }}>{ &u.name }</Link<Route>></td>
                        <td>{ &u.email }</td>
                        <td>{ &u.role_name }</td>
                        <td>{ team }</td>
                        <td>{ ext }</td>
                        <td><DeskPhoneStatusCell user_id={u.id} phones={phones.clone()} /></td>
                        <td class="num">{ i18n.number(u.skills.len() as i64) }</td>
                        <td>{ if u.active { html!{<span class="badge ok">{ i18n.t("status-active") }</span>} } else { html!{<span class="badge">{ i18n.t("status-inactive") }</span>} } }</td>
                        <td>{ i18n.datetime(&u.created_at) }</td>
                    </tr>
                },
            }
        }).collect();
        // The server pages (and orders by name); the headers sort the page shown.
        html! {
            <>
            <DataTable id="users-table" caption={i18n.t("users-title")} {cols} {rows} per_page={0} />
            <Pager page={p.page} per_page={p.per_page} total={p.total}
                on_page={let page = page.clone(); Callback::from(move |n| page.set(n))} />
            </>
        }
    });

    html! {
        <>
            <div class="page-head">
                <h1>{ i18n.t("users-title") }</h1>
                if can_write {
                    <Link<Route> to={Route::User { id: "new".into() }} classes="button primary" >{ i18n.t("users-new") }</Link<Route>>
                }
            </div>
            <form class="toolbar" role="search" onsubmit={onsearch}>
                <label for="user-search">{ i18n.t("users-search") }</label>
                <input id="user-search" type="search" value={(*typed).clone()}
                    oninput={let typed = typed.clone(); move |e: InputEvent| {
                        let el: web_sys::HtmlInputElement = e.target_unchecked_into(); typed.set(el.value()) }} />
                <button type="submit" class="secondary">{ i18n.t("action-search") }</button>
                <Checkbox id="include-inactive" label={i18n.t("users-include-inactive")} checked={*inactive}
                    onchange={let (inactive, page) = (inactive.clone(), page.clone()); Callback::from(move |v| { inactive.set(v); page.set(1); })} />
            </form>
            { table }
        </>
    }
}

#[derive(Clone, PartialEq, Default)]
struct UserForm {
    name: String,
    email: String,
    password: String,
    role_id: String,
    team_id: String,
    extension: String,
    /// Chosen skills with their levels (kept as typed, validated on submit).
    skills: Vec<(Uuid, String)>,
    active: bool,
}

impl UserForm {
    fn from_user(u: &UserDto) -> Self {
        UserForm {
            name: u.name.clone(),
            email: u.email.clone(),
            password: String::new(),
            role_id: u.role_id.to_string(),
            team_id: u.team_id.map(|t| t.to_string()).unwrap_or_default(),
            extension: u.extension.clone().unwrap_or_default(),
            skills: u
                .skills
                .iter()
                .map(|s| (s.skill_id, s.level.to_string()))
                .collect(),
            active: u.active,
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct UserPageProps {
    pub id: String,
}

#[function_component]
pub fn UserPage(p: &UserPageProps) -> Html {
    let i18n = use_i18n();
    let creating = p.id == "new";
    let (roles, reload_roles) = use_get::<Vec<RoleDto>>("/roles".into());
    let (teams, reload_teams) = use_get::<Vec<TeamDto>>("/teams".into());
    let (skills, reload_skills) = use_get::<Vec<SkillDto>>("/skills".into());
    let user_path = if creating {
        String::new()
    } else {
        format!("/users/{}", p.id)
    };
    let user = use_state(|| None::<Result<Rc<UserDto>, ApiError>>);
    {
        let user = user.clone();
        use_effect_with(user_path, move |path| {
            let path = path.clone();
            user.set(None);
            if !path.is_empty() {
                spawn(async move { user.set(Some(api::get::<UserDto>(&path).await.map(Rc::new))) });
            }
        });
    }

    let retry = Callback::from(move |_| {
        reload_roles.emit(());
        reload_teams.emit(());
        reload_skills.emit(());
    });
    // Any failure is shown (with a retry); otherwise wait until all three are loaded.
    if let Some(e) = [load_error(&roles), load_error(&teams), load_error(&skills)]
        .into_iter()
        .flatten()
        .next()
    {
        return html! { <ErrorBox error={e} {retry} /> };
    }
    let (Load::Ready(roles), Load::Ready(teams), Load::Ready(skills)) = (roles, teams, skills)
    else {
        return html! { <Loading /> };
    };
    let existing = if creating {
        None
    } else {
        match &*user {
            None => return html! { <Loading /> },
            Some(Err(e)) => return html! { <ErrorBox error={e.clone()} /> },
            Some(Ok(u)) => Some(u.clone()),
        }
    };
    let title = match &existing {
        Some(u) => i18n.ta("user-edit-title", &[("name", u.name.clone().into())]),
        None => i18n.t("user-new-title"),
    };
    let on_saved = {
        let user = user.clone();
        Callback::from(move |u: UserDto| user.set(Some(Ok(Rc::new(u)))))
    };
    html! {
        <>
            <p class="crumbs"><Link<Route> to={Route::Users}>{ i18n.t("users-title") }</Link<Route>></p>
            <h1>{ title }</h1>
            <div class="two-col wide-left">
                <UserEditor key={existing.as_ref().map(|u| u.id.to_string()).unwrap_or_default()}
                    existing={existing.clone()} {roles} {teams} {skills} {on_saved} />
                if let Some(u) = existing {
                    <div class="stack">
                        <DeskPhoneCard user={u.clone()} />
                        <ResetPassword user={u.clone()} />
                        <Deactivate user={u} on_saved={let user = user.clone(); Callback::from(move |u: UserDto| user.set(Some(Ok(Rc::new(u)))))} />
                    </div>
                }
            </div>
        </>
    }
}

/// The error of a failed load, if it failed.
fn load_error<T>(l: &Load<Rc<T>>) -> Option<ApiError> {
    match l {
        Load::Failed(e) => Some(e.clone()),
        _ => None,
    }
}

#[derive(Properties, PartialEq)]
struct UserEditorProps {
    existing: Option<Rc<UserDto>>,
    roles: Rc<Vec<RoleDto>>,
    teams: Rc<Vec<TeamDto>>,
    skills: Rc<Vec<SkillDto>>,
    on_saved: Callback<UserDto>,
}

const USER_FIELDS: &[&str] = &[
    "name",
    "email",
    "password",
    "role_id",
    "team_id",
    "extension",
    "skills",
];

#[function_component]
fn UserEditor(p: &UserEditorProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let navigator = use_navigator().expect("router");
    let form = {
        let existing = p.existing.clone();
        let default_role = p
            .roles
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case("agent"))
            .or(p.roles.first())
            .map(|r| r.id.to_string())
            .unwrap_or_default();
        use_reducer(move || {
            Form(match existing {
                Some(u) => UserForm::from_user(&u),
                None => UserForm {
                    role_id: default_role,
                    active: true,
                    ..Default::default()
                },
            })
        })
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let toast = use_toast();
    let busy = use_state(|| false);
    let can_write = app.session.can(perm::USERS_WRITE);
    let company = tenant_name(&app.session);

    let onsubmit = {
        let (form, errors, failure, toast, busy, i18n) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            toast.clone(),
            busy.clone(),
            i18n.clone(),
        );
        let existing = p.existing.clone();
        let on_saved = p.on_saved.clone();
        let app = app.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "name", &f.name);
            c.required(&i18n, "email", &f.email);
            c.email(&i18n, "email", &f.email);
            if existing.is_none() {
                c.required(&i18n, "password", &f.password);
            }
            let role_id = f.role_id.parse::<Uuid>().ok();
            if role_id.is_none() {
                c.fail("role_id", i18n.t("form-required"));
            }
            let mut levels = vec![];
            for (skill_id, level) in &f.skills {
                match level.trim().parse::<i16>() {
                    Ok(l) if (1..=10).contains(&l) => levels.push(SkillLevel {
                        skill_id: *skill_id,
                        level: l,
                    }),
                    _ => c.fail(&format!("skill-{skill_id}"), i18n.t("form-level-range")),
                }
            }
            errors.set(c.errors.clone());
            failure.set(None);
            let Some(role_id) = role_id else { return };
            if !c.ok() {
                return;
            }
            busy.set(true);
            let team_id = f.team_id.parse::<Uuid>().ok();
            let extension = Some(f.extension.trim().to_string()).filter(|s| !s.is_empty());
            let (errors, failure, toast, busy, existing, on_saved, app, navigator) = (
                errors.clone(),
                failure.clone(),
                toast.clone(),
                busy.clone(),
                existing.clone(),
                on_saved.clone(),
                app.clone(),
                navigator.clone(),
            );
            let i18n = i18n.clone();
            spawn(async move {
                let result = match &existing {
                    None => {
                        let req = CreateUser {
                            email: f.email.trim().into(),
                            name: f.name.trim().into(),
                            password: f.password.clone(),
                            role_id,
                            team_id,
                            extension,
                            skills: levels,
                        };
                        api::post::<_, UserDto>("/users", &req).await
                    }
                    Some(u) => {
                        let req = UpdateUser {
                            email: Some(f.email.trim().into()),
                            name: Some(f.name.trim().into()),
                            role_id: Some(role_id),
                            team_id: Some(team_id),
                            extension: Some(extension),
                            active: None,
                            skills: Some(levels),
                        };
                        api::patch::<_, UserDto>(&format!("/users/{}", u.id), &req).await
                    }
                };
                busy.set(false);
                match result {
                    Ok(u) if existing.is_none() => {
                        app.set_flash.emit(Some(Flash {
                            key: "flash-user-created".into(),
                            error: false,
                            arg: Some(u.name.clone()),
                        }));
                        navigator.push(&Route::Users);
                    }
                    Ok(u) => {
                        toast.ok(i18n.ta("toast-saved", &[("name", u.name.clone().into())]));
                        on_saved.emit(u);
                    }
                    Err(e) => {
                        errors.set(translate_password_errors(
                            &i18n,
                            map_skill_errors(e.field_errors(), &f.skills),
                        ));
                        failure.set(Some(e));
                    }
                }
            });
        })
    };

    let mut role_opts: Vec<(String, String)> = p
        .roles
        .iter()
        .map(|r| (r.id.to_string(), r.name.clone()))
        .collect();
    role_opts.sort_by(|a, b| a.1.cmp(&b.1));
    let mut team_opts = vec![(String::new(), i18n.t("user-no-team"))];
    team_opts.extend(
        team_options(&p.teams)
            .into_iter()
            .map(|(id, n)| (id.to_string(), n)),
    );
    let creating = p.existing.is_none();
    let other = other_errors(&errors, USER_FIELDS);

    html! {
        <form id="user-form" class="card" {onsubmit} novalidate=true>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { other }
            <TextField id="name" label={i18n.t("user-name")} value={form.0.name.clone()}
                oninput={bind(&form, |f, v| f.name = v)} error={errors.get("name").cloned()} required=true />
            <TextField id="email" kind="email" label={i18n.t("user-email")} value={form.0.email.clone()}
                oninput={bind(&form, |f, v| f.email = v)} error={errors.get("email").cloned()} required=true
                autocomplete="off" />
            if creating {
                <TextField id="password" kind="password" label={i18n.t("user-initial-password")} value={form.0.password.clone()}
                    oninput={bind(&form, |f, v| f.password = v)} error={errors.get("password").cloned()} required=true
                    autocomplete="new-password" hint={i18n.t("password-hint")} />
                <PasswordMeter for_id="password" password={form.0.password.clone()} email={form.0.email.clone()}
                    name={form.0.name.clone()} company={company.clone()} />
            }
            <div class="row">
                <SelectField id="role_id" label={i18n.t("user-role")} value={form.0.role_id.clone()} options={role_opts}
                    onchange={bind(&form, |f, v| f.role_id = v)} error={errors.get("role_id").cloned()} required=true />
                <SelectField id="team_id" label={i18n.t("user-team")} value={form.0.team_id.clone()} options={team_opts}
                    onchange={bind(&form, |f, v| f.team_id = v)} error={errors.get("team_id").cloned()} />
                <TextField id="extension" label={i18n.t("user-extension")} value={form.0.extension.clone()}
                    oninput={bind(&form, |f, v| f.extension = v)} error={errors.get("extension").cloned()} />
            </div>
            <fieldset class="skills" aria-describedby={errors.get("skills").map(|_| "skills-error")}>
                <legend>{ i18n.t("user-skills-levels") }</legend>
                if p.skills.is_empty() {
                    <p class="muted">{ i18n.t("user-no-skills-defined") }</p>
                }
                { for p.skills.iter().map(|s| skill_row(&i18n, &form, &errors, s)) }
                if let Some(e) = errors.get("skills") { <p class="field-error" id="skills-error">{ e }</p> }
            </fieldset>
            if can_write {
                <button type="submit" id="user-save" class="primary" disabled={*busy}>
                    { if creating { i18n.t("user-create") } else { i18n.t("action-save") } }
                </button>
            }
        </form>
    }
}

/// `skills[2].level` from the server → the error shown next to that skill's level.
fn map_skill_errors(mut e: FieldErrors, skills: &[(Uuid, String)]) -> FieldErrors {
    let keys: Vec<String> = e
        .keys()
        .filter(|k| k.starts_with("skills["))
        .cloned()
        .collect();
    for k in keys {
        let idx = k
            .trim_start_matches("skills[")
            .split(']')
            .next()
            .and_then(|n| n.parse::<usize>().ok());
        if let (Some(i), Some(msg)) = (idx, e.remove(&k)) {
            match skills.get(i) {
                Some((id, _)) => e.insert(format!("skill-{id}"), msg),
                None => e.insert("skills".into(), msg),
            };
        }
    }
    e
}

/// Server errors for fields this form does not show next to an input.
pub fn other_errors(errors: &FieldErrors, shown: &[&str]) -> Html {
    let mut rest: Vec<(&String, &String)> = errors
        .iter()
        .filter(|(k, _)| !shown.contains(&k.as_str()) && !k.starts_with("skill-"))
        .collect();
    if rest.is_empty() {
        return html! {};
    }
    rest.sort();
    html! {
        <ul class="field-errors-list" role="alert">
            { for rest.into_iter().map(|(k, v)| html! { <li><code>{ k }</code>{ ": " }{ v }</li> }) }
        </ul>
    }
}

fn skill_row(
    i18n: &crate::i18n::I18n,
    form: &UseReducerHandle<Form<UserForm>>,
    errors: &FieldErrors,
    s: &SkillDto,
) -> Html {
    let id = s.id;
    let chosen = form
        .0
        .skills
        .iter()
        .find(|(k, _)| *k == id)
        .map(|(_, l)| l.clone());
    let check_id = format!("skill-{id}");
    let level_id = format!("skill-level-{id}");
    let toggle = {
        let d = form.dispatcher();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            let on = el.checked();
            d.dispatch(Box::new(move |f: &mut UserForm| {
                f.skills.retain(|(k, _)| *k != id);
                if on {
                    f.skills.push((id, "5".into()));
                }
            }))
        })
    };
    let level = {
        let d = form.dispatcher();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            let v = el.value();
            d.dispatch(Box::new(move |f: &mut UserForm| {
                if let Some(entry) = f.skills.iter_mut().find(|(k, _)| *k == id) {
                    entry.1 = v;
                }
            }))
        })
    };
    let err = errors.get(&check_id).cloned();
    let err_id = format!("{check_id}-error");
    html! {
        <div class={classes!("skill-row", err.is_some().then_some("invalid"))}>
            <input type="checkbox" id={check_id.clone()} checked={chosen.is_some()} onchange={toggle} />
            <label for={check_id.clone()} class="skill-name">{ &s.name }</label>
            <label for={level_id.clone()} class="sr-only">{ i18n.ta("user-skill-level-of", &[("skill", s.name.clone().into())]) }</label>
            <input type="number" id={level_id} class="level" min="1" max="10" step="1"
                value={chosen.clone().unwrap_or_default()} disabled={chosen.is_none()} oninput={level}
                aria-invalid={err.is_some().then_some("true")}
                aria-describedby={err.is_some().then(|| err_id.clone())}
                title={i18n.t("user-level-hint")} />
            if let Some(e) = err { <span class="field-error" id={err_id}>{ e }</span> }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct UserProp {
    user: Rc<UserDto>,
    #[prop_or_default]
    on_saved: Callback<UserDto>,
}

/// The signed-in user's company (a password must not contain it).
fn tenant_name(session: &Session) -> String {
    match session {
        Session::User(s) => s.tenant.name.clone(),
        _ => String::new(),
    }
}

/// A manager sets a new password for the user.
#[function_component]
fn ResetPassword(p: &UserProp) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let value = use_state(String::new);
    let error = use_state(|| None::<String>);
    let failure = use_state(|| None::<ApiError>);
    let toast = use_toast();
    if !app.session.can(perm::USERS_WRITE) {
        return html! {};
    }
    let company = tenant_name(&app.session);
    let onsubmit = {
        let (value, error, failure, toast, i18n) = (
            value.clone(),
            error.clone(),
            failure.clone(),
            toast.clone(),
            i18n.clone(),
        );
        let id = p.user.id;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            failure.set(None);
            if value.trim().is_empty() {
                error.set(Some(i18n.t("form-required")));
                return;
            }
            error.set(None);
            let (value, error, failure, toast) =
                (value.clone(), error.clone(), failure.clone(), toast.clone());
            let i18n = i18n.clone();
            spawn(async move {
                let req = ResetPasswordRequest {
                    new_password: (*value).clone(),
                };
                match api::post_empty(&format!("/users/{id}/reset-password"), &req).await {
                    Ok(()) => {
                        toast.ok(i18n.t("user-password-reset-done"));
                        value.set(String::new());
                    }
                    Err(e) => {
                        error.set(
                            e.field_errors()
                                .get("new_password")
                                .map(|m| password_message(&i18n, m)),
                        );
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    html! {
        <form class="card" {onsubmit} novalidate=true aria-labelledby="reset-title">
            <h2 id="reset-title">{ i18n.t("user-reset-password") }</h2>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <TextField id="reset_password" kind="password" label={i18n.t("account-new-password")} value={(*value).clone()}
                oninput={let v = value.clone(); Callback::from(move |s| v.set(s))} error={(*error).clone()}
                autocomplete="new-password" hint={i18n.t("user-reset-hint")} />
            <PasswordMeter for_id="reset_password" password={(*value).clone()} email={p.user.email.clone()}
                name={p.user.name.clone()} company={company} />
            <button type="submit" class="secondary">{ i18n.t("user-reset-password") }</button>
        </form>
    }
}

/// Deactivate (DELETE) or reactivate a user, with a confirmation step.
#[function_component]
fn Deactivate(p: &UserProp) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let confirming = use_state(|| false);
    let failure = use_state(|| None::<ApiError>);
    if !app.session.can(perm::USERS_WRITE) {
        return html! {};
    }
    let u = p.user.clone();
    let act = {
        let (confirming, failure, on_saved, u) = (
            confirming.clone(),
            failure.clone(),
            p.on_saved.clone(),
            u.clone(),
        );
        Callback::from(move |()| {
            confirming.set(false);
            let (failure, on_saved, u) = (failure.clone(), on_saved.clone(), u.clone());
            spawn(async move {
                let path = format!("/users/{}", u.id);
                let r = if u.active {
                    match api::delete(&path).await {
                        Ok(()) => api::get::<UserDto>(&path).await,
                        Err(e) => Err(e),
                    }
                } else {
                    let req = UpdateUser {
                        active: Some(true),
                        ..Default::default()
                    };
                    api::patch::<_, UserDto>(&path, &req).await
                };
                match r {
                    Ok(u) => on_saved.emit(u),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    html! {
        <section class="card" aria-labelledby="status-title">
            <h2 id="status-title">{ i18n.t("user-status") }</h2>
            <p>{ if u.active { i18n.t("user-is-active") } else { i18n.t("user-is-inactive") } }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            if !u.active {
                <button type="button" class="secondary" id="user-reactivate" onclick={let a = act.clone(); move |_| a.emit(())}>{ i18n.t("user-reactivate") }</button>
            } else {
                <button type="button" class="danger" id="user-deactivate" aria-haspopup="dialog"
                    onclick={let c = confirming.clone(); move |_| c.set(true)}>{ i18n.t("user-deactivate") }</button>
                if *confirming {
                    <ConfirmDialog title={i18n.ta("user-deactivate-confirm", &[("name", u.name.clone().into())])}
                        confirm={i18n.t("user-deactivate")} confirm_id="user-deactivate-confirm"
                        on_confirm={act} on_cancel={let c = confirming.clone(); move |_| c.set(false)} />
                }
            }
        </section>
    }
}
