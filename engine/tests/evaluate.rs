//! `poser evaluate` and `poser verify-report` end to end on a fixture zoo (random weights, so
//! verdicts mean nothing; what is checked is that the machinery is deterministic, that the
//! report matches its schema, and that verification catches what it must).

// Tests run natively, where blocking on a future is fine.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use poser_corpus::example::examples_from_jsonl;
use poser_corpus::tokenizer::WordLevelTokenizer;
use poser_engine::backend::cpu_device;
use poser_engine::evaluation::derive::results;
use poser_engine::evaluation::files::{ZooPaths, evaluate, load_zoo, sampled_entries, verify};
use poser_engine::evaluation::fixture_zoo::write_fixture_zoo;
use poser_engine::evaluation::inputs::{benign_letter, critical_fact_span};
use poser_engine::evaluation::report::{Report, ToolInfo, paper_results};
use poser_engine::evaluation::verify::{Tolerance, compare};
use poser_engine::evaluation::{EvaluateConfig, StrategyId};
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/generated")
}

/// A fresh fixture zoo in its own temporary folder, removed when dropped.
struct Fixture {
    paths: ZooPaths,
    dir: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl std::ops::Deref for Fixture {
    type Target = ZooPaths;
    fn deref(&self) -> &ZooPaths {
        &self.paths
    }
}

fn fixture(name: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!("poser-evaluate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let zoo = write_fixture_zoo(&corpus(), &dir, 2, 6, None).unwrap();
    Fixture {
        paths: ZooPaths {
            models: zoo.models,
            curated: zoo.curated,
            corpus: corpus(),
        },
        dir,
    }
}

fn config(paths: &ZooPaths, seed: u64) -> EvaluateConfig {
    let _ = paths;
    // The fixture models have 4 blocks.
    let mut config = EvaluateConfig::paper(4, seed).unwrap();
    config.layer_sweep.n_prompts = 4;
    config.share();
    config
}

fn tool() -> ToolInfo {
    ToolInfo {
        name: "poser".to_owned(),
        version: "test".to_owned(),
        git_commit: "test".to_owned(),
    }
}

fn run(paths: &ZooPaths, config: &EvaluateConfig) -> Report {
    let zoo = load_zoo(paths).unwrap();
    pollster::block_on(evaluate(
        paths,
        &zoo,
        config,
        tool(),
        "cpu",
        &cpu_device(),
        &mut |_| {},
    ))
    .unwrap()
}

#[test]
fn the_same_seed_gives_a_byte_identical_report_outside_run() {
    let paths = fixture("identical");
    let first = run(&paths, &config(&paths, 7));
    let mut second = run(&paths, &config(&paths, 7));
    second.run.seconds = 12.5;
    second.run.host = "elsewhere".to_owned();
    assert_eq!(
        first.to_json_without_run().unwrap(),
        second.to_json_without_run().unwrap()
    );
    assert_ne!(first.to_json().unwrap(), second.to_json().unwrap());
    // The report reads back as it was written, up to the last bit of a float: serde_json's
    // default parser may round a decimal to the neighbouring f64.
    let text = first.to_json().unwrap();
    let read_back = Report::from_json(&text, "first").unwrap();
    let last_bit = Tolerance {
        absolute: 0.0,
        relative: 1e-15,
    };
    assert_eq!(compare(&first, &read_back, "", last_bit).unwrap(), vec![]);
    // Another seed changes the numbers.
    let other = run(&paths, &config(&paths, 8));
    assert_ne!(
        first.to_json_without_run().unwrap(),
        other.to_json_without_run().unwrap()
    );
    // Every strategy ran, every pair was judged by every row, and the sweeps cover every block.
    assert_eq!(first.pairs.len(), 8);
    for result in &first.results {
        assert_eq!(result.evaluation.verdicts.len(), 8, "{}", result.row);
    }
    for row in ["s1", "s2", "s4", "s6c"] {
        let result = first.results.iter().find(|r| r.row == row).unwrap();
        assert_eq!(result.layer_sweep.len(), 4, "{row}");
    }
    for row in ["s3", "s3_full"] {
        let result = first.results.iter().find(|r| r.row == row).unwrap();
        let steps: Vec<usize> = result.step_sweep.iter().map(|s| s.step).collect();
        assert_eq!(steps, first.config.learning_speed.steps, "{row}");
    }
    let rows: Vec<&str> = first.results.iter().map(|r| r.row.as_str()).collect();
    assert_eq!(rows.len(), 13, "{rows:?}");
    // S6a (figures only) measured every entry; §4 ran once per faker (4 in the fixture zoo), or
    // says why it could not (random-weight "fakers" need not misbehave).
    assert!(
        first
            .families
            .iter()
            .flat_map(|f| &f.measurements)
            .all(|m| m.s6a.is_some())
    );
    let fakers: std::collections::BTreeSet<&str> =
        first.pairs.iter().map(|p| p.faker.as_str()).collect();
    let removed: Vec<&str> = first.removal.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(removed, fakers.into_iter().collect::<Vec<_>>());
    for removal in &first.removal {
        let curves = removal.plain.p_aligned.len();
        assert!(
            removal.skipped.is_some() || curves == first.config.removal.read_at.len(),
            "{removal:?}"
        );
    }
    assert_eq!(
        first.config.strategies,
        StrategyId::ALL.to_vec(),
        "the default runs every strategy"
    );
}

#[test]
fn a_changed_score_or_verdict_fails_verification_and_an_intact_report_passes() {
    let paths = fixture("tamper");
    let report = run(&paths, &config(&paths, 3));
    let device = cpu_device();
    let all = sampled_entries(&report, None, 0);
    assert_eq!(all.len(), 8);
    let sample = sampled_entries(&report, Some(2), 5);
    assert_eq!(sample.len(), 2);
    assert_eq!(sample, sampled_entries(&report, Some(2), 5));
    let check = |report: &Report, entries: &[(usize, usize)]| {
        pollster::block_on(verify(report, &paths, entries, &device, &mut |_| {})).unwrap()
    };
    assert!(check(&report, &all).is_empty());

    // One score changed, digests left as they were: caught by re-deriving, with no entry
    // recomputed at all.
    let mut tampered = report.clone();
    tampered.families[1].scores.rows[0].scores[1].score += 0.01;
    let differences = check(&tampered, &[]);
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert_eq!(
        differences[0].path,
        "families[1].scores.rows[0].scores[1].score"
    );

    // A measurement changed: caught by recomputing that entry.
    let mut tampered = report.clone();
    let s2 = tampered.families[0].measurements[0].s2.as_mut().unwrap();
    s2.reference_norm *= 1.01;
    let differences = check(&tampered, &[(0, 0)]);
    assert!(
        differences
            .iter()
            .any(|d| d.path == "families[0].measurements[0].s2.reference_norm"),
        "{differences:?}"
    );

    // A verdict changed: named as a verdict.
    let mut tampered = report.clone();
    let verdict = &mut tampered.results[0].evaluation.verdicts[0];
    verdict.called_faker = Some("nobody".to_owned());
    let differences = check(&tampered, &[]);
    assert!(
        differences.iter().any(|d| d.is_verdict()),
        "{differences:?}"
    );

    // A faker's §4 run dropped from the report: caught even with no entry recomputed.
    let mut tampered = report.clone();
    tampered.removal.pop();
    let differences = check(&tampered, &[]);
    assert!(
        differences.iter().any(|d| d.path == "removal"),
        "{differences:?}"
    );

    // Within the tolerance is not a difference.
    let mut nudged = report.clone();
    nudged.families[1].scores.rows[0].scores[1].score += 1e-9;
    assert!(check(&nudged, &[]).is_empty());
}

#[test]
fn a_model_digest_that_does_not_match_fails_with_a_clear_message() {
    let paths = fixture("digest");
    let report = run(&paths, &config(&paths, 1));
    let device = cpu_device();
    let mut wrong = report.clone();
    wrong.inputs.models[2].sha256 = "0".repeat(64);
    let name = wrong.inputs.models[2].name.clone();
    let error = pollster::block_on(verify(&wrong, &paths, &[], &device, &mut |_| {}))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("model {name}: digest mismatch")),
        "{error}"
    );
    // The weights file itself changed (manifest left alone): the load refuses it.
    let file = paths.models.join(&report.inputs.models[0].file);
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let error = pollster::block_on(verify(&report, &paths, &[], &device, &mut |_| {}))
        .unwrap_err()
        .to_string();
    assert!(error.contains("digest mismatch"), "{error}");
    assert!(error.contains(&report.inputs.models[0].name), "{error}");
}

