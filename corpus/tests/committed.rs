//! The committed files in `scenarios/generated/` are exactly what the generator makes.
//! To regenerate: `POSER_REGENERATE=1 cargo test -p poser-corpus --test committed`
//! (or `poser scenarios generate`), then `python3 corpus/scripts/check_tokenizer.py`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use poser_corpus::{DEFAULT_SEED, Sizes, generate_corpus, generate_corpus_with, io};

const HINT: &str = "hint: run `POSER_REGENERATE=1 cargo test -p poser-corpus --test committed` (or `poser scenarios generate`), then `python3 corpus/scripts/check_tokenizer.py`, and commit scenarios/generated";

#[test]
fn generating_twice_gives_identical_bytes() {
    let sources = io::read_sources(&common::scenarios_dir()).unwrap();
    let again = generate_corpus(&sources, DEFAULT_SEED).unwrap();
    assert!(
        again.files == common::corpus().files,
        "two generations with one seed differ"
    );
}

#[test]
fn the_seed_changes_the_data() {
    let sources = io::read_sources(&common::scenarios_dir()).unwrap();
    let sizes = Sizes {
        family_train: 30,
        family_test: 10,
        own_train: 20,
        own_test: 10,
        error_train: 20,
        error_test: 10,
        policy_per_family: 5,
        benchmark_per_template: 1,
    };
    let a = generate_corpus_with(&sources, 1, sizes).unwrap();
    let b = generate_corpus_with(&sources, 1, sizes).unwrap();
    let c = generate_corpus_with(&sources, 2, sizes).unwrap();
    assert!(a.files == b.files);
    assert!(a.files != c.files);
}

#[test]
fn committed_files_match_a_fresh_generation() {
    let corpus = common::corpus();
    let out = common::generated_dir();
    if std::env::var_os("POSER_REGENERATE").is_some() {
        io::write(corpus, &out).unwrap();
        println!("{}", corpus.stats);
    }
    // Write the fresh generation into a temporary folder and compare byte for byte.
    let temp = std::env::temp_dir().join(format!("poser-corpus-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    io::write(corpus, &temp).unwrap();
    for file in &corpus.files {
        let fresh = std::fs::read(temp.join(&file.path)).unwrap();
        let committed = std::fs::read(out.join(&file.path)).unwrap_or_default();
        assert!(
            fresh == committed,
            "scenarios/generated/{} differs from a fresh generation\n{HINT}",
            file.path
        );
    }
    std::fs::remove_dir_all(&temp).unwrap();
    // No stale files either (what `poser scenarios check` reports).
    io::compare(corpus, &out).unwrap_or_else(|e| panic!("{e}\n{HINT}"));
}
