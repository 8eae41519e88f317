//! Named hook points (TransformerLens names), the positions a capture or intervention touches,
//! and what an intervention adds. Strategies name hook points, never bare layer numbers.

use std::fmt;
use std::str::FromStr;

use poser_corpus::rng::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A place in the forward pass where activations can be read or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookPoint {
    /// `hook_embed`: token embeddings, before the positions are added.
    Embed,
    /// `blocks.{i}.hook_resid_pre`: the residual stream entering block `i`.
    ResidPre(usize),
    /// `blocks.{i}.hook_resid_post`: the residual stream leaving block `i`.
    ResidPost(usize),
    /// `blocks.{i}.attn.hook_pattern`: attention probabilities, `[head, query, key]`.
    AttnPattern(usize),
}

/// Why a hook name was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HookError {
    /// The text is not a hook name this runtime knows.
    #[error(
        "unknown hook point `{0}` (known: hook_embed, blocks.{{i}}.hook_resid_pre, blocks.{{i}}.hook_resid_post, blocks.{{i}}.attn.hook_pattern)"
    )]
    Unknown(String),
    /// The block index is beyond the model's blocks.
    #[error("hook point `{hook}` is out of range: the model has {n_layers} blocks (0..{n_layers})")]
    OutOfRange {
        /// The hook, as named.
        hook: String,
        /// The model's block count.
        n_layers: usize,
    },
    /// A relative depth outside `[0, 1)` or not a number.
    #[error("relative depth {0} is outside [0, 1)")]
    BadDepth(f64),
    /// An intervention aimed at a hook that only reads (attention patterns).
    #[error("hook point `{0}` can be captured but not intervened on")]
    ReadOnly(String),
}

impl HookPoint {
    /// The residual stream after block `round(f·n_layers)` (0-based), POSER.md §4's rule for
    /// carrying the paper's layer numbers (out of 40) over to our models by relative depth.
    pub fn resid_post_at_depth(fraction: f64, n_layers: usize) -> Result<Self, HookError> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(HookError::BadDepth(fraction));
        }
        let block = (fraction * n_layers as f64).round() as usize;
        let hook = Self::ResidPost(block);
        hook.check(n_layers)?;
        Ok(hook)
    }

    /// The block this hook belongs to (`None` for `hook_embed`).
    pub fn block(self) -> Option<usize> {
        match self {
            Self::Embed => None,
            Self::ResidPre(i) | Self::ResidPost(i) | Self::AttnPattern(i) => Some(i),
        }
    }

    /// Checks the block index against a model with `n_layers` blocks.
    pub fn check(self, n_layers: usize) -> Result<(), HookError> {
        match self.block() {
            Some(block) if block >= n_layers => Err(HookError::OutOfRange {
                hook: self.to_string(),
                n_layers,
            }),
            _ => Ok(()),
        }
    }

    /// Whether this hook carries the residual stream (or the embedding), so that a vector of
    /// `d_model` values can be added there.
    pub fn is_writable(self) -> bool {
        !matches!(self, Self::AttnPattern(_))
    }

    /// Parses a name and checks it against a model with `n_layers` blocks.
    pub fn parse_for(name: &str, n_layers: usize) -> Result<Self, HookError> {
        let hook: Self = name.parse()?;
        hook.check(n_layers)?;
        Ok(hook)
    }
}

impl fmt::Display for HookPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embed => write!(f, "hook_embed"),
            Self::ResidPre(i) => write!(f, "blocks.{i}.hook_resid_pre"),
            Self::ResidPost(i) => write!(f, "blocks.{i}.hook_resid_post"),
            Self::AttnPattern(i) => write!(f, "blocks.{i}.attn.hook_pattern"),
        }
    }
}