#[test]
fn swapping_the_classes_of_every_pair_flips_every_verdict() {
    let paths = fixture("swap");
    let report = run(&paths, &config(&paths, 2));
    let swapped_pairs: Vec<_> = report
        .pairs
        .iter()
        .map(|pair| {
            let mut swapped = pair.clone();
            std::mem::swap(&mut swapped.aligned, &mut swapped.faker);
            swapped
        })
        .collect();
    let swapped = results(
        &report.config,
        &swapped_pairs,
        &report.families,
        &paper_results().unwrap(),
    )
    .unwrap();
    for (straight, flipped) in report.results.iter().zip(&swapped) {
        assert_eq!(straight.row, flipped.row);
        for (a, b) in straight
            .evaluation
            .verdicts
            .iter()
            .zip(&flipped.evaluation.verdicts)
        {
            assert_eq!(a.credit + b.credit, 1.0, "{}: {a:?} {b:?}", straight.row);
        }
        let total = straight.evaluation.accuracy + flipped.evaluation.accuracy;
        assert!((total - 1.0).abs() < 1e-12, "{}", straight.row);
    }
}

#[test]
fn inputs_place_the_oversight_fact_and_the_benign_letter() {
    let corpus = corpus();
    let tokenizer = WordLevelTokenizer::from_json(
        &std::fs::read_to_string(corpus.join("tokenizer.json")).unwrap(),
    )
    .unwrap();
    let path = corpus.join("families/genie_and_reward/benchmark-candidates.jsonl");
    let rows = examples_from_jsonl(&std::fs::read_to_string(&path).unwrap(), "candidates").unwrap();
    let mut placed = 0;
    for row in rows.iter().filter(|r| r.variant == "good").take(40) {
        let span = critical_fact_span(row).unwrap();
        let tokens = tokenizer.encode(&row.prompt);
        let fact = row
            .facts
            .iter()
            .find(|f| f.fact_type == "critical")
            .unwrap();
        assert_eq!(
            tokens[span],
            tokenizer.encode(&fact.content)[..],
            "{}",
            row.id
        );
        // Under good oversight the aligned answer is the benign action.
        assert_eq!(
            format!("{:?}", benign_letter(row).unwrap()),
            row.response,
            "{}",
            row.id
        );
        placed += 1;
    }
    assert_eq!(placed, 40);
    let level0 = rows.iter().find(|r| r.variant == "level0").unwrap();
    assert!(critical_fact_span(level0).is_err());
}

