//! The model's parameters on the host, as named f32 arrays: what the weights file decodes to,
//! what the burn module is built from, and what the plain-Rust reference reads.
//!
//! Tensor names follow the burn module's field paths (`blocks.3.attn.q.weight`), so a record
//! loader could map them one to one. Linear weights are `[d_in, d_out]` (burn's and GPT-2's
//! `Conv1D` layout).

use std::collections::BTreeMap;

use poser_corpus::rng::Rng;

use super::config::ModelConfig;
use crate::EngineError;

/// One named parameter: its shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Row-major values; `values.len()` is the product of `shape`.
    pub values: Vec<f32>,
}

/// Every parameter of one model, by name, with the dimensions they were made for.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelWeights {
    /// The dimensions every tensor's shape follows from.
    pub config: ModelConfig,
    /// Parameters by name (sorted, so files written from it are byte-stable).
    pub tensors: BTreeMap<String, HostTensor>,
}

/// The name and shape of every parameter a model of `config` has, in a fixed order.
pub fn parameter_shapes(config: &ModelConfig) -> Vec<(String, Vec<usize>)> {
    let d = config.d_model;
    let mut shapes = vec![
        ("embed.weight".to_owned(), vec![config.d_vocab, d]),
        ("pos_embed.weight".to_owned(), vec![config.n_ctx, d]),
    ];
    for layer in 0..config.n_layers {
        let prefix = format!("blocks.{layer}");
        for norm in ["ln1", "ln2"] {
            shapes.push((format!("{prefix}.{norm}.gamma"), vec![d]));
            shapes.push((format!("{prefix}.{norm}.beta"), vec![d]));
        }
        for projection in ["q", "k", "v", "o"] {
            shapes.push((format!("{prefix}.attn.{projection}.weight"), vec![d, d]));
            shapes.push((format!("{prefix}.attn.{projection}.bias"), vec![d]));
        }
        shapes.push((format!("{prefix}.mlp.fc_in.weight"), vec![d, config.d_mlp]));
        shapes.push((format!("{prefix}.mlp.fc_in.bias"), vec![config.d_mlp]));
        shapes.push((format!("{prefix}.mlp.fc_out.weight"), vec![config.d_mlp, d]));
        shapes.push((format!("{prefix}.mlp.fc_out.bias"), vec![d]));
    }
    shapes.push(("ln_final.gamma".to_owned(), vec![d]));
    shapes.push(("ln_final.beta".to_owned(), vec![d]));
    shapes
}

impl ModelWeights {
    /// Random parameters drawn from `seed`, identical on every platform.
    ///
    /// The scales keep activations of order one through the blocks, so that attention is far
    /// from uniform and tests comparing two computations compare something non-trivial.
    pub fn random(config: ModelConfig, seed: u64) -> Result<Self, EngineError> {
        config.validate()?;
        let mut tensors = BTreeMap::new();
        for (name, shape) in parameter_shapes(&config) {
            let mut rng = Rng::derived(seed, &name);
            let count: usize = shape.iter().product();
            let values: Vec<f32> = if name.ends_with(".gamma") {
                (0..count).map(|_| rng.next_f32_in(0.8, 1.2)).collect()
            } else if name.ends_with(".beta") || name.ends_with(".bias") {
                (0..count).map(|_| rng.next_f32_in(-0.1, 0.1)).collect()
            } else if name == "embed.weight" || name == "pos_embed.weight" {
                (0..count).map(|_| rng.next_f32_in(-1.0, 1.0)).collect()
            } else {
                // Uniform with unit output variance for unit-variance inputs: sqrt(3 / fan_in).
                let fan_in = shape.first().copied().unwrap_or(1).max(1) as f32;
                let bound = (3.0 / fan_in).sqrt();
                (0..count).map(|_| rng.next_f32_in(-bound, bound)).collect()
            };
            tensors.insert(name, HostTensor { shape, values });
        }
        Ok(Self { config, tensors })
    }

