//! The error view a person sees when the page panics.
//!
//! A panic leaves the wasm instance unusable, so the view is built directly with DOM calls,
//! without leptos, and the panic text is set as text (never parsed as HTML).

use std::panic::PanicHookInfo;

/// Installs the panic hook. Call once, before anything else runs.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let message = describe(info);
        web_sys::console::error_1(&format!("Poser Lab panicked: {message}").into());
        // If even the DOM is gone there is nothing left to show; the console has the message.
        let _shown = show_error_view(&message);
    }));
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info
        .payload()
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    match info.location() {
        Some(location) => format!("{payload} (at {}:{})", location.file(), location.line()),
        None => payload,
    }
}

fn show_error_view(message: &str) -> Option<()> {
    let window = web_sys::window()?;
    let document = window.document()?;
    let body = document.body()?;
    let reload_target = window.location().href().unwrap_or_else(|_| "/".to_owned());

    let section = document.create_element("section").ok()?;
    section.set_id("panic-view");
    section.set_attribute("data-testid", "panic-view").ok()?;
    section.set_attribute("role", "alert").ok()?;
    section.set_class_name("panic-view");

    let add = |tag: &str, text: &str| -> Option<web_sys::Element> {
        let element = document.create_element(tag).ok()?;
        element.set_text_content(Some(text));
        section.append_child(&element).ok()?;
        Some(element)
    };
    add("h1", "Poser Lab stopped because of an internal error")?;
    add(
        "p",
        "Something inside the page went wrong and it cannot continue. Reloading starts it again \
         at the same address.",
    )?;
    let details = add("pre", message)?;
    details.set_attribute("data-testid", "panic-message").ok()?;
    add(
        "p",
        "If this happens again after a reload, please report it with the text above.",
    )?;
    let reload = add("a", "Reload the page")?;
    reload.set_attribute("href", &reload_target).ok()?;
    reload.set_class_name("button");

    // Replace everything: the half-rendered page underneath may be inconsistent.
    body.set_text_content(None);
    body.append_child(&section).ok()?;
    Some(())
}
