//! Hotline's single-page app: agent desktop, tenant administration and the platform
//! operators' console, in one Yew (CSR) application compiled to wasm32.

// The desk and console builds (features `desk`, `console`) each leave the other's screens
// unused; the default build with both is the one linted.
#![cfg_attr(
    not(all(feature = "desk", feature = "console")),
    allow(dead_code, unused_imports)
)]

mod api;
mod app;
mod attachments;
mod components;
mod i18n;
mod nav;
mod notifications;
mod pages;
mod route;
mod softphone;

fn main() {
    route::publish_routes();
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"));
    match root {
        Some(root) => {
            // Replace the "Loading…" placeholder written by index.html.
            root.set_inner_html("");
            yew::Renderer::<app::App>::with_root(root).render();
        }
        None => {
            yew::Renderer::<app::App>::new().render();
        }
    }
}
