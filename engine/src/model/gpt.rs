//! The decoder as a burn [`Module`]: GPT-2 style (pre-LayerNorm, learned positions, GELU MLP,
//! tied unembedding). A module, so that training (autodiff, optimisers) can use it as is.
//!
//! The building blocks here are plain tensor functions; [`super::forward`] and
//! [`super::cache`] put them together with hooks.

use burn::module::{Module, Param};
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::config::ModelConfig;
use super::weights::ModelWeights;
use crate::EngineError;

/// Queries, keys and values of one block, split into heads: `[batch, head, position, d_head]`.
pub struct HeadProjections {
    /// Queries.
    pub q: Tensor<4>,
    /// Keys.
    pub k: Tensor<4>,
    /// Values.
    pub v: Tensor<4>,
}

/// Multi-head causal self-attention.
#[derive(Module, Debug)]
pub struct Attention {
    /// Query projection, `[d_model, d_model]`.
    pub q: Linear,
    /// Key projection.
    pub k: Linear,
    /// Value projection.
    pub v: Linear,
    /// Output projection.
    pub o: Linear,
    /// Number of heads.
    pub n_heads: usize,
}

impl Attention {
    /// Projects the normalised residual `[batch, pos, d_model]` to per-head q, k, v.
    pub fn project(&self, normed: Tensor<3>) -> HeadProjections {
        let split = |x: Tensor<3>| {
            let [batch, positions, d_model] = x.dims();
            x.reshape([batch, positions, self.n_heads, d_model / self.n_heads])
                .swap_dims(1, 2)
        };
        HeadProjections {
            q: split(self.q.forward(normed.clone())),
            k: split(self.k.forward(normed.clone())),
            v: split(self.v.forward(normed)),
        }
    }

    /// Attention probabilities `[batch, head, query, key]`; `mask` (true = hidden) is
    /// `[batch, head, query, key]` or absent when every key is visible.
    pub fn pattern(&self, q: Tensor<4>, k: Tensor<4>, mask: Option<Tensor<4, Bool>>) -> Tensor<4> {
        let d_head = q.dims()[3];
        let scores = q.matmul(k.swap_dims(2, 3)) / (d_head as f64).sqrt();
        let scores = match mask {
            // -inf, not a large negative number: hidden keys get exactly zero weight, so a
            // padded batch gives the same results as each prompt alone.
            Some(mask) => scores.mask_fill(mask, f32::NEG_INFINITY),
            None => scores,
        };
        softmax(scores, 3)
    }

    /// Mixes values by the pattern and projects back: `[batch, query, d_model]`.
    pub fn mix(&self, pattern: Tensor<4>, v: Tensor<4>) -> Tensor<3> {
        let z = pattern.matmul(v).swap_dims(1, 2);
        let [batch, positions, heads, d_head] = z.dims();
        self.o
            .forward(z.reshape([batch, positions, heads * d_head]))
    }
}

/// The MLP of a block: `fc_out(gelu(fc_in(x)))`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// `[d_model, d_mlp]`.
    pub fc_in: Linear,
    /// `[d_mlp, d_model]`.
    pub fc_out: Linear,
}

impl Mlp {
    /// `fc_out(gelu_tanh(fc_in(x)))`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.fc_out.forward(gelu_tanh(self.fc_in.forward(x)))
    }
}

/// GPT-2's tanh-approximated GELU (`gelu_new`, which HF and TransformerLens use for GPT-2),
/// `x·(1 + tanh u)/2` with `u = sqrt(2/π)·(x + 0.044715·x³)`, computed as the equal `x·σ(2u)`
/// with `x³ = x·x·x`: on the CPU backend `tanh` and `powf` are slow scalar library calls, and
/// they were a third of a fine-tuning step (issue 24's profile); the logistic is one `exp`.
pub fn gelu_tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    const TWO_SQRT_2_OVER_PI: f64 = 2.0 * 0.797_884_560_802_865_4;
    let inner = x.clone() * ((x.clone() * x.clone()) * 0.044_715 + 1.0) * TWO_SQRT_2_OVER_PI;
    x * sigmoid(inner)
}

/// One pre-LayerNorm decoder block.
#[derive(Module, Debug)]
pub struct Block {
    /// Norm before attention.
    pub ln1: LayerNorm,
    /// Self-attention.
    pub attn: Attention,
    /// Norm before the MLP.
    pub ln2: LayerNorm,
    /// Feed-forward.
    pub mlp: Mlp,
}

