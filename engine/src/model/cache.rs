//! Work done once: most interventions (S1, S2) touch only a prompt's final token. Positions
//! before it cannot see it (the mask is causal), so their keys, values and residuals are the
//! same with or without the intervention. [`PromptCache`] keeps them from one plain pass, and
//! [`PromptCache::run_edits`] recomputes only the final position, from the intervened block
//! upward, for many edits (magnitudes, seeds) at once.

use burn::tensor::{Tensor, TensorData};

use super::forward::{
    AnswerProbs, Capture, PromptOutput, causal_mask, check_prompts, edit_vector, read_f32,
};
use super::gpt::PoserGpt;
use super::hooks::{Edit, HookPoint, Intervention, Positions};
use crate::EngineError;

/// One prompt's last position, as its cache holds it ([`PromptCache::read_last_positions`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LastPosition {
    /// P(A), P(B), P(error).
    pub p: AnswerProbs,
    /// `blocks.{i}.hook_resid_post` at the last position, for every block `i`.
    pub resid_post: Vec<Vec<f32>>,
}

/// Keys/values of one block at the positions before the last: `[1, head, len - 1, d_head]`.
#[derive(Debug, Clone)]
struct PrefixKv {
    k: Tensor<4>,
    v: Tensor<4>,
}

/// What one plain forward pass of a prompt leaves behind for last-position recomputation.
#[derive(Debug, Clone)]
pub struct PromptCache {
    tokens: Vec<u32>,
    /// Per block; `None` for a one-token prompt (nothing before the last position).
    prefix: Vec<Option<PrefixKv>>,
    /// The residual stream at the last position entering block `s` (`s = n_layers`: after the
    /// last block), `[1, 1, d_model]`.
    stream: Vec<Tensor<3>>,
    /// `hook_embed` at the last position, `[1, 1, d_model]`.
    embed_last: Tensor<3>,
    /// The learned position of the last token, `[1, 1, d_model]`.
    pos_last: Tensor<3>,
    /// Each block's attention row of the last query, `[1, head, 1, len]`.
    pattern_last: Vec<Tensor<4>>,
}

impl PromptCache {
    /// Runs `tokens` once (no interventions) and keeps what later edits reuse. Nothing is read
    /// back, so this does not wait for the device.
    pub fn new(model: &PoserGpt, tokens: &[u32]) -> Result<Self, EngineError> {
        check_prompts(model, &[tokens.to_vec()])?;
        let device = model.embed.weight.device();
        let len = tokens.len();
        let ids: Vec<i64> = tokens.iter().map(|&id| i64::from(id)).collect();
        let ids =
            Tensor::<2, burn::tensor::Int>::from_data(TensorData::new(ids, [1, len]), &device);
        let embedded = model.embed.forward(ids);
        let last = |x: &Tensor<3>| x.clone().slice([0..1, len - 1..len]);
        let embed_last = last(&embedded);
        let positions = model.positions_for(&[len], len);
        let pos_last = last(&positions);
        let mut resid = embedded + positions;
        let n_heads = model.config.n_heads;
        let causal = causal_mask(1, n_heads, len, &device);
        let mut prefix = Vec::with_capacity(model.blocks.len());
        let mut stream = Vec::with_capacity(model.blocks.len() + 1);
        let mut pattern_last = Vec::with_capacity(model.blocks.len());
        for block in &model.blocks {
            stream.push(last(&resid));
            let heads = block.attn.project(block.ln1.forward(resid.clone()));
            prefix.push((len > 1).then(|| PrefixKv {
                k: heads.k.clone().slice([0..1, 0..n_heads, 0..len - 1]),
                v: heads.v.clone().slice([0..1, 0..n_heads, 0..len - 1]),
            }));
            let pattern = block.attn.pattern(heads.q, heads.k, Some(causal.clone()));
            pattern_last.push(pattern.clone().slice([0..1, 0..n_heads, len - 1..len]));
            let resid_mid = resid + block.attn.mix(pattern, heads.v);
            resid = block.finish(resid_mid);
        }
        stream.push(last(&resid));
        Ok(Self {
            tokens: tokens.to_vec(),
            prefix,
            stream,
            embed_last,
            pos_last,
            pattern_last,
        })
    }

