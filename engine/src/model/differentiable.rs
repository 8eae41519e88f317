//! The forward pass kept on the device as tensors, so that autodiff can run back through it:
//! what saliency (S6a) and fine-tuning (S3, §4) backpropagate through.
//!
//! It repeats [`super::forward::forward`]'s operations in the same order (interventions
//! included, captures left out), so that with the same interventions and no adapter it gives
//! bit-identical logits on the same backend.

use burn::tensor::{Tensor, TensorData};

use super::adapter::MlpAdapter;
use super::forward::{
    causal_mask, check_prompts, intervention_deltas, last_index, padded_ids, read_f32,
};
use super::gpt::PoserGpt;
use super::hooks::{HookPoint, Intervention};
use crate::EngineError;

/// What the pass adds besides the base model: an adapter on one block's MLP, and the summed
/// interventions per hook from [`intervention_deltas`].
#[derive(Default)]
pub(crate) struct Additions<'a> {
    /// The adapter, if any.
    pub adapter: Option<&'a MlpAdapter>,
    /// Per hook, `[batch, max_len, d_model]` values added there.
    pub deltas: &'a [(HookPoint, Vec<f32>)],
}

impl Additions<'_> {
    /// Adds the deltas at `hook` (if any) to `x`, as `forward` does.
    fn at(&self, hook: HookPoint, x: Tensor<3>) -> Tensor<3> {
        match self.deltas.iter().find(|(h, _)| *h == hook) {
            Some((_, delta)) => {
                let delta =
                    Tensor::<3>::from_data(TensorData::new(delta.clone(), x.dims()), &x.device());
                x + delta
            }
            None => x,
        }
    }
}

/// Last-position logits `[batch, d_vocab]` from `hook_embed` activations `[batch, max_len,
/// d_model]` (before any intervention there) of prompts of lengths `lens`, with `additions`.
pub(crate) fn last_logits_from_embed(
    model: &PoserGpt,
    embedded: Tensor<3>,
    lens: &[usize],
    additions: &Additions<'_>,
) -> Tensor<2> {
    let device = embedded.device();
    let [batch, _, d_model] = embedded.dims();
    let resid = final_resid_from_embed(model, embedded, lens, additions);
    let last = resid
        .gather(1, last_index(lens, d_model, &device))
        .reshape([batch, d_model]);
    model.unembed(last)
}

/// The residual stream after the last block, `[batch, max_len, d_model]`, from `hook_embed`
/// activations (before any intervention there) of prompts `lens` long, with `additions`.
pub(crate) fn final_resid_from_embed(
    model: &PoserGpt,
    embedded: Tensor<3>,
    lens: &[usize],
    additions: &Additions<'_>,
) -> Tensor<3> {
    let device = embedded.device();
    let [batch, max_len, _] = embedded.dims();
    let embedded = additions.at(HookPoint::Embed, embedded);
    let mut resid = embedded + model.positions_for(lens, max_len);
    let causal = causal_mask(batch, model.config.n_heads, max_len, &device);
    for (layer, block) in model.blocks.iter().enumerate() {
        resid = additions.at(HookPoint::ResidPre(layer), resid);
        let heads = block.attn.project(block.ln1.forward(resid.clone()));
        let pattern = block.attn.pattern(heads.q, heads.k, Some(causal.clone()));
        let resid_mid = resid + block.attn.mix(pattern, heads.v);
        let block_out = match additions.adapter {
            Some(adapter) if adapter.block == layer => {
                // `Block::finish` hides the MLP's hidden activation, which the adapter reads.
                let normed = block.ln2.forward(resid_mid.clone());
                let hidden = super::gpt::gelu_tanh(block.mlp.fc_in.forward(normed));
                let mlp_out = block.mlp.fc_out.forward(hidden.clone()) + adapter.forward(hidden);
                resid_mid + mlp_out
            }
            _ => block.finish(resid_mid),
        };
        resid = additions.at(HookPoint::ResidPost(layer), block_out);
    }
    resid
}

/// Last-position logits of each prompt, with `adapter` (if any) on its block's MLP and
/// `interventions` as in [`super::forward::forward`]: how a model fine-tuned with an adapter
/// answers, and what training with injected noise sees.
pub async fn last_logits(
    model: &PoserGpt,
    prompts: &[Vec<u32>],
    adapter: Option<&MlpAdapter>,
    interventions: &[Intervention],
) -> Result<Vec<Vec<f32>>, EngineError> {
    check_prompts(model, prompts)?;
    if let Some(adapter) = adapter {
        check_adapter(model, adapter)?;
    }
    let device = model.embed.weight.device();
    let lens: Vec<usize> = prompts.iter().map(Vec::len).collect();
    let max_len = lens.iter().copied().max().unwrap_or(0);
    let deltas = intervention_deltas(model, interventions, &lens, max_len)?;
    let embedded = model.embed.forward(padded_ids(prompts, &device));
    let additions = Additions {
        adapter,
        deltas: &deltas,
    };
    let logits = last_logits_from_embed(model, embedded, &lens, &additions);
    let d_vocab = model.config.d_vocab;
    let values = read_f32(logits, "last-position logits").await?;
    Ok(values.chunks(d_vocab).map(<[f32]>::to_vec).collect())
}

/// Checks that `adapter` fits `model`: its block exists and its shapes match the MLP.
pub(crate) fn check_adapter(model: &PoserGpt, adapter: &MlpAdapter) -> Result<(), EngineError> {
    let config = &model.config;
    let [d_mlp, rank] = adapter.down.val().dims();
    let [rank_up, d_model] = adapter.up.val().dims();
    if adapter.block >= config.n_layers
        || d_mlp != config.d_mlp
        || d_model != config.d_model
        || rank != rank_up
    {
        return Err(EngineError::InvalidParameter(format!(
            "adapter for block {} with shapes [{d_mlp}, {rank}] and [{rank_up}, {d_model}] does not fit a model with {} blocks, d_mlp {} and d_model {}",
            adapter.block, config.n_layers, config.d_mlp, config.d_model
        )));
    }
    Ok(())
}
