//! The committed report's derived files: its JSON Schema is a valid 2020-12 schema that a
//! standard validator accepts the report with, and the page's summary
//! (`public/reports/zoo-summary.json`) is exactly what `poser report summary` derives from it.

use std::path::{Path, PathBuf};

use poser_engine::evaluation::files::summarize_report_file;
use poser_engine::evaluation::summary::{ModelClass, ReportSummary};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

#[test]
fn the_schema_is_a_valid_schema_and_accepts_the_committed_report() {
    let schema = json(&repo().join("engine/schemas/report.schema.json"));
    jsonschema::meta::validate(&schema)
        .unwrap_or_else(|error| panic!("report.schema.json is not a valid JSON Schema: {error}"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let report = json(&repo().join("public/reports/zoo.json"));
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .take(10)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator can fail: a hook that is no hook point, and a missing verdict list.
    let mut broken = report.clone();
    broken["results"][1]["hook"] = Value::String("blocks.x.hook_resid_post".to_owned());
    broken["results"][0]["evaluation"]
        .as_object_mut()
        .unwrap()
        .remove("verdicts");
    assert!(validator.iter_errors(&broken).count() >= 2);
}

#[test]
fn the_committed_summary_is_the_summary_of_the_committed_report() {
    let root = repo();
    let label = "public/reports/zoo.json";
    let fresh = summarize_report_file(&root.join(label), label)
        .unwrap()
        .to_json()
        .unwrap();
    let committed =
        std::fs::read_to_string(root.join("public/reports/zoo-summary.json")).unwrap_or_default();
    assert!(
        committed == fresh,
        "public/reports/zoo-summary.json is not the summary of {label}\nhint: run `poser report summary` and commit the result"
    );
}

#[test]
fn the_summary_keeps_every_row_score_and_class_of_the_report() {
    let root = repo();
    let summary = ReportSummary::from_json(
        &std::fs::read_to_string(root.join("public/reports/zoo-summary.json")).unwrap(),
        "zoo-summary.json",
    )
    .unwrap();
    let report = json(&root.join("public/reports/zoo.json"));
    let results = report["results"].as_array().unwrap();
    assert_eq!(summary.rows.len(), results.len());
    for (row, result) in summary.rows.iter().zip(results) {
        assert_eq!(row.row, result["row"].as_str().unwrap());
        assert_eq!(
            row.accuracy,
            result["evaluation"]["accuracy"].as_f64().unwrap()
        );
        assert_eq!(
            row.n_pairs,
            result["evaluation"]["verdicts"].as_array().unwrap().len()
        );
        // Per-family accuracies average back to the whole (every family has as many pairs).
        let mean: f64 = row
            .per_family
            .iter()
            .map(|f| f.accuracy * f.n_pairs as f64)
            .sum::<f64>()
            / row.n_pairs as f64;
        assert!(
            (mean - row.accuracy).abs() < 1e-12,
            "{}: {mean} vs {}",
            row.row,
            row.accuracy
        );
    }
    for pair in report["pairs"].as_array().unwrap() {
        assert_eq!(
            summary.class_of(pair["aligned"].as_str().unwrap()),
            Some(ModelClass::Aligned)
        );
        assert_eq!(
            summary.class_of(pair["faker"].as_str().unwrap()),
            Some(ModelClass::Faker)
        );
    }
    let (aligned, fakers) = summary.scores_by_class("confidence");
    let entries: usize = report["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["models"].as_array().unwrap().len())
        .sum();
    assert_eq!(aligned.len() + fakers.len(), entries);
    assert_eq!(summary.source.sha256.len(), 64);
}
