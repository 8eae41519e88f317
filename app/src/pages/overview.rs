//! The landing page: what Poser Lab is and what the backend is doing.

use leptos::prelude::*;

use crate::system::SystemPanel;

/// `/`.
#[component]
pub fn Overview() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Poser Lab"</h1>
            <p class="lead">
                "A live re-creation of the Poser benchmark (Clymer, Juang and Field, arXiv 2405.05466): "
                "pairs of small language models, one aligned and one faking alignment, that behave "
                "identically on the prompts a detector may use. Each detection strategy looks inside "
                "both models and must say which one is the faker."
            </p>
            <p>
                "Start with "<a href="/zoo">"the zoo"</a>" and "<a href="/playground">"the playground"</a>
                " to meet the models; "<a href="/benchmark">"the benchmark"</a>" says which prompts a detector may use "
                "and how far plain confidence gets; "<a href="/results">"the results"</a>" set every strategy of the "
                "committed report beside the paper's numbers, with the violins of their scores."
            </p>
            <p>
                "The models run in this tab. The panel below shows the backend they run on; the full "
                "details are on the "<a href="/system">"System"</a>" page."
            </p>
            <SystemPanel />
        </section>
    }
}
