//! The traced forward pass: a batch of prompts of different lengths, captures and
//! interventions by hook name, last-position logits and P(`A`), P(`B`), P(`error`).
//!
//! Prompts are right-padded. With a causal mask nothing else is needed: a prompt's tokens only
//! attend to earlier positions, which are its own, so padding after it is never seen, and every
//! prompt keeps its natural positions `0..len`.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::gpt::PoserGpt;
use super::hooks::{CaptureRequest, HookPoint, Intervention, Positions};
use crate::EngineError;

/// What to capture and change during a forward pass.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ForwardRequest {
    /// Activations to keep, in the order they are returned.
    pub captures: Vec<CaptureRequest>,
    /// Vectors to add; several at one hook add up. Captures at a hook see its interventions.
    pub interventions: Vec<Intervention>,
}

impl ForwardRequest {
    /// Captures the last token's attention pattern (`blocks.{i}.attn.hook_pattern`, each
    /// `[head, 1, len]`) in every one of `n_layers` blocks, and changes nothing.
    pub fn last_token_attention(n_layers: usize) -> Self {
        Self {
            captures: (0..n_layers)
                .map(|layer| CaptureRequest {
                    hook: HookPoint::AttnPattern(layer),
                    positions: Positions::Last,
                })
                .collect(),
            interventions: Vec::new(),
        }
    }
}

impl Capture {
    /// For a last-position attention capture (`[head, 1, len]`), the attention mass each head's
    /// row puts on the key positions `span` (positions past the prompt count nothing).
    pub fn attention_mass_on(&self, span: &std::ops::Range<usize>) -> Vec<f64> {
        let len = self.shape.get(2).copied().unwrap_or(0).max(1);
        self.values
            .chunks(len)
            .map(|row| {
                row.get(span.clone())
                    .unwrap_or(&[])
                    .iter()
                    .map(|&a| f64::from(a))
                    .sum()
            })
            .collect()
    }
}

/// Softmax probabilities (over the whole vocabulary) of the three answer tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnswerProbs {
    /// P(`A`).
    #[serde(rename = "A")]
    pub a: f32,
    /// P(`B`).
    #[serde(rename = "B")]
    pub b: f32,
    /// P(`error`).
    pub error: f32,
}

/// Token ids of the answers, fixed by the tokenizer (`A`=2, `B`=3, `error`=4).
pub const ANSWER_IDS: [usize; 3] = [2, 3, 4];

impl AnswerProbs {
    /// Softmax of `logits` (in f64, max-subtracted) at the answer ids.
    pub fn from_logits(logits: &[f32]) -> Self {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
        let p = |id: usize| {
            logits
                .get(id)
                .map_or(0.0, |&l| (f64::from(l - max).exp() / total) as f32)
        };
        Self {
            a: p(ANSWER_IDS[0]),
            b: p(ANSWER_IDS[1]),
            error: p(ANSWER_IDS[2]),
        }
    }
}

/// Activations kept at one hook for one prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    /// Where they were read.
    pub hook: HookPoint,
    /// The (query) positions, in order.
    pub positions: Vec<usize>,
    /// `[positions, d_model]` for the residual stream; `[head, positions, len]` for patterns.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

/// Everything a forward pass returns for one prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptOutput {
    /// The prompt's token ids.
    pub tokens: Vec<u32>,
    /// Logits over the whole vocabulary at the prompt's final token.
    pub last_logits: Vec<f32>,
    /// P(`A`), P(`B`), P(`error`) at the final token.
    pub p: AnswerProbs,
    /// The captures asked for, in request order.
    pub captures: Vec<Capture>,
}

/// Reads a tensor back asynchronously (a synchronous read panics on WebGPU in wasm).
pub(crate) async fn read_f32<const D: usize>(
    tensor: Tensor<D>,
    what: &str,
) -> Result<Vec<f32>, EngineError> {
    let device = tensor.device();
    let data = tensor
        .into_data_async()
        .await
        .map_err(|error| EngineError::ReadBack {
            backend: format!("{device:?}"),
            message: format!("{what}: {error:?}"),
        })?;
    data.try_into_vec::<f32>()
        .map_err(|error| EngineError::UnexpectedTensor(format!("{what}: {error:?}")))
}

