//! The app's frames: navigation, routes, and the page-wide backend state.
//!
//! Two bundles are built from this crate (see ARCHITECTURE.md): [`App`], every page with the
//! engine and burn, and [`ReaderApp`], only the report pages, which run no models and so load
//! without burn's code. `index.html`'s loader picks one by the address.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::pages::{
    BenchmarkPage, DebugFineTune, DebugForward, DebugPanic, DebugStrategies, NotFound, Overview,
    Playground, ResultsPage, StrategiesIndex, StrategyPage, SystemPage, ZooPage,
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
            <TopBar reader=false />
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Overview />
                    <Route path=path!("/zoo") view=ZooPage />
                    <Route path=path!("/playground") view=Playground />
                    <Route path=path!("/benchmark") view=BenchmarkPage />
                    <Route path=path!("/results") view=ResultsPage />
                    <Route path=path!("/strategies") view=StrategiesIndex />
                    <Route path=path!("/strategies/:name") view=StrategyPage />
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

/// The report pages alone (`/benchmark`, `/results`): no backend starts and no model loads.
#[component]
pub fn ReaderApp() -> impl IntoView {
    view! {
        <Router>
            <TopBar reader=true />
            <main>
                <Routes fallback=FullAppPage>
                    <Route path=path!("/benchmark") view=BenchmarkPage />
                    <Route path=path!("/results") view=ResultsPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The navigation bar's pages: address, label, and whether the page runs models (and so lives
/// only in the full bundle).
const PAGES: [(&str, &str, bool); 7] = [
    ("/", "Overview", true),
    ("/zoo", "Zoo", true),
    ("/playground", "Playground", true),
    ("/benchmark", "Benchmark", false),
    ("/strategies", "Strategies", true),
    ("/results", "Results", false),
    ("/system", "System", true),
];

/// The bar on every page. In the reader bundle, links to pages that run models are ordinary
/// links (`rel="external"`, which the router leaves alone), so the browser loads the full bundle.
#[component]
fn TopBar(reader: bool) -> impl IntoView {
    let links = PAGES
        .iter()
        .map(|&(href, label, needs_engine)| {
            if reader && needs_engine {
                view! { <a href=href rel="external">{label}</a> }.into_any()
            } else {
                view! { <A href=href exact=true>{label}</A> }.into_any()
            }
        })
        .collect_view();
    view! {
        <header class="top-bar">
            <a href="/" class="brand" rel=reader.then_some("external")>"Poser Lab"</a>
            <nav aria-label="Pages">{links}</nav>
            {if reader {
                view! {
                    <a href="/system" rel="external" class="badge" data-testid="backend-badge"
                        title="The report pages run no models, so no backend is started">
                        "report view · no models"
                    </a>
                }
                .into_any()
            } else {
                view! { <BackendBadge /> }.into_any()
            }}
        </header>
    }
}

/// Reached in the reader bundle when the router moves to a page it does not hold: the address
/// is loaded again, and the loader then picks the full bundle.
#[component]
fn FullAppPage() -> impl IntoView {
    let reloaded = window()
        .location()
        .href()
        .and_then(|href| window().location().replace(&href));
    let message = match reloaded {
        Ok(()) => "Loading the full app…".to_owned(),
        Err(error) => format!(
            "This page needs the full app, but reloading failed ({error:?}); reload the page."
        ),
    };
    view! { <section class="page" data-testid="loading-full-app"><p>{message}</p></section> }
}
