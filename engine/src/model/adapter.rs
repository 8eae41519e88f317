//! A rank-r low-rank adapter (LoRA) on one block's MLP output projection, for S3's "fine-tune a
//! low-rank adapter on the layer-5 MLP". The base model stays frozen; only the adapter trains.
//!
//! The adapter adds `(h · down) · up` to the MLP's output, where `h` is the MLP's hidden
//! activation (after GELU), so it is a low-rank change of `fc_out`. `up` starts at zero (LoRA's
//! initialisation): the adapter adds exactly nothing until it is trained, while `down` is random
//! so that the first gradient step reaches `up`.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use poser_corpus::rng::Rng;

use super::config::ModelConfig;
use crate::EngineError;

/// A low-rank adapter on block `block`'s MLP output.
#[derive(Module, Debug)]
pub struct MlpAdapter {
    /// `[d_mlp, rank]`, seeded random.
    pub down: Param<Tensor<2>>,
    /// `[rank, d_model]`, zero at the start.
    pub up: Param<Tensor<2>>,
    /// The block whose MLP it changes.
    #[module(skip)]
    pub block: usize,
}

impl MlpAdapter {
    /// A fresh adapter for block `block` of a model of `config`: `up` zero, `down` uniform in
    /// ±sqrt(1 / d_mlp) from `seed`, identical on every platform.
    pub fn zero_initialised(
        config: &ModelConfig,
        block: usize,
        rank: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Self, EngineError> {
        if block >= config.n_layers {
            return Err(EngineError::InvalidParameter(format!(
                "adapter block {block} is out of range: the model has {} blocks",
                config.n_layers
            )));
        }
        if rank == 0 || rank > config.d_model {
            return Err(EngineError::InvalidParameter(format!(
                "adapter rank {rank} is outside 1..={}",
                config.d_model
            )));
        }
        let mut rng = Rng::derived(seed, "mlp-adapter-down");
        let bound = (1.0 / config.d_mlp as f32).sqrt();
        let down: Vec<f32> = (0..config.d_mlp * rank)
            .map(|_| rng.next_f32_in(-bound, bound))
            .collect();
        let up = vec![0.0_f32; rank * config.d_model];
        Ok(Self {
            down: Param::from_tensor(Tensor::<2>::from_data(
                TensorData::new(down, [config.d_mlp, rank]),
                device,
            )),
            up: Param::from_tensor(Tensor::<2>::from_data(
                TensorData::new(up, [rank, config.d_model]),
                device,
            )),
            block,
        })
    }

    /// What the adapter adds to the MLP output, from the MLP's hidden activation
    /// `[batch, pos, d_mlp]`: `[batch, pos, d_model]`.
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let [batch, positions, d_mlp] = hidden.dims();
        let low = hidden
            .reshape([batch * positions, d_mlp])
            .matmul(self.down.val());
        let out = low.matmul(self.up.val());
        let d_model = out.dims()[1];
        out.reshape([batch, positions, d_model])
    }
}