/// Checks prompts against the model: non-empty, within the context, ids in the vocabulary.
pub(crate) fn check_prompts(model: &PoserGpt, prompts: &[Vec<u32>]) -> Result<(), EngineError> {
    let config = &model.config;
    if prompts.is_empty() {
        return Err(EngineError::InvalidParameter(
            "no prompts to run".to_owned(),
        ));
    }
    for (index, prompt) in prompts.iter().enumerate() {
        if prompt.is_empty() || prompt.len() > config.n_ctx {
            return Err(EngineError::InvalidParameter(format!(
                "prompt {index} has {} tokens; the model takes 1..={}",
                prompt.len(),
                config.n_ctx
            )));
        }
        if let Some(&id) = prompt.iter().find(|&&id| id as usize >= config.d_vocab) {
            return Err(EngineError::InvalidParameter(format!(
                "prompt {index} has token id {id}, outside the vocabulary of {}",
                config.d_vocab
            )));
        }
    }
    Ok(())
}

/// Checks an intervention's hook and builds the vector it adds.
pub(crate) fn edit_vector(
    model: &PoserGpt,
    intervention: &Intervention,
) -> Result<Vec<f32>, EngineError> {
    let hook = intervention.hook;
    hook.check(model.config.n_layers)
        .map_err(|error| EngineError::InvalidParameter(error.to_string()))?;
    if !hook.is_writable() {
        return Err(EngineError::InvalidParameter(
            super::hooks::HookError::ReadOnly(hook.to_string()).to_string(),
        ));
    }
    intervention
        .edit
        .vector(model.config.d_model)
        .map_err(|message| EngineError::InvalidParameter(format!("at `{hook}`: {message}")))
}

/// Per intervened hook, the `[batch, max_len, d_model]` sum of its edits over a right-padded
/// batch of prompts of lengths `lens` (zero at padding and untouched positions).
pub(crate) fn intervention_deltas(
    model: &PoserGpt,
    interventions: &[Intervention],
    lens: &[usize],
    max_len: usize,
) -> Result<Vec<(HookPoint, Vec<f32>)>, EngineError> {
    let d_model = model.config.d_model;
    let mut deltas: Vec<(HookPoint, Vec<f32>)> = Vec::new();
    for intervention in interventions {
        let vector = edit_vector(model, intervention)?;
        let slot = match deltas.iter().position(|(h, _)| *h == intervention.hook) {
            Some(slot) => slot,
            None => {
                deltas.push((intervention.hook, vec![0.0; lens.len() * max_len * d_model]));
                deltas.len() - 1
            }
        };
        let Some((_, delta)) = deltas.get_mut(slot) else {
            continue;
        };
        for (b, &len) in lens.iter().enumerate() {
            let positions = resolve(&intervention.positions, len, intervention.hook, b)?;
            for p in positions {
                let start = (b * max_len + p) * d_model;
                for (slot, v) in delta[start..start + d_model].iter_mut().zip(&vector) {
                    *slot += v;
                }
            }
        }
    }
    Ok(deltas)
}

/// The batch's shape and what each hook does, prepared before touching the device.
struct Trace<'a> {
    lens: Vec<usize>,
    max_len: usize,
    d_model: usize,
    request: &'a ForwardRequest,
    /// Per intervened hook, the `[batch, max_len, d_model]` sum of its edits.
    deltas: Vec<(HookPoint, Vec<f32>)>,
    /// Captured tensors, by request index.
    kept: Vec<Option<KeptTensor>>,
}

enum KeptTensor {
    Resid(Tensor<3>),
    Pattern(Tensor<4>),
}

impl<'a> Trace<'a> {
    fn new(
        model: &PoserGpt,
        prompts: &[Vec<u32>],
        request: &'a ForwardRequest,
    ) -> Result<Self, EngineError> {
        let lens: Vec<usize> = prompts.iter().map(Vec::len).collect();
        let max_len = lens.iter().copied().max().unwrap_or(0);
        let d_model = model.config.d_model;
        let deltas = intervention_deltas(model, &request.interventions, &lens, max_len)?;
        for capture in &request.captures {
            capture
                .hook
                .check(model.config.n_layers)
                .map_err(|error| EngineError::InvalidParameter(error.to_string()))?;
            for (b, &len) in lens.iter().enumerate() {
                resolve(&capture.positions, len, capture.hook, b)?;
            }
        }
        Ok(Self {
            lens,
            max_len,
            d_model,
            request,
            deltas,
            kept: (0..request.captures.len()).map(|_| None).collect(),
        })
    }