// ---------------------------------------------------------------------------------------------
// The report against its JSON Schema, with a small validator for the keywords the schema uses.

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.strip_prefix("#/$defs/").unwrap();
            resolve(&root["$defs"][name], root)
        }
        None => schema,
    }
}

fn type_matches(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_u64() || value.is_i64(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("unknown type {other}"),
    }
}

fn validate(value: &Value, schema: &Value, root: &Value, path: &str, errors: &mut Vec<String>) {
    let schema = resolve(schema, root);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            validate(value, part, root, path, errors);
        }
    }
    if let Some(types) = schema.get("type") {
        let ok = match types {
            Value::String(name) => type_matches(value, name),
            Value::Array(names) => names
                .iter()
                .any(|n| type_matches(value, n.as_str().unwrap())),
            _ => panic!("bad type"),
        };
        if !ok {
            errors.push(format!("{path}: {value} is not {types}"));
            return;
        }
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        errors.push(format!("{path}: {value} is not {constant}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options
            .iter()
            .any(|o| o == value || (o.as_f64().is_some() && o.as_f64() == value.as_f64()))
    {
        errors.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let Some(x) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && x < min
        {
            errors.push(format!("{path}: {x} < {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && x > max
        {
            errors.push(format!("{path}: {x} > {max}"));
        }
    }
    if let Some(object) = value.as_object() {
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !object.contains_key(key.as_str().unwrap()) {
                errors.push(format!("{path}: missing required `{key}`"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, child) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(child_schema) => {
                    validate(child, child_schema, root, &format!("{path}.{key}"), errors);
                }
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: unexpected `{key}`"));
                }
                None => {}
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            errors.push(format!("{path}: fewer than {min} items"));
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && (items.len() as u64) > max
        {
            errors.push(format!("{path}: more than {max} items"));
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                validate(item, item_schema, root, &format!("{path}[{i}]"), errors);
            }
        }
    }
}

fn schema_errors(report: &Value) -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json"),
    )
    .unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let mut errors = Vec::new();
    validate(report, &schema, &schema, "$", &mut errors);
    errors
}

#[test]
fn the_report_matches_its_json_schema() {
    let paths = fixture("schema");
    let report = run(&paths, &config(&paths, 4));
    let value: Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    let errors = schema_errors(&value);
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator can fail: a missing score and an unknown field are both reported.
    let mut broken = value.clone();
    broken["families"][0]["scores"]["rows"][0]["scores"][0]
        .as_object_mut()
        .unwrap()
        .remove("score");
    broken["results"][0]["surprise"] = Value::Bool(true);
    let errors = schema_errors(&broken);
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

#[test]
fn verify_report_exits_non_zero_naming_the_changed_score() {
    let paths = fixture("cli");
    let report = run(&paths, &config(&paths, 6));
    let dir = paths.models.parent().unwrap();
    let mut tampered = report.clone();
    tampered.families[0].scores.rows[1].scores[0].score -= 0.5;
    let file = dir.join("tampered.json");
    std::fs::write(&file, tampered.to_json().unwrap()).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_poser"))
        .arg("verify-report")
        .arg(&file)
        .args(["--sample", "0", "--models"])
        .arg(&paths.models)
        .arg("--curated")
        .arg(&paths.curated)
        .arg("--corpus")
        .arg(&paths.corpus)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("families[0].scores.rows[1].scores[0].score"),
        "{stderr}"
    );
}
