//! Poser Lab's page. Runs in the browser only; see `ARCHITECTURE.md`.

mod app;
mod chart_frame;
mod fetch;
mod gpu_probe;
mod pages;
mod panic_view;
mod report_charts;
mod report_data;
mod system;
mod zoo;

fn main() {
    // First, so that a panic anywhere after this shows the error view instead of a dead page.
    panic_view::install();
    leptos::mount::mount_to_body(app::App);
}