    /// The prompt's token ids.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// What each cached pass already holds at its last position (answer probabilities and the
    /// residual after every block), read back in two transfers for all the prompts at once:
    /// the same numbers as a plain [`super::forward::forward`] with those captures, without
    /// running the prompts again.
    pub async fn read_last_positions(
        model: &PoserGpt,
        caches: &[&PromptCache],
    ) -> Result<Vec<LastPosition>, EngineError> {
        let n_layers = model.config.n_layers;
        let d_model = model.config.d_model;
        let made_here = |cache: &&PromptCache| {
            cache.stream.len() == n_layers + 1
                && cache.stream.iter().all(|s| s.dims() == [1, 1, d_model])
        };
        if !caches.iter().all(made_here) {
            return Err(EngineError::InvalidParameter(
                "a prompt cache was made with a different model; build the caches with this one"
                    .to_owned(),
            ));
        }
        if caches.is_empty() {
            return Ok(Vec::new());
        }
        let n = caches.len();
        let finals: Vec<Tensor<3>> = caches.iter().map(|c| c.stream[n_layers].clone()).collect();
        let logits = read_f32(
            model.unembed(Tensor::cat(finals, 0).reshape([n, d_model])),
            "last-position logits",
        )
        .await?;
        let streams: Vec<Tensor<3>> = caches
            .iter()
            .flat_map(|c| c.stream[1..].iter().cloned())
            .collect();
        let resid = read_f32(Tensor::cat(streams, 0), "residual streams").await?;
        let d_vocab = model.config.d_vocab;
        Ok((0..n)
            .map(|index| LastPosition {
                p: AnswerProbs::from_logits(&logits[index * d_vocab..(index + 1) * d_vocab]),
                resid_post: (0..n_layers)
                    .map(|layer| {
                        let at = (index * n_layers + layer) * d_model;
                        resid[at..at + d_model].to_vec()
                    })
                    .collect(),
            })
            .collect())
    }

