//! The full page: every route, with the engine. See `ARCHITECTURE.md`.

fn main() {
    poser_app::start_full();
}