    /// Applies the interventions at `hook` to `x`, then keeps what captures ask for.
    fn resid(&mut self, hook: HookPoint, x: Tensor<3>) -> Tensor<3> {
        let x = match self.deltas.iter().find(|(h, _)| *h == hook) {
            Some((_, delta)) => {
                let shape = [self.lens.len(), self.max_len, self.d_model];
                let delta =
                    Tensor::<3>::from_data(TensorData::new(delta.clone(), shape), &x.device());
                x + delta
            }
            None => x,
        };
        for (index, capture) in self.request.captures.iter().enumerate() {
            if capture.hook == hook {
                self.kept[index] = Some(KeptTensor::Resid(x.clone()));
            }
        }
        x
    }

    fn pattern(&mut self, hook: HookPoint, pattern: &Tensor<4>) {
        for (index, capture) in self.request.captures.iter().enumerate() {
            if capture.hook == hook {
                self.kept[index] = Some(KeptTensor::Pattern(pattern.clone()));
            }
        }
    }

    fn wants_pattern(&self, layer: usize) -> bool {
        self.request
            .captures
            .iter()
            .any(|c| c.hook == HookPoint::AttnPattern(layer))
    }
}

fn resolve(
    positions: &Positions,
    len: usize,
    hook: HookPoint,
    prompt: usize,
) -> Result<Vec<usize>, EngineError> {
    positions.resolve(len).map_err(|outside| {
        EngineError::InvalidParameter(format!(
            "position {outside} at `{hook}` is outside prompt {prompt} ({len} tokens)"
        ))
    })
}

/// Right-padded token ids `[batch, max_len]` (padding is never attended to: see [`causal_mask`]).
pub(crate) fn padded_ids(prompts: &[Vec<u32>], device: &Device) -> Tensor<2, Int> {
    let max_len = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let ids: Vec<i64> = prompts
        .iter()
        .flat_map(|prompt| {
            prompt
                .iter()
                .map(|&id| i64::from(id))
                .chain(std::iter::repeat_n(0, max_len - prompt.len()))
        })
        .collect();
    Tensor::<2, Int>::from_data(TensorData::new(ids, [prompts.len(), max_len]), device)
}

/// The mask of future keys for `[batch, n_heads, len, len]` attention scores. Right padding
/// needs nothing more: a real token never sees a later position, padded or not.
pub(crate) fn causal_mask(
    batch: usize,
    n_heads: usize,
    len: usize,
    device: &Device,
) -> Tensor<4, Bool> {
    // burn's `tril_mask` is true *outside* the lower triangle: exactly the future keys.
    Tensor::<2, Bool>::tril_mask([len, len], 0, device)
        .unsqueeze::<4>()
        .expand([batch, n_heads, len, len])
}

/// Index tensor selecting each prompt's final position along dim 1 of `[batch, pos, width]`.
pub(crate) fn last_index(lens: &[usize], width: usize, device: &Device) -> Tensor<3, Int> {
    let values: Vec<i64> = lens
        .iter()
        .flat_map(|&len| std::iter::repeat_n(len as i64 - 1, width))
        .collect();
    Tensor::<3, Int>::from_data(TensorData::new(values, [lens.len(), 1, width]), device)
}

