//! Page state kept in the address: a navigator that changes some query keys of the current
//! address and keeps the rest (such as `backend`), without adding history entries.

use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

/// Goes to an address.
type Go = Rc<dyn Fn(&str)>;

/// Changes the current address's query (the router's navigation, taken while the page is
/// built so that event handlers can use it).
#[derive(Clone, Copy)]
pub struct Navigator {
    go: StoredValue<Go, LocalStorage>,
    version: &'static str,
}

impl Navigator {
    /// A navigator that writes `v=version` into every address it makes.
    pub fn new(version: &'static str) -> Self {
        let navigate = use_navigate();
        let go: Go = Rc::new(move |url: &str| {
            navigate(
                url,
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        });
        Self {
            go: StoredValue::new_local(go),
            version,
        }
    }

    /// Goes to the current address with `changes` applied (`None` removes a key).
    pub fn change(self, changes: &[(&str, Option<String>)]) {
        let location = web_sys::window().map(|w| w.location());
        let path = location
            .as_ref()
            .and_then(|l| l.pathname().ok())
            .unwrap_or_default();
        let search = location.and_then(|l| l.search().ok()).unwrap_or_default();
        let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
            return;
        };
        params.set("v", self.version);
        for (key, value) in changes {
            match value {
                Some(value) => params.set(key, value),
                None => params.delete(key),
            }
        }
        let url = format!("{path}?{}", String::from(params.to_string()));
        self.go.with_value(|go| go(&url));
    }
}