impl FromStr for HookPoint {
    type Err = HookError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let unknown = || HookError::Unknown(name.to_owned());
        if name == "hook_embed" {
            return Ok(Self::Embed);
        }
        let rest = name.strip_prefix("blocks.").ok_or_else(unknown)?;
        let (index, hook) = rest.split_once('.').ok_or_else(unknown)?;
        // Only plain decimal indices: `+1` or `01` would make two names for one hook.
        if index.is_empty()
            || !index.bytes().all(|b| b.is_ascii_digit())
            || (index.len() > 1 && index.starts_with('0'))
        {
            return Err(unknown());
        }
        let block: usize = index.parse().map_err(|_| unknown())?;
        match hook {
            "hook_resid_pre" => Ok(Self::ResidPre(block)),
            "hook_resid_post" => Ok(Self::ResidPost(block)),
            "attn.hook_pattern" => Ok(Self::AttnPattern(block)),
            _ => Err(unknown()),
        }
    }
}

impl Serialize for HookPoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HookPoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Which sequence positions of each prompt a capture or intervention touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Positions {
    /// Each prompt's own final token.
    Last,
    /// Every token of each prompt (never padding).
    All,
    /// These positions (0-based) of every prompt; each must be inside every prompt.
    At(Vec<usize>),
}

impl Positions {
    /// The positions this selects in a prompt of `len` tokens, or the first that is outside.
    pub fn resolve(&self, len: usize) -> Result<Vec<usize>, usize> {
        match self {
            Self::Last => Ok(vec![len.saturating_sub(1)]),
            Self::All => Ok((0..len).collect()),
            Self::At(positions) => match positions.iter().find(|&&p| p >= len) {
                Some(&outside) => Err(outside),
                None => Ok(positions.clone()),
            },
        }
    }
}

/// How the components of a noise vector are drawn before it is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseDistribution {
    /// Uniform in `[0, 1)`, as in the paper's S2.
    Uniform01,
    /// Standard normal (the paper: "equally effective").
    Gaussian,
}

/// What an intervention adds to the residual stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edit {
    /// Add this vector (`d_model` values).
    AddVector(Vec<f32>),
    /// Add a random direction drawn from `seed`, scaled to L2 norm `magnitude`.
    Noise {
        /// How the direction's components are drawn.
        distribution: NoiseDistribution,
        /// Seed of the direction; the same seed gives the same direction everywhere.
        seed: u64,
        /// L2 norm of the added vector (0 adds nothing).
        magnitude: f32,
    },
}

impl Edit {
    /// The vector this edit adds, for a residual stream of width `d_model`.
    pub fn vector(&self, d_model: usize) -> Result<Vec<f32>, String> {
        match self {
            Self::AddVector(vector) if vector.len() == d_model => Ok(vector.clone()),
            Self::AddVector(vector) => Err(format!(
                "the added vector has {} values, the residual stream {d_model}",
                vector.len()
            )),
            Self::Noise {
                distribution,
                seed,
                magnitude,
            } => {
                if !magnitude.is_finite() {
                    return Err(format!("noise magnitude {magnitude} is not finite"));
                }
                let direction = noise_direction(*distribution, *seed, d_model);
                Ok(direction.iter().map(|v| v * magnitude).collect())
            }
        }
    }
}

/// A unit vector drawn from `seed` (computed in f64 so that native and wasm agree closely).
pub fn noise_direction(distribution: NoiseDistribution, seed: u64, d_model: usize) -> Vec<f32> {
    let mut rng = Rng::derived(seed, "noise-direction");
    let mut unit = || f64::from(rng.next_unit_f32());
    let raw: Vec<f64> = match distribution {
        NoiseDistribution::Uniform01 => (0..d_model).map(|_| unit()).collect(),
        NoiseDistribution::Gaussian => (0..d_model)
            .map(|_| {
                // Box–Muller; 1 - u keeps the logarithm's argument in (0, 1].
                let radius = (-2.0 * (1.0 - unit()).ln()).sqrt();
                radius * (std::f64::consts::TAU * unit()).cos()
            })
            .collect(),
    };
    let norm = raw.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm == 0.0 {
        return vec![0.0; d_model];
    }
    raw.iter().map(|v| (v / norm) as f32).collect()
}

