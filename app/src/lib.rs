//! Poser Lab's page. Runs in the browser only; see `ARCHITECTURE.md`.
//!
//! Two binaries start it: `poser-app` ([`start_full`]) and `poser-reader` ([`start_reader`]).
//! The reader calls nothing that runs a model, so the linker leaves burn out of its wasm.

mod address;
mod app;
mod chart_frame;
mod fetch;
mod gpu_probe;
mod pages;
mod panic_view;
mod report_charts;
mod report_data;
mod strategy_worker;
mod system;
mod zoo;

/// Mounts every page, with the engine.
pub fn start_full() {
    // The strategy pages run this same wasm in a Web Worker, which serves runs instead.
    if strategy_worker::in_worker() {
        strategy_worker::serve();
        return;
    }
    // First, so that a panic anywhere after this shows the error view instead of a dead page.
    panic_view::install();
    leptos::mount::mount_to_body(app::App);
}

/// Mounts the report pages only (`/benchmark`, `/results`).
pub fn start_reader() {
    panic_view::install();
    leptos::mount::mount_to_body(app::ReaderApp);
}