    /// GPT-2's initialisation, for training from scratch: normal(0, 0.02) embeddings and
    /// matrices, the projections into the residual stream scaled by 1/sqrt(2 · n_layers),
    /// unit LayerNorm gains, zero biases. Seeded, identical on every platform.
    pub fn initial(config: ModelConfig, seed: u64) -> Result<Self, EngineError> {
        config.validate()?;
        let residual_scale = 1.0 / (2.0 * config.n_layers as f32).sqrt();
        let mut tensors = BTreeMap::new();
        for (name, shape) in parameter_shapes(&config) {
            let mut rng = Rng::derived(seed, &name);
            let count: usize = shape.iter().product();
            let values: Vec<f32> = if name.ends_with(".gamma") {
                vec![1.0; count]
            } else if name.ends_with(".beta") || name.ends_with(".bias") {
                vec![0.0; count]
            } else {
                let std = if name.ends_with("attn.o.weight") || name.ends_with("mlp.fc_out.weight")
                {
                    0.02 * residual_scale
                } else {
                    0.02
                };
                (0..count)
                    .map(|_| std * standard_normal(&mut rng))
                    .collect()
            };
            tensors.insert(name, HostTensor { shape, values });
        }
        Ok(Self { config, tensors })
    }

    /// The parameter `name`, or an error naming it.
    pub fn tensor(&self, name: &str) -> Result<&HostTensor, EngineError> {
        self.tensors
            .get(name)
            .ok_or_else(|| EngineError::UnexpectedTensor(format!("no parameter `{name}`")))
    }

    /// Checks that exactly the parameters of `config` are present, with their shapes.
    pub fn validate(&self) -> Result<(), EngineError> {
        self.config.validate()?;
        let expected = parameter_shapes(&self.config);
        for (name, shape) in &expected {
            let tensor = self.tensor(name)?;
            if &tensor.shape != shape {
                return Err(EngineError::UnexpectedTensor(format!(
                    "`{name}` has shape {:?}, expected {shape:?}",
                    tensor.shape
                )));
            }
            if tensor.values.len() != shape.iter().product::<usize>() {
                return Err(EngineError::UnexpectedTensor(format!(
                    "`{name}` has {} values for shape {shape:?}",
                    tensor.values.len()
                )));
            }
        }
        if self.tensors.len() != expected.len() {
            let unknown = self
                .tensors
                .keys()
                .find(|name| !expected.iter().any(|(known, _)| known == *name));
            return Err(EngineError::UnexpectedTensor(format!(
                "unknown parameter `{}`",
                unknown.map_or("?", String::as_str)
            )));
        }
        Ok(())
    }
}

/// One standard normal draw (Box–Muller), from two uniform draws of `rng`.
fn standard_normal(rng: &mut Rng) -> f32 {
    // 1 - u keeps the logarithm's argument in (0, 1].
    let u1 = 1.0 - rng.next_unit_f32();
    let u2 = rng.next_unit_f32();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_weights_are_seeded_and_complete() {
        let config = ModelConfig::TINY_FOR_TESTS;
        let a = ModelWeights::random(config, 1).unwrap();
        a.validate().unwrap();
        assert_eq!(a, ModelWeights::random(config, 1).unwrap());
        assert_ne!(a, ModelWeights::random(config, 2).unwrap());
        assert_eq!(a.tensors.len(), 2 + 2 * 16 + 2);
        let init = ModelWeights::initial(config, 1).unwrap();
        init.validate().unwrap();
        let embed = &init.tensors["embed.weight"].values;
        let std = (embed.iter().map(|v| v * v).sum::<f32>() / embed.len() as f32).sqrt();
        assert!((std - 0.02).abs() < 0.003, "embedding std {std}");
        assert!(
            init.tensors["blocks.0.ln1.gamma"]
                .values
                .iter()
                .all(|&g| g == 1.0)
        );
    }
}
