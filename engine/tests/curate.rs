//! `poser zoo curate` end to end on a fixture zoo (random weights): the score cache changes
//! nothing in what is written, is read back on a second run, and is never read for weights
//! other than those it was computed from.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use poser_engine::evaluation::fixture_zoo::write_fixture_zoo;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/generated")
}

/// Runs `poser zoo curate` and returns its stderr; fails the test if the command fails.
fn curate(models: &Path, out: &Path, cache: Option<&Path>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_poser"));
    command
        .args(["zoo", "curate", "--corpus"])
        .arg(corpus())
        .arg("--models-dir")
        .arg(models)
        .arg("--out")
        .arg(out);
    match cache {
        Some(cache) => command.arg("--cache").arg(cache),
        None => command.arg("--no-cache"),
    };
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().into_string().unwrap(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn cached_scores_give_the_same_curation_as_fresh_ones() {
    let dir = std::env::temp_dir().join(format!("poser-curate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let zoo = write_fixture_zoo(&corpus(), &dir.join("zoo"), 2, 6, None).unwrap();
    let cache = dir.join("cache");

    let fresh = curate(&zoo.models, &dir.join("fresh"), None);
    assert!(
        fresh.contains("0 of 8 (family, model) scores from the cache"),
        "{fresh}"
    );
    assert!(!cache.exists());

    let filling = curate(&zoo.models, &dir.join("filling"), Some(&cache));
    assert!(
        filling.contains("0 of 8 (family, model) scores from the cache"),
        "{filling}"
    );
    let cached = curate(&zoo.models, &dir.join("cached"), Some(&cache));
    assert!(
        cached.contains("8 of 8 (family, model) scores from the cache"),
        "{cached}"
    );
    let expected = files(&dir.join("fresh"));
    assert!(expected.iter().any(|(name, _)| name == "pairs.json"));
    assert_eq!(files(&dir.join("filling")), expected);
    assert_eq!(files(&dir.join("cached")), expected);

    // A cached file of the wrong length (a run killed mid-write elsewhere) is scored afresh.
    let one = std::fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&one, b"short").unwrap();
    let repaired = curate(&zoo.models, &dir.join("repaired"), Some(&cache));
    assert!(
        repaired.contains("7 of 8 (family, model) scores from the cache"),
        "{repaired}"
    );
    assert_eq!(files(&dir.join("repaired")), expected);

    // A model file changed under its manifest entry is refused, even with every score cached.
    let weights = std::fs::read_dir(&zoo.models)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|e| e == "safetensors"))
        .unwrap();
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&weights, bytes).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_poser"))
        .args(["zoo", "curate", "--corpus"])
        .arg(corpus())
        .arg("--models-dir")
        .arg(&zoo.models)
        .arg("--out")
        .arg(dir.join("tampered"))
        .arg("--cache")
        .arg(&cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("digest mismatch"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
