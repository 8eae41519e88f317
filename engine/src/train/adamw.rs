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
    /// How the step size changes over a run (files without the field: constant).
    #[serde(default, skip_serializing_if = "LearningRateSchedule::is_constant")]
    pub schedule: LearningRateSchedule,
}

/// How the learning rate changes over a run of known length.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LearningRateSchedule {
    /// `learning_rate` at every step.
    #[default]
    Constant,
    /// A linear rise from zero over the first `warmup_fraction` of the steps, then a cosine
    /// fall to zero at the last step: the annealing at the end lets a run settle into the
    /// minimum it found instead of bouncing around it.
    WarmupCosine {
        /// Share of the run spent warming up, in [0, 1).
        warmup_fraction: f32,
    },
}

impl LearningRateSchedule {
    /// Whether this is the constant schedule (kept out of serialised settings, so files
    /// written before schedules existed are unchanged).
    pub fn is_constant(&self) -> bool {
        matches!(self, Self::Constant)
    }

    /// The multiplier of the base learning rate at step `step` (0-based) of `steps`.
    pub fn factor(&self, step: usize, steps: usize) -> f64 {
        match *self {
            Self::Constant => 1.0,
            Self::WarmupCosine { warmup_fraction } => {
                let steps = steps.max(1) as f64;
                let warmup = (f64::from(warmup_fraction) * steps).round().max(1.0);
                let at = step as f64 + 1.0;
                if at <= warmup {
                    at / warmup
                } else {
                    let progress = ((at - warmup) / (steps - warmup).max(1.0)).min(1.0);
                    0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
                }
            }
        }
    }
}

impl Default for AdamWSettings {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.01,
            schedule: LearningRateSchedule::Constant,
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
            && self.weight_decay >= 0.0
            && match self.schedule {
                LearningRateSchedule::Constant => true,
                LearningRateSchedule::WarmupCosine { warmup_fraction } => {
                    (0.0..1.0).contains(&warmup_fraction)
                }
            };
        if !valid {
            return Err(EngineError::InvalidParameter(format!(
                "AdamW settings out of range: {self:?} (need learning rate > 0, betas in [0, 1), epsilon > 0, weight decay ≥ 0, warm-up fraction in [0, 1))"
            )));
        }
        Ok(())
    }
}

/// An AdamW optimiser with its moment estimates, for one module being trained.
pub struct AdamW {
    settings: AdamWSettings,
    optimizer: ModuleOptimizer,
    /// Steps taken so far, and how many the run will take (for the schedule).
    steps_taken: usize,
    total_steps: usize,
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
            steps_taken: 0,
            total_steps: 1,
        })
    }

    /// Sets the length of the run the schedule is spread over.
    pub fn for_steps(mut self, total_steps: usize) -> Self {
        self.total_steps = total_steps.max(1);
        self
    }

    /// The learning rate the next step will use.
    pub fn current_learning_rate(&self) -> f64 {
        self.settings.learning_rate
            * self
                .settings
                .schedule
                .factor(self.steps_taken, self.total_steps)
    }

    /// Steps taken so far.
    pub fn steps_taken(&self) -> usize {
        self.steps_taken
    }

    /// The moment estimates of every parameter, as bytes (burn's optimiser record, keyed by
    /// parameter id: the module they are restored for must carry the same ids).
    pub fn state_bytes(&self) -> Result<Vec<u8>, EngineError> {
        let bytes = self.optimizer.into_bytes().map_err(|error| {
            EngineError::UnexpectedTensor(format!("saving the optimiser's state: {error}"))
        })?;
        Ok(bytes.to_vec())
    }

    /// This optimiser with the moments of [`AdamW::state_bytes`] and `steps_taken` steps
    /// already taken, so that the next step is the one an uninterrupted run would take.
    pub fn restored(mut self, state: &[u8], steps_taken: usize) -> Result<Self, EngineError> {
        self.optimizer = self
            .optimizer
            .from_bytes(burn::tensor::Bytes::from_bytes_vec(state.to_vec()))
            .map_err(|error| {
                EngineError::InvalidParameter(format!(
                    "the saved optimiser state cannot be read: {error}"
                ))
            })?;
        self.steps_taken = steps_taken;
        Ok(self)
    }

    /// Backpropagates `loss` (a single value computed from `module`'s parameters on an
    /// autodiff device) and returns the module after one AdamW update.
    pub fn step<M: Module>(&mut self, module: M, loss: &Tensor<1>) -> M {
        let gradients = GradientsParams::from_grads(loss.backward(), &module);
        let learning_rate = self.current_learning_rate();
        self.steps_taken += 1;
        self.optimizer.step(learning_rate, module, gradients)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_cosine_rises_then_falls_to_zero() {
        let schedule = LearningRateSchedule::WarmupCosine {
            warmup_fraction: 0.1,
        };
        let factors: Vec<f64> = (0..100).map(|step| schedule.factor(step, 100)).collect();
        assert!((factors[0] - 0.1).abs() < 1e-9);
        assert!((factors[9] - 1.0).abs() < 1e-9);
        assert!(factors[..10].windows(2).all(|w| w[0] < w[1]));
        assert!(factors[10..].windows(2).all(|w| w[0] > w[1]));
        assert!(factors[99].abs() < 1e-9);
        assert_eq!(LearningRateSchedule::Constant.factor(57, 100), 1.0);
    }

    #[test]
    fn constant_schedule_is_left_out_of_files() -> Result<(), serde_json::Error> {
        let text = serde_json::to_string(&AdamWSettings::default())?;
        assert!(!text.contains("schedule"), "{text}");
        let cosine = AdamWSettings {
            schedule: LearningRateSchedule::WarmupCosine {
                warmup_fraction: 0.05,
            },
            ..AdamWSettings::default()
        };
        let back: AdamWSettings = serde_json::from_str(&serde_json::to_string(&cosine)?)?;
        assert_eq!(back, cosine);
        Ok(())
    }
}