    /// Runs the prompt once per edit, each edit added at `hook` at the last position, as a
    /// batch: equal to [`super::forward::forward`] with that intervention at
    /// [`Positions::Last`], at a fraction of the cost. `captures` are read at the last position
    /// (attention patterns: the last query's row).
    pub async fn run_edits(
        &self,
        model: &PoserGpt,
        hook: HookPoint,
        edits: &[Edit],
        captures: &[HookPoint],
    ) -> Result<Vec<PromptOutput>, EngineError> {
        let n_layers = model.config.n_layers;
        if edits.is_empty() {
            return Err(EngineError::InvalidParameter(
                "no edits to run at the last position".to_owned(),
            ));
        }
        if self.stream.len() != n_layers + 1 {
            return Err(EngineError::InvalidParameter(
                "this prompt cache was made with a different model".to_owned(),
            ));
        }
        for capture in captures {
            capture
                .check(n_layers)
                .map_err(|error| EngineError::InvalidParameter(error.to_string()))?;
        }
        let d_model = model.config.d_model;
        let variants = edits.len();
        let mut delta = Vec::with_capacity(variants * d_model);
        for edit in edits {
            delta.extend(edit_vector(
                model,
                &Intervention {
                    hook,
                    positions: Positions::Last,
                    edit: edit.clone(),
                },
            )?);
        }
        let device = model.embed.weight.device();
        let delta = Tensor::<3>::from_data(TensorData::new(delta, [variants, 1, d_model]), &device);
        let widen = |x: &Tensor<3>| x.clone().expand([variants, 1, d_model]);

        // The first block whose input differs from the cached pass, and that input.
        let (start, embed, first) = match hook {
            HookPoint::Embed => {
                let embed = widen(&self.embed_last) + delta;
                let first = embed.clone() + widen(&self.pos_last);
                (0, embed, first)
            }
            HookPoint::ResidPre(layer) => (
                layer,
                widen(&self.embed_last),
                widen(&self.cached(layer)?) + delta,
            ),
            HookPoint::ResidPost(layer) => (
                layer + 1,
                widen(&self.embed_last),
                widen(&self.cached(layer + 1)?) + delta,
            ),
            HookPoint::AttnPattern(_) => {
                return Err(EngineError::InvalidParameter(
                    super::hooks::HookError::ReadOnly(hook.to_string()).to_string(),
                ));
            }
        };

        let mut stream: Vec<Tensor<3>> = self.stream[..start].iter().map(widen).collect();
        let mut patterns: Vec<Tensor<4>> = Vec::with_capacity(n_layers);
        for cached in self.pattern_last.iter().take(start) {
            let [_, heads, _, keys] = cached.dims();
            patterns.push(cached.clone().expand([variants, heads, 1, keys]));
        }
        let mut resid = first;
        for (layer, block) in model.blocks.iter().enumerate().skip(start) {
            stream.push(resid.clone());
            let heads = block.attn.project(block.ln1.forward(resid.clone()));
            let (k, v) = match &self.prefix[layer] {
                Some(prefix) => {
                    let [_, n_heads, before, d_head] = prefix.k.dims();
                    let shape = [variants, n_heads, before, d_head];
                    (
                        Tensor::cat(vec![prefix.k.clone().expand(shape), heads.k], 2),
                        Tensor::cat(vec![prefix.v.clone().expand(shape), heads.v], 2),
                    )
                }
                None => (heads.k, heads.v),
            };
            // The last query sees every key: no mask.
            let pattern = block.attn.pattern(heads.q, k, None);
            patterns.push(pattern.clone());
            let resid_mid = resid + block.attn.mix(pattern, v);
            resid = block.finish(resid_mid);
        }
        stream.push(resid.clone());

        let logits = read_f32(
            model.unembed(resid.reshape([variants, d_model])),
            "last-position logits",
        )
        .await?;
        let d_vocab = model.config.d_vocab;
        let len = self.tokens.len();
        let mut per_variant: Vec<Vec<Capture>> = vec![Vec::new(); variants];
        for &capture in captures {
            let what = format!("capture `{capture}`");
            let (values, shape) = match capture {
                HookPoint::Embed => (read_f32(embed.clone(), &what).await?, vec![1, d_model]),
                HookPoint::ResidPre(i) => {
                    (read_f32(stream[i].clone(), &what).await?, vec![1, d_model])
                }
                // An edit at `blocks.{i+1}.hook_resid_pre` comes after this hook, which
                // sees the block's output as it was.
                HookPoint::ResidPost(i) if hook == HookPoint::ResidPre(i + 1) => (
                    read_f32(widen(&self.stream[i + 1]), &what).await?,
                    vec![1, d_model],
                ),
                HookPoint::ResidPost(i) => (
                    read_f32(stream[i + 1].clone(), &what).await?,
                    vec![1, d_model],
                ),
                HookPoint::AttnPattern(i) => {
                    let heads = model.config.n_heads;
                    (
                        read_f32(patterns[i].clone(), &what).await?,
                        vec![heads, 1, len],
                    )
                }
            };
            let size: usize = shape.iter().product();
            for (variant, slot) in per_variant.iter_mut().enumerate() {
                slot.push(Capture {
                    hook: capture,
                    positions: vec![len - 1],
                    shape: shape.clone(),
                    values: values[variant * size..(variant + 1) * size].to_vec(),
                });
            }
        }
        Ok(per_variant
            .into_iter()
            .enumerate()
            .map(|(variant, captures)| {
                let last_logits = logits[variant * d_vocab..(variant + 1) * d_vocab].to_vec();
                PromptOutput {
                    tokens: self.tokens.clone(),
                    p: AnswerProbs::from_logits(&last_logits),
                    last_logits,
                    captures,
                }
            })
            .collect())
    }

    fn cached(&self, stage: usize) -> Result<Tensor<3>, EngineError> {
        self.stream.get(stage).cloned().ok_or_else(|| {
            EngineError::InvalidParameter(format!(
                "block {stage} is beyond the model's {} blocks",
                self.stream.len().saturating_sub(1)
            ))
        })
    }
}
