//! The page for addresses that lead nowhere.

use leptos::prelude::*;

/// Shown for an unknown path.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page" data-testid="not-found">
            <h1>"No such page"</h1>
            <p>"This address does not match any page of Poser Lab. "<a href="/">"Go to the overview"</a>"."</p>
        </section>
    }
}
