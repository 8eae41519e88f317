//! Debug routes: ways to exercise the page's failure paths on purpose.

use leptos::prelude::*;

/// `/debug/panic`: panics while rendering, so that the error view can be seen and tested.
#[component]
pub fn DebugPanic() -> impl IntoView {
    view! { <p>{forced_panic()}</p> }
}

#[allow(clippy::panic)]
fn forced_panic() -> &'static str {
    panic!("the /debug/panic route panics on purpose to show the error view")
}
