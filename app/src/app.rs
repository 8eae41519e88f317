//! The app's frame: navigation, routes, and the page-wide backend state.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::pages::{
    BenchmarkPage, DebugFineTune, DebugForward, DebugPanic, DebugStrategies, NotFound, Overview,
    Playground, ResultsPage, SystemPage, ZooPage,
};
use crate::system::{self, BackendBadge, Requested, SystemState};
use crate::zoo::ZooCache;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let state = RwSignal::new_local(SystemState::Starting("loading"));
    provide_context(state);
    spawn_local(system::start(Requested::from_address(), state));
    ZooCache::provide();

    view! {
        <Router>
            <header class="top-bar">
                <a href="/" class="brand">"Poser Lab"</a>
                <nav aria-label="Pages">
                    <A href="/" exact=true>"Overview"</A>
                    <A href="/zoo">"Zoo"</A>
                    <A href="/playground">"Playground"</A>
                    <A href="/benchmark">"Benchmark"</A>
                    <A href="/results">"Results"</A>
                    <A href="/system">"System"</A>
                </nav>
                <BackendBadge />
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Overview />
                    <Route path=path!("/zoo") view=ZooPage />
                    <Route path=path!("/playground") view=Playground />
                    <Route path=path!("/benchmark") view=BenchmarkPage />
                    <Route path=path!("/results") view=ResultsPage />
                    <Route path=path!("/system") view=SystemPage />
                    <Route path=path!("/debug/panic") view=DebugPanic />
                    <Route path=path!("/debug/forward") view=DebugForward />
                    <Route path=path!("/debug/fine-tune") view=DebugFineTune />
                    <Route path=path!("/debug/strategies") view=DebugStrategies />
                </Routes>
            </main>
        </Router>
    }
}