impl Block {
    /// The block's output given the residual after attention: adds the MLP's contribution.
    pub fn finish(&self, resid_mid: Tensor<3>) -> Tensor<3> {
        let mlp_out = self.mlp.forward(self.ln2.forward(resid_mid.clone()));
        resid_mid + mlp_out
    }
}

/// The whole decoder.
#[derive(Module, Debug)]
pub struct PoserGpt {
    /// Token embeddings `[d_vocab, d_model]`, also the unembedding (tied).
    pub embed: Embedding,
    /// Learned positions `[n_ctx, d_model]`.
    pub pos_embed: Embedding,
    /// The decoder blocks.
    pub blocks: Vec<Block>,
    /// Norm before the unembedding.
    pub ln_final: LayerNorm,
    /// The dimensions it was built with.
    #[module(skip)]
    pub config: ModelConfig,
}

impl PoserGpt {
    /// Builds the module on `device` from host parameters (checked first).
    pub fn from_weights(weights: &ModelWeights, device: &Device) -> Result<Self, EngineError> {
        weights.validate()?;
        let config = weights.config;
        let tensor2 = |name: &str| -> Result<Param<Tensor<2>>, EngineError> {
            let host = weights.tensor(name)?;
            let shape = [host.shape[0], host.shape[1]];
            Ok(Param::from_tensor(Tensor::<2>::from_data(
                TensorData::new(host.values.clone(), shape),
                device,
            )))
        };
        let tensor1 = |name: &str| -> Result<Param<Tensor<1>>, EngineError> {
            let host = weights.tensor(name)?;
            Ok(Param::from_tensor(Tensor::<1>::from_data(
                TensorData::new(host.values.clone(), [host.values.len()]),
                device,
            )))
        };
        let linear = |prefix: &str| -> Result<Linear, EngineError> {
            Ok(Linear {
                weight: tensor2(&format!("{prefix}.weight"))?,
                bias: Some(tensor1(&format!("{prefix}.bias"))?),
            })
        };
        let layer_norm = |prefix: &str| -> Result<LayerNorm, EngineError> {
            // LayerNorm's epsilon is private; build one and replace its parameters.
            let mut norm = LayerNormConfig::new(config.d_model)
                .with_epsilon(config.layer_norm_eps)
                .init(device);
            norm.gamma = tensor1(&format!("{prefix}.gamma"))?;
            norm.beta = Some(tensor1(&format!("{prefix}.beta"))?);
            Ok(norm)
        };
        let blocks = (0..config.n_layers)
            .map(|layer| {
                let prefix = format!("blocks.{layer}");
                Ok(Block {
                    ln1: layer_norm(&format!("{prefix}.ln1"))?,
                    attn: Attention {
                        q: linear(&format!("{prefix}.attn.q"))?,
                        k: linear(&format!("{prefix}.attn.k"))?,
                        v: linear(&format!("{prefix}.attn.v"))?,
                        o: linear(&format!("{prefix}.attn.o"))?,
                        n_heads: config.n_heads,
                    },
                    ln2: layer_norm(&format!("{prefix}.ln2"))?,
                    mlp: Mlp {
                        fc_in: linear(&format!("{prefix}.mlp.fc_in"))?,
                        fc_out: linear(&format!("{prefix}.mlp.fc_out"))?,
                    },
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok(Self {
            embed: Embedding {
                weight: tensor2("embed.weight")?,
            },
            pos_embed: Embedding {
                weight: tensor2("pos_embed.weight")?,
            },
            blocks,
            ln_final: layer_norm("ln_final")?,
            config,
        })
    }

    /// Reads every parameter back to the host (asynchronously), e.g. to save a trained model.
    pub async fn to_weights(&self) -> Result<ModelWeights, EngineError> {
        let mut named: Vec<(String, Tensor<2>)> = vec![
            ("embed.weight".to_owned(), self.embed.weight.val()),
            ("pos_embed.weight".to_owned(), self.pos_embed.weight.val()),
        ];
        let mut vectors: Vec<(String, Option<Tensor<1>>)> = Vec::new();
        let mut norm = |prefix: String, norm: &LayerNorm| {
            vectors.push((format!("{prefix}.gamma"), Some(norm.gamma.val())));
            vectors.push((format!("{prefix}.beta"), norm.beta.as_ref().map(Param::val)));
        };
        for (layer, block) in self.blocks.iter().enumerate() {
            norm(format!("blocks.{layer}.ln1"), &block.ln1);
            norm(format!("blocks.{layer}.ln2"), &block.ln2);
        }
        norm("ln_final".to_owned(), &self.ln_final);
        for (layer, block) in self.blocks.iter().enumerate() {
            let linears = [
                ("attn.q", &block.attn.q),
                ("attn.k", &block.attn.k),
                ("attn.v", &block.attn.v),
                ("attn.o", &block.attn.o),
                ("mlp.fc_in", &block.mlp.fc_in),
                ("mlp.fc_out", &block.mlp.fc_out),
            ];
            for (name, linear) in linears {
                let prefix = format!("blocks.{layer}.{name}");
                named.push((format!("{prefix}.weight"), linear.weight.val()));
                vectors.push((
                    format!("{prefix}.bias"),
                    linear.bias.as_ref().map(Param::val),
                ));
            }
        }
        let mut tensors = std::collections::BTreeMap::new();
        for (name, tensor) in named {
            let shape = tensor.dims().to_vec();
            let values = super::forward::read_f32(tensor, &name).await?;
            tensors.insert(name, super::weights::HostTensor { shape, values });
        }
        for (name, tensor) in vectors {
            let tensor = tensor.ok_or_else(|| {
                EngineError::UnexpectedTensor(format!("`{name}` is absent from the module"))
            })?;
            let shape = tensor.dims().to_vec();
            let values = super::forward::read_f32(tensor, &name).await?;
            tensors.insert(name, super::weights::HostTensor { shape, values });
        }
        let weights = ModelWeights {
            config: self.config,
            tensors,
        };
        weights.validate()?;
        Ok(weights)
    }

    /// Learned positions `start..end` as `[1, end - start, d_model]`.
    pub fn positions(&self, start: usize, end: usize) -> Tensor<3> {
        self.pos_embed
            .weight
            .val()
            .narrow(0, start, end.saturating_sub(start))
            .unsqueeze_dim::<3>(0)
    }

    /// The learned positions of a right-padded batch of prompts `lens` long, `[batch,
    /// max_len, d_model]`, counted as the config says (`ModelConfig::positions`). Padding after
    /// a prompt's end takes its last position; no real token attends to it.
    pub fn positions_for(&self, lens: &[usize], max_len: usize) -> Tensor<3> {
        let (n_ctx, origin) = (self.config.n_ctx, self.config.positions);
        let ids: Vec<i64> = lens
            .iter()
            .flat_map(|&len| {
                (0..max_len).map(move |t| {
                    let t = t.min(len.saturating_sub(1));
                    origin.position(t, len, n_ctx).min(n_ctx - 1) as i64
                })
            })
            .collect();
        let device = self.pos_embed.weight.device();
        let ids =
            Tensor::<1, Int>::from_data(TensorData::new(ids, [lens.len() * max_len]), &device);
        self.pos_embed.weight.val().select(0, ids).reshape([
            lens.len(),
            max_len,
            self.config.d_model,
        ])
    }

    /// Logits `[rows, d_vocab]` from final residuals `[rows, d_model]` (tied unembedding).
    pub fn unembed(&self, resid_final: Tensor<2>) -> Tensor<2> {
        let normed = self.ln_final.forward(resid_final);
        normed.matmul(self.embed.weight.val().transpose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu_device;

    /// `gelu_tanh` is GPT-2's `x·(1 + tanh u)/2`, rewritten; it must stay that function
    /// (to float rounding) everywhere, including far out where `exp` overflows.
    #[test]
    fn gelu_tanh_equals_the_tanh_form_and_stays_finite() {
        let inputs: Vec<f32> = (-400..=400)
            .map(|i| i as f32 * 0.05)
            .chain([-1e4, 1e4])
            .collect();
        let device = cpu_device();
        let tensor =
            Tensor::<1>::from_data(TensorData::new(inputs.clone(), [inputs.len()]), &device);
        #[allow(clippy::disallowed_methods)] // a native test
        let outputs =
            pollster::block_on(super::super::forward::read_f32(gelu_tanh(tensor), "gelu")).unwrap();
        for (&x, &y) in inputs.iter().zip(&outputs) {
            let u = (2.0f64 / std::f64::consts::PI).sqrt()
                * (f64::from(x) + 0.044715 * f64::from(x).powi(3));
            let expected = 0.5 * f64::from(x) * (1.0 + u.tanh());
            assert!(y.is_finite(), "gelu_tanh({x}) = {y}");
            assert!(
                (f64::from(y) - expected).abs() <= 1e-6 * expected.abs().max(1.0),
                "gelu_tanh({x}) = {y}, the tanh form gives {expected}"
            );
        }
    }
}
