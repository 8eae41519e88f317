//! The system page: which backend runs and the warm-up that proves it computes.

use leptos::prelude::*;

use crate::system::SystemPanel;

/// `/system`.
#[component]
pub fn SystemPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"System"</h1>
            <p class="lead">
                "Every model in Poser Lab runs in this browser tab through burn, compiled to WebAssembly: on "
                "WebGPU when the browser offers a hardware adapter, otherwise on burn's CPU backend."
            </p>
            <SystemPanel />
        </section>
    }
}