/// Runs the model on a batch of prompts (token ids), applying `request`'s interventions and
/// returning, per prompt, the final token's logits, the answer probabilities and the captures.
pub async fn forward(
    model: &PoserGpt,
    prompts: &[Vec<u32>],
    request: &ForwardRequest,
) -> Result<Vec<PromptOutput>, EngineError> {
    check_prompts(model, prompts)?;
    let mut trace = Trace::new(model, prompts, request)?;
    let device = model.embed.weight.device();
    let (batch, max_len) = (prompts.len(), trace.max_len);
    let ids = padded_ids(prompts, &device);
    let embedded = trace.resid(HookPoint::Embed, model.embed.forward(ids));
    let mut resid = embedded + model.positions_for(&trace.lens, max_len);
    let causal = causal_mask(batch, model.config.n_heads, max_len, &device);
    for (layer, block) in model.blocks.iter().enumerate() {
        resid = trace.resid(HookPoint::ResidPre(layer), resid);
        let heads = block.attn.project(block.ln1.forward(resid.clone()));
        let pattern = block.attn.pattern(heads.q, heads.k, Some(causal.clone()));
        if trace.wants_pattern(layer) {
            trace.pattern(HookPoint::AttnPattern(layer), &pattern);
        }
        let resid_mid = resid + block.attn.mix(pattern, heads.v);
        resid = trace.resid(HookPoint::ResidPost(layer), block.finish(resid_mid));
    }

    let d_model = model.config.d_model;
    let last = resid
        .gather(1, last_index(&trace.lens, d_model, &device))
        .reshape([batch, d_model]);
    let logits = read_f32(model.unembed(last), "last-position logits").await?;
    let d_vocab = model.config.d_vocab;

    let mut captures_per_prompt: Vec<Vec<Capture>> = vec![Vec::new(); batch];
    let kept = std::mem::take(&mut trace.kept);
    for (capture, kept) in request.captures.iter().zip(kept) {
        let Some(kept) = kept else {
            return Err(EngineError::UnexpectedTensor(format!(
                "`{}` was not reached in the forward pass",
                capture.hook
            )));
        };
        let per_prompt = read_capture(capture, kept, &trace.lens, max_len, &device).await?;
        for (slot, one) in captures_per_prompt.iter_mut().zip(per_prompt) {
            slot.push(one);
        }
    }
    Ok(prompts
        .iter()
        .zip(captures_per_prompt)
        .enumerate()
        .map(|(b, (prompt, captures))| {
            let last_logits = logits[b * d_vocab..(b + 1) * d_vocab].to_vec();
            PromptOutput {
                tokens: prompt.clone(),
                p: AnswerProbs::from_logits(&last_logits),
                last_logits,
                captures,
            }
        })
        .collect())
}

/// Reads one capture back and cuts it per prompt (never returning padding).
async fn read_capture(
    request: &CaptureRequest,
    kept: KeptTensor,
    lens: &[usize],
    max_len: usize,
    device: &Device,
) -> Result<Vec<Capture>, EngineError> {
    let what = format!("capture `{}`", request.hook);
    let batch = lens.len();
    match (kept, &request.positions) {
        (KeptTensor::Resid(x), Positions::Last) => {
            let d = x.dims()[2];
            let values = read_f32(x.gather(1, last_index(lens, d, device)), &what).await?;
            Ok((0..batch)
                .map(|b| Capture {
                    hook: request.hook,
                    positions: vec![lens[b] - 1],
                    shape: vec![1, d],
                    values: values[b * d..(b + 1) * d].to_vec(),
                })
                .collect())
        }
        (KeptTensor::Resid(x), positions) => {
            let d = x.dims()[2];
            let values = read_f32(x, &what).await?;
            let mut out = Vec::with_capacity(batch);
            for (b, &len) in lens.iter().enumerate() {
                let chosen = resolve(positions, len, request.hook, b)?;
                let mut picked = Vec::with_capacity(chosen.len() * d);
                for &p in &chosen {
                    let start = (b * max_len + p) * d;
                    picked.extend_from_slice(&values[start..start + d]);
                }
                out.push(Capture {
                    hook: request.hook,
                    shape: vec![chosen.len(), d],
                    positions: chosen,
                    values: picked,
                });
            }
            Ok(out)
        }
        (KeptTensor::Pattern(pattern), positions) => {
            let [_, heads, queries, keys] = pattern.dims();
            // For the last position only, gather on the device: one row per head, not T.
            let gathered = *positions == Positions::Last;
            let (values, queries) = if gathered {
                let index: Vec<i64> = lens
                    .iter()
                    .flat_map(|&len| std::iter::repeat_n(len as i64 - 1, heads * keys))
                    .collect();
                let index = Tensor::<4, Int>::from_data(
                    TensorData::new(index, [batch, heads, 1, keys]),
                    device,
                );
                (read_f32(pattern.gather(2, index), &what).await?, 1)
            } else {
                (read_f32(pattern, &what).await?, queries)
            };
            let mut out = Vec::with_capacity(batch);
            for (b, &len) in lens.iter().enumerate() {
                let chosen = resolve(positions, len, request.hook, b)?;
                let mut picked = Vec::with_capacity(heads * chosen.len() * len);
                for h in 0..heads {
                    for (row, &p) in chosen.iter().enumerate() {
                        let q = if gathered { row } else { p };
                        let start = ((b * heads + h) * queries + q) * keys;
                        picked.extend_from_slice(&values[start..start + len]);
                    }
                }
                out.push(Capture {
                    hook: request.hook,
                    shape: vec![heads, chosen.len(), len],
                    positions: chosen,
                    values: picked,
                });
            }
            Ok(out)
        }
    }
}
