//! The warm-up computation: a seeded matrix product, run on whichever backend the page chose.
//!
//! It proves that the backend works end to end (upload, kernel, asynchronous read back) and
//! gives a number that the browser tests compare with the same product computed natively.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::EngineError;
use poser_corpus::rng::Rng;

/// How many entries of the product a summary keeps, spread along the diagonal band.
pub const SAMPLE_COUNT: usize = 16;

/// What to multiply: two `size × size` matrices drawn from `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatmulSpec {
    /// Rows and columns of both square matrices.
    pub size: usize,
    /// Seed of the inputs; the same seed gives the same inputs on every platform.
    pub seed: u64,
}

impl Default for MatmulSpec {
    fn default() -> Self {
        Self {
            size: 128,
            seed: 20_240_508,
        }
    }
}

/// A compact, comparable description of a matrix product's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatmulSummary {
    /// The inputs that produced it.
    pub spec: MatmulSpec,
    /// Sum of all entries.
    pub sum: f64,
    /// Sum of absolute values of all entries (the scale for relative comparisons).
    pub abs_sum: f64,
    /// Entries at fixed positions (see [`sample_positions`]).
    pub samples: Vec<f32>,
}

impl MatmulSummary {
    /// Summarises a row-major `size × size` product.
    pub fn from_product(spec: MatmulSpec, product: &[f32]) -> Result<Self, EngineError> {
        if product.len() != spec.size * spec.size {
            return Err(EngineError::UnexpectedTensor(format!(
                "a {0}×{0} product has {1} entries, got {2}",
                spec.size,
                spec.size * spec.size,
                product.len()
            )));
        }
        let samples = sample_positions(spec.size)
            .map(|(row, col)| product[row * spec.size + col])
            .collect();
        Ok(Self {
            spec,
            sum: product.iter().map(|&v| f64::from(v)).sum(),
            abs_sum: product.iter().map(|&v| f64::from(v).abs()).sum(),
            samples,
        })
    }

    /// The largest difference to `other` across the sum and the samples, each relative to
    /// this summary's typical entry size. `f64::INFINITY` if the two are of different inputs.
    pub fn max_relative_difference(&self, other: &Self) -> f64 {
        if self.spec != other.spec || self.samples.len() != other.samples.len() {
            return f64::INFINITY;
        }
        let entries = (self.spec.size * self.spec.size).max(1) as f64;
        let typical_entry = (self.abs_sum / entries).max(f64::MIN_POSITIVE);
        let sum_difference = (self.sum - other.sum).abs() / (typical_entry * entries);
        self.samples
            .iter()
            .zip(&other.samples)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs() / typical_entry)
            .fold(sum_difference, f64::max)
    }
}

/// Positions of the sampled entries: a spread over rows, each paired with a shifted column,
/// so that a transposed or shifted result is caught.
pub fn sample_positions(size: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..SAMPLE_COUNT.min(size.max(1))).map(move |i| {
        let row = i * size / SAMPLE_COUNT.min(size.max(1));
        (row, (row * 7 + 3) % size.max(1))
    })
}

/// The two input matrices, row-major, entries uniform in `[-1, 1)`.
pub fn seeded_inputs(spec: MatmulSpec) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(spec.seed);
    let count = spec.size * spec.size;
    let left = (0..count).map(|_| rng.next_f32_in(-1.0, 1.0)).collect();
    let right = (0..count).map(|_| rng.next_f32_in(-1.0, 1.0)).collect();
    (left, right)
}

/// The product computed in plain Rust with f64 accumulation: the reference the backends are
/// checked against.
pub fn reference_product(spec: MatmulSpec) -> Vec<f32> {
    let (left, right) = seeded_inputs(spec);
    let n = spec.size;
    let mut product = vec![0.0_f32; n * n];
    for row in 0..n {
        for col in 0..n {
            let dot: f64 = (0..n)
                .map(|k| f64::from(left[row * n + k]) * f64::from(right[k * n + col]))
                .sum();
            product[row * n + col] = dot as f32;
        }
    }
    product
}

/// Multiplies the seeded matrices on `device` and reads the result back asynchronously.
///
/// `backend_name` only labels errors.
pub async fn seeded_matmul(
    device: &Device,
    spec: MatmulSpec,
    backend_name: &str,
) -> Result<MatmulSummary, EngineError> {
    if spec.size == 0 || spec.size > 2048 {
        return Err(EngineError::InvalidParameter(format!(
            "matrix size {} is outside 1..=2048",
            spec.size
        )));
    }
    let (left, right) = seeded_inputs(spec);
    let shape = [spec.size, spec.size];
    let left = Tensor::<2>::from_data(TensorData::new(left, shape), device);
    let right = Tensor::<2>::from_data(TensorData::new(right, shape), device);
    let data = left
        .matmul(right)
        .into_data_async()
        .await
        .map_err(|error| EngineError::ReadBack {
            backend: backend_name.to_owned(),
            message: format!("{error:?}"),
        })?;
    let product = data
        .try_into_vec::<f32>()
        .map_err(|error| EngineError::UnexpectedTensor(format!("{error:?}")))?;
    MatmulSummary::from_product(spec, &product)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests run natively, where blocking is fine
mod tests {
    use super::*;
    use crate::backend::cpu_device;

    #[test]
    fn cpu_backend_matches_the_plain_rust_reference() {
        let spec = MatmulSpec::default();
        let on_cpu = pollster::block_on(seeded_matmul(&cpu_device(), spec, "cpu")).unwrap();
        let reference = MatmulSummary::from_product(spec, &reference_product(spec)).unwrap();
        let difference = on_cpu.max_relative_difference(&reference);
        assert!(difference < 1e-4, "cpu vs reference differ by {difference}");
    }

    #[test]
    fn comparison_catches_a_wrong_result() {
        let spec = MatmulSpec { size: 32, seed: 1 };
        let product = reference_product(spec);
        let reference = MatmulSummary::from_product(spec, &product).unwrap();
        // A transposed product has the same sum but different entries.
        let mut transposed = vec![0.0; product.len()];
        for row in 0..32 {
            for col in 0..32 {
                transposed[col * 32 + row] = product[row * 32 + col];
            }
        }
        let wrong = MatmulSummary::from_product(spec, &transposed).unwrap();
        assert!(reference.max_relative_difference(&wrong) > 1e-2);
        // Different inputs never compare equal.
        let other_seed =
            MatmulSummary::from_product(MatmulSpec { seed: 2, ..spec }, &product).unwrap();
        assert!(reference.max_relative_difference(&other_seed).is_infinite());
    }

    #[test]
    fn summary_rejects_a_product_of_the_wrong_length() {
        let spec = MatmulSpec { size: 4, seed: 1 };
        assert!(MatmulSummary::from_product(spec, &[0.0; 15]).is_err());
    }

    #[test]
    fn sizes_out_of_range_are_refused_before_touching_the_device() {
        let result = pollster::block_on(seeded_matmul(
            &cpu_device(),
            MatmulSpec { size: 0, seed: 1 },
            "cpu",
        ));
        assert!(matches!(result, Err(EngineError::InvalidParameter(_))));
    }
}
