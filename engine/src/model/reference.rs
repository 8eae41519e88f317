//! The same decoder in plain Rust loops on `f32`, with no burn: the yardstick the burn model
//! (on every backend) is checked against. Slow and obvious on purpose.

use super::weights::ModelWeights;
use crate::EngineError;

/// What the reference computes for one prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceOutput {
    /// Logits over the vocabulary at the final token.
    pub last_logits: Vec<f32>,
    /// `blocks.{i}.hook_resid_post` at the final token, per block.
    pub resid_post_last: Vec<Vec<f32>>,
    /// `blocks.{i}.attn.hook_pattern`, per block, `[head][query][key]`.
    pub patterns: Vec<Vec<Vec<Vec<f32>>>>,
}

fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], eps: f64) -> Vec<f32> {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + eps as f32).sqrt();
    x.iter()
        .zip(gamma.iter().zip(beta))
        .map(|(v, (g, b))| (v - mean) * inv * g + b)
        .collect()
}

/// `x · W + b` with `W` stored `[d_in, d_out]`.
fn linear(x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
    let d_out = bias.len();
    let mut out = bias.to_vec();
    for (i, xi) in x.iter().enumerate() {
        for (o, slot) in out.iter_mut().enumerate() {
            *slot += xi * weight[i * d_out + o];
        }
    }
    out
}

fn gelu_tanh(x: f32) -> f32 {
    let c = (2.0 / std::f32::consts::PI).sqrt();
    0.5 * x * (1.0 + (c * (x + 0.044_715 * x * x * x)).tanh())
}

/// Runs one prompt through `weights`.
// Index loops read like the formulas they implement, which is the point of a reference.
#[allow(clippy::needless_range_loop)]
pub fn reference_forward(
    weights: &ModelWeights,
    tokens: &[u32],
) -> Result<ReferenceOutput, EngineError> {
    weights.validate()?;
    let config = weights.config;
    if tokens.is_empty() || tokens.len() > config.n_ctx {
        return Err(EngineError::InvalidParameter(format!(
            "prompt of {} tokens for a context of {}",
            tokens.len(),
            config.n_ctx
        )));
    }
    let get =
        |name: &str| -> Result<&[f32], EngineError> { Ok(weights.tensor(name)?.values.as_slice()) };
    let d = config.d_model;
    let (heads, d_head) = (config.n_heads, config.d_head());
    let embed = get("embed.weight")?;
    let pos = get("pos_embed.weight")?;
    let len = tokens.len();
    let mut resid: Vec<Vec<f32>> = Vec::with_capacity(len);
    for (t, &id) in tokens.iter().enumerate() {
        let p = config.positions.position(t, len, config.n_ctx);
        let id = id as usize;
        if id >= config.d_vocab {
            return Err(EngineError::InvalidParameter(format!("token id {id}")));
        }
        resid.push((0..d).map(|j| embed[id * d + j] + pos[p * d + j]).collect());
    }
    let mut resid_post_last = Vec::new();
    let mut patterns = Vec::new();
    for layer in 0..config.n_layers {
        let name = |suffix: &str| format!("blocks.{layer}.{suffix}");
        let normed: Vec<Vec<f32>> = resid
            .iter()
            .map(|x| {
                Ok(layer_norm(
                    x,
                    get(&name("ln1.gamma"))?,
                    get(&name("ln1.beta"))?,
                    config.layer_norm_eps,
                ))
            })
            .collect::<Result<_, EngineError>>()?;
        let project = |which: &str| -> Result<Vec<Vec<f32>>, EngineError> {
            let weight = get(&name(&format!("attn.{which}.weight")))?;
            let bias = get(&name(&format!("attn.{which}.bias")))?;
            Ok(normed.iter().map(|x| linear(x, weight, bias)).collect())
        };
        let (q, k, v) = (project("q")?, project("k")?, project("v")?);
        let mut z = vec![vec![0.0_f32; d]; len];
        let mut pattern = vec![vec![vec![0.0_f32; len]; len]; heads];
        let scale = 1.0 / (d_head as f32).sqrt();
        for h in 0..heads {
            let cols = h * d_head..(h + 1) * d_head;
            for query in 0..len {
                // Causal: keys 0..=query only.
                let scores: Vec<f32> = (0..=query)
                    .map(|key| cols.clone().map(|c| q[query][c] * k[key][c]).sum::<f32>() * scale)
                    .collect();
                let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let exps: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
                let total: f32 = exps.iter().sum();
                for (key, e) in exps.iter().enumerate() {
                    let weight = e / total;
                    pattern[h][query][key] = weight;
                    for c in cols.clone() {
                        z[query][c] += weight * v[key][c];
                    }
                }
            }
        }
        let o_weight = get(&name("attn.o.weight"))?;
        let o_bias = get(&name("attn.o.bias"))?;
        for (x, zq) in resid.iter_mut().zip(&z) {
            let attn_out = linear(zq, o_weight, o_bias);
            for (xi, a) in x.iter_mut().zip(attn_out) {
                *xi += a;
            }
            let normed = layer_norm(
                x,
                get(&name("ln2.gamma"))?,
                get(&name("ln2.beta"))?,
                config.layer_norm_eps,
            );
            let hidden: Vec<f32> = linear(
                &normed,
                get(&name("mlp.fc_in.weight"))?,
                get(&name("mlp.fc_in.bias"))?,
            )
            .into_iter()
            .map(gelu_tanh)
            .collect();
            let mlp_out = linear(
                &hidden,
                get(&name("mlp.fc_out.weight"))?,
                get(&name("mlp.fc_out.bias"))?,
            );
            for (xi, m) in x.iter_mut().zip(mlp_out) {
                *xi += m;
            }
        }
        resid_post_last.push(resid[len - 1].clone());
        patterns.push(pattern);
    }
    let final_normed = layer_norm(
        &resid[len - 1],
        get("ln_final.gamma")?,
        get("ln_final.beta")?,
        config.layer_norm_eps,
    );
    let last_logits = (0..config.d_vocab)
        .map(|t| (0..d).map(|j| final_normed[j] * embed[t * d + j]).sum())
        .collect();
    Ok(ReferenceOutput {
        last_logits,
        resid_post_last,
        patterns,
    })
}
