//! The report pages' bundle: `/benchmark` and `/results`, without burn. See `ARCHITECTURE.md`.

fn main() {
    poser_app::start_reader();
}
