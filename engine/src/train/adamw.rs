//! AdamW (decoupled weight decay), as burn's optimiser with settings people know from PyTorch,
//! and one step of it from a loss.

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::EngineError;

/// AdamW's hyperparameters. The defaults are PyTorch's `torch.optim.AdamW` defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWSettings {
    /// Step size.
    pub learning_rate: f64,
    /// Decay of the first-moment (mean) estimate.
    pub beta_1: f32,
    /// Decay of the second-moment (uncentred variance) estimate.
    pub beta_2: f32,
    /// Added to the root of the second moment, against division by zero.
    pub epsilon: f32,
    /// Decoupled weight decay: each step multiplies parameters by `1 - learning_rate · weight_decay`.
    pub weight_decay: f32,
}

impl Default for AdamWSettings {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.01,
        }
    }
}

impl AdamWSettings {
    /// Checks that every setting is finite and in its usual range.
    pub fn validate(&self) -> Result<(), EngineError> {
        let in_unit = |value: f32| (0.0..1.0).contains(&value);
        let valid = self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && in_unit(self.beta_1)
            && in_unit(self.beta_2)
            && self.epsilon.is_finite()
            && self.epsilon > 0.0
            && self.weight_decay.is_finite()
            && self.weight_decay >= 0.0;
        if !valid {
            return Err(EngineError::InvalidParameter(format!(
                "AdamW settings out of range: {self:?} (need learning rate > 0, betas in [0, 1), epsilon > 0, weight decay ≥ 0)"
            )));
        }
        Ok(())
    }
}

/// An AdamW optimiser with its moment estimates, for one module being trained.
pub struct AdamW {
    settings: AdamWSettings,
    optimizer: ModuleOptimizer,
}

impl AdamW {
    /// A fresh optimiser (no moments yet).
    pub fn new(settings: AdamWSettings) -> Result<Self, EngineError> {
        settings.validate()?;
        let optimizer = AdamWConfig::new()
            .with_beta_1(settings.beta_1)
            .with_beta_2(settings.beta_2)
            .with_epsilon(settings.epsilon)
            .with_weight_decay(settings.weight_decay)
            .init();
        Ok(Self {
            settings,
            optimizer,
        })
    }

    /// Backpropagates `loss` (a single value computed from `module`'s parameters on an
    /// autodiff device) and returns the module after one AdamW update.
    pub fn step<M: Module>(&mut self, module: M, loss: &Tensor<1>) -> M {
        let gradients = GradientsParams::from_grads(loss.backward(), &module);
        self.optimizer
            .step(self.settings.learning_rate, module, gradients)
    }
}