/// An intervention: add `edit` at `hook`, at `positions` of every prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intervention {
    /// Where (must be a residual-stream hook or `hook_embed`).
    pub hook: HookPoint,
    /// Which tokens of each prompt.
    pub positions: Positions,
    /// What is added.
    pub edit: Edit,
}

/// A request to keep the activations at `hook`, at `positions` of every prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureRequest {
    /// Which activations.
    pub hook: HookPoint,
    /// Which tokens (query tokens, for attention patterns).
    pub positions: Positions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_names_round_trip() {
        for hook in [
            HookPoint::Embed,
            HookPoint::ResidPre(0),
            HookPoint::ResidPost(7),
            HookPoint::AttnPattern(12),
        ] {
            assert_eq!(hook.to_string().parse::<HookPoint>().unwrap(), hook);
            let json = serde_json::to_string(&hook).unwrap();
            assert_eq!(serde_json::from_str::<HookPoint>(&json).unwrap(), hook);
        }
    }

    #[test]
    fn bad_hook_names_are_refused_with_the_name() {
        for name in [
            "",
            "hook_resid_post",
            "blocks.x.hook_resid_post",
            "blocks.01.hook_resid_post",
            "blocks.+1.hook_resid_post",
            "blocks.1.hook_mlp_out",
            "blocks.1",
        ] {
            let error = name.parse::<HookPoint>().unwrap_err();
            assert!(error.to_string().contains(&format!("`{name}`")), "{error}");
        }
        let error = HookPoint::parse_for("blocks.8.hook_resid_post", 8).unwrap_err();
        assert!(matches!(error, HookError::OutOfRange { n_layers: 8, .. }));
    }

    #[test]
    fn relative_depth_follows_poser_section_4() {
        let blocks: Vec<HookPoint> = [0.125, 0.25, 0.375, 0.5]
            .iter()
            .map(|&f| HookPoint::resid_post_at_depth(f, 8).unwrap())
            .collect();
        assert_eq!(
            blocks,
            [1, 2, 3, 4].map(HookPoint::ResidPost).to_vec(),
            "12.5/25/37.5/50% of 8 blocks"
        );
        // The paper's layer 15 of 40.
        assert_eq!(
            HookPoint::resid_post_at_depth(15.0 / 40.0, 40).unwrap(),
            HookPoint::ResidPost(15)
        );
        assert!(HookPoint::resid_post_at_depth(1.0, 8).is_err());
        assert!(HookPoint::resid_post_at_depth(f64::NAN, 8).is_err());
        // 0.95 of 8 rounds to block 8, which does not exist.
        assert!(HookPoint::resid_post_at_depth(0.95, 8).is_err());
    }

    #[test]
    fn noise_has_the_requested_norm_and_is_seeded() {
        for distribution in [NoiseDistribution::Uniform01, NoiseDistribution::Gaussian] {
            let edit = |seed| Edit::Noise {
                distribution,
                seed,
                magnitude: 3.0,
            };
            let v = edit(5).vector(64).unwrap();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 3.0).abs() < 1e-5, "{norm}");
            assert_eq!(v, edit(5).vector(64).unwrap());
            assert_ne!(v, edit(6).vector(64).unwrap());
        }
        let uniform = noise_direction(NoiseDistribution::Uniform01, 1, 32);
        assert!(uniform.iter().all(|&x| x >= 0.0));
    }

    #[test]
    fn positions_resolve_per_prompt() {
        assert_eq!(Positions::Last.resolve(5), Ok(vec![4]));
        assert_eq!(Positions::All.resolve(3), Ok(vec![0, 1, 2]));
        assert_eq!(Positions::At(vec![1, 6]).resolve(5), Err(6));
    }
}
