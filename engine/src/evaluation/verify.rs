//! Checking a report: numbers are compared within [`TOLERANCE`], everything else (verdicts,
//! names, hook points, counts) exactly. The same rules serve both halves of `poser
//! verify-report`: fresh measurements against the report's, and the report's scores, verdicts
//! and accuracies against those re-derived from its own measurements.

use serde::Serialize;
use serde_json::Value;

use super::derive::{family_scores, results};
use super::report::{PaperResult, Report};
use crate::EngineError;

/// How far two numbers may differ and still agree: `|a − b| ≤ absolute + relative · max(|a|,
/// |b|)`. Re-running on the same backend reproduces every number bit for bit; the slack is for
/// another backend or build (probabilities agree within 1e-4 between our CPU runs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerance {
    /// Absolute slack.
    pub absolute: f64,
    /// Relative slack.
    pub relative: f64,
}

/// The tolerance `poser verify-report` applies.
pub const TOLERANCE: Tolerance = Tolerance {
    absolute: 1e-4,
    relative: 1e-4,
};

/// One disagreement.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Where, as a path into the document (`families[0].measurements[1].s2.reference_norm`).
    pub path: String,
    /// The value in the report.
    pub expected: String,
    /// The value recomputed.
    pub got: String,
}

impl Difference {
    /// Whether this is a verdict (the model called the faker), not a number.
    pub fn is_verdict(&self) -> bool {
        self.path.ends_with(".called_faker")
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.is_verdict() {
            "verdict"
        } else {
            "value"
        };
        write!(
            f,
            "{what} at {}: report has {}, recomputed {}",
            self.path, self.expected, self.got
        )
    }
}

fn numbers_agree(a: f64, b: f64, tolerance: Tolerance) -> bool {
    a == b || (a - b).abs() <= tolerance.absolute + tolerance.relative * a.abs().max(b.abs())
}

/// Differences between `expected` and `got` (any serialisable values), numbers within
/// `tolerance`. Object keys are visited in sorted order, so the list is stable.
pub fn compare<T: Serialize>(
    expected: &T,
    got: &T,
    path: &str,
    tolerance: Tolerance,
) -> Result<Vec<Difference>, EngineError> {
    let to_value = |value: &T| {
        serde_json::to_value(value)
            .map_err(|error| EngineError::InvalidParameter(format!("{path}: {error}")))
    };
    let mut out = Vec::new();
    compare_values(
        &to_value(expected)?,
        &to_value(got)?,
        path,
        tolerance,
        &mut out,
    );
    Ok(out)
}

fn compare_values(
    expected: &Value,
    got: &Value,
    path: &str,
    tolerance: Tolerance,
    out: &mut Vec<Difference>,
) {
    let differ = |out: &mut Vec<Difference>| {
        out.push(Difference {
            path: path.to_owned(),
            expected: expected.to_string(),
            got: got.to_string(),
        });
    };
    match (expected, got) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) if numbers_agree(x, y, tolerance) => {}
            _ => differ(out),
        },
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                differ(out);
                return;
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare_values(x, y, &format!("{path}[{i}]"), tolerance, out);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = format!("{path}.{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => compare_values(x, y, &child, tolerance, out),
                    (x, y) => out.push(Difference {
                        path: child,
                        expected: x.map_or("nothing".to_owned(), Value::to_string),
                        got: y.map_or("nothing".to_owned(), Value::to_string),
                    }),
                }
            }
        }
        (a, b) if a == b => {}
        _ => differ(out),
    }
}

/// Re-derives every family's scores and every result row from the report's own measurements,
/// config and pairs, and lists where the report disagrees.
pub fn check_derived(
    report: &Report,
    tolerance: Tolerance,
) -> Result<Vec<Difference>, EngineError> {
    // The paper's numbers are quoted, not derived: take the report's own.
    let paper: Vec<PaperResult> = report
        .results
        .iter()
        .filter_map(|result| result.paper.clone())
        .collect();
    let mut differences = Vec::new();
    let mut families = report.families.clone();
    for (index, family) in families.iter_mut().enumerate() {
        let names: Vec<&String> = family.measurements.iter().map(|m| &m.model).collect();
        if names.iter().copied().ne(family.models.iter()) {
            differences.push(Difference {
                path: format!("families[{index}].models"),
                expected: format!("{:?}", family.models),
                got: format!("measurements of {names:?}"),
            });
        }
        let scores = family_scores(&family.measurements, &report.config)?;
        differences.extend(compare(
            &family.scores,
            &scores,
            &format!("families[{index}].scores"),
            tolerance,
        )?);
        family.scores = scores;
    }
    let fresh = results(&report.config, &report.pairs, &families, &paper)?;
    differences.extend(compare(&report.results, &fresh, "results", tolerance)?);
    Ok(differences)
}
