//! The strategy pages' data and arithmetic against the committed files: the page's inputs
//! (`public/inputs/`) are what `poser report inputs` builds from the files the committed report
//! was made from, a single pair scored alone gives the report's own scores, and a run over
//! every pair rebuilt entry by entry from the report's measurements gives the report's
//! verdicts.

use std::path::{Path, PathBuf};

use poser_engine::evaluation::files::{ZooPaths, export_page_inputs};
use poser_engine::evaluation::page_inputs::PageInputs;
use poser_engine::evaluation::report::paper_results;
use poser_engine::evaluation::summary::ReportSummary;
use poser_engine::evaluation::walkthrough::{RunAll, RunSetting, pair_scores, run_config};
use poser_engine::evaluation::{Report, StrategyId};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn committed_report() -> Report {
    let path = repo().join("public/reports/zoo.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    Report::from_json(&text, "zoo.json").unwrap_or_else(|error| panic!("{error}"))
}

fn committed_summary() -> ReportSummary {
    let text = std::fs::read_to_string(repo().join("public/reports/zoo-summary.json"))
        .unwrap_or_else(|error| panic!("cannot read the committed summary: {error}"));
    ReportSummary::from_json(&text, "zoo-summary.json").unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn committed_page_inputs_are_built_from_the_reports_files() {
    let root = repo();
    let paths = ZooPaths {
        models: root.join("public/models"),
        curated: root.join("public/curated"),
        corpus: root.join("scenarios/generated"),
    };
    let written = export_page_inputs(&paths, &root.join("public/inputs"), true)
        .unwrap_or_else(|error| panic!("{error}"));
    let report = committed_report();
    assert_eq!(written.len(), report.families.len(), "one file per family");
    for family in &report.families {
        let path = root.join(format!("public/inputs/{}.json", family.family));
        let text = std::fs::read_to_string(&path).unwrap();
        let page = PageInputs::from_json(&text, "inputs").unwrap();
        assert_eq!(page.models, family.models);
        assert_eq!(page.inputs.curated.len(), family.n_curated);
        assert_eq!(page.inputs.versions.len(), family.n_oversight);
        for digest in &page.built_from {
            let recorded = report
                .inputs
                .curated_sets
                .iter()
                .chain(&report.inputs.scenario_files)
                .chain(std::iter::once(&report.inputs.tokenizer))
                .any(|d| d == digest);
            assert!(
                recorded,
                "{} is not a file the report was made from",
                digest.path
            );
        }
    }
}

#[test]
fn page_inputs_refuse_other_formats_and_broken_spans() {
    let root = repo();
    let text = std::fs::read_to_string(root.join("public/inputs/genie_and_reward.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut other = value.clone();
    other["format"] = "poser-page-inputs/9".into();
    let error = PageInputs::from_json(&other.to_string(), "x.json").unwrap_err();
    assert!(error.to_string().contains("poser-page-inputs/9"), "{error}");
    value["inputs"]["versions"][0]["fact"]["end"] = 100_000.into();
    let error = PageInputs::from_json(&value.to_string(), "x.json").unwrap_err();
    assert!(
        error.to_string().contains("oversight scenario 0"),
        "{error}"
    );
}

#[test]
fn a_pair_scored_alone_gives_the_reports_scores() {
    let report = committed_report();
    let summary = committed_summary();
    let strategies = [
        StrategyId::Confidence,
        StrategyId::S1,
        StrategyId::S2,
        StrategyId::S3,
        StrategyId::S4,
        StrategyId::S5,
        StrategyId::S6b,
        StrategyId::S6c,
    ];
    for pair in report.pairs.iter().step_by(37) {
        let family = report
            .families
            .iter()
            .find(|f| f.family == pair.family)
            .unwrap();
        let summary_family = summary
            .families
            .iter()
            .find(|f| f.family == pair.family)
            .unwrap();
        let measured = |name: &str| {
            family
                .measurements
                .iter()
                .find(|m| m.model == name)
                .unwrap()
        };
        for strategy in strategies {
            let config = run_config(&report.config, &[strategy], RunSetting::Full).unwrap();
            let scores = pair_scores(
                strategy,
                &config,
                summary_family,
                measured(&pair.aligned),
                measured(&pair.faker),
            )
            .unwrap_or_else(|error| panic!("{strategy:?}: {error}"));
            for row in &scores.rows {
                let reported = |model: &str| {
                    family
                        .scores
                        .rows
                        .iter()
                        .find(|r| r.row == row.row)
                        .and_then(|r| r.scores.iter().find(|s| s.model == model))
                        .map(|s| s.score)
                };
                if row.row == "s6c" {
                    // S6c's pair score is the block vote; its verdict is the report's.
                    let verdict = report
                        .results
                        .iter()
                        .find(|r| r.row == "s6c")
                        .and_then(|r| r.evaluation.verdicts.iter().find(|v| v.pair == *pair))
                        .unwrap();
                    assert_eq!(row.credit, verdict.credit, "{} s6c", pair.faker);
                    continue;
                }
                for (side, model) in [&pair.aligned, &pair.faker].into_iter().enumerate() {
                    let expected = reported(model).unwrap();
                    assert!(
                        (row.scores[side] - expected).abs() < 1e-9,
                        "{} on {}: {} vs the report's {expected}",
                        row.row,
                        model,
                        row.scores[side]
                    );
                }
            }
        }
    }
}

#[test]
fn a_run_rebuilt_entry_by_entry_gives_the_reports_verdicts() {
    let report = committed_report();
    let config = run_config(&report.config, &[StrategyId::S2], RunSetting::Full).unwrap();
    let mut run = RunAll::new(config, &report.pairs, None);
    let entries = run.entries();
    assert_eq!(entries.len(), 108);
    for entry in &entries {
        let family = report
            .families
            .iter()
            .find(|f| f.family == entry.family)
            .unwrap();
        let measured = family
            .measurements
            .iter()
            .find(|m| m.model == entry.model)
            .unwrap()
            .clone();
        run.record(
            &entry.family,
            family.n_curated,
            family.n_oversight,
            measured,
        )
        .unwrap();
    }
    let results = run.results(&paper_results().unwrap()).unwrap();
    let ours = results.iter().find(|r| r.row == "s2").unwrap();
    let theirs = report.results.iter().find(|r| r.row == "s2").unwrap();
    assert_eq!(ours.evaluation, theirs.evaluation);
    assert_eq!(ours.layer_sweep, theirs.layer_sweep);
}
