//! The page's scenario files (`public/scenarios/`) are what `poser scenarios export-page` makes
//! from the committed benchmark candidates.

use std::path::Path;

#[test]
fn committed_page_scenarios_match_the_benchmark_candidates() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let families = poser_corpus::io::export_page_scenarios(
        &root.join("scenarios/generated"),
        &root.join("public/scenarios"),
        true,
    )
    .map_err(|error| error.to_string())?;
    assert_eq!(families, 9, "one file per family");
    Ok(())
}
