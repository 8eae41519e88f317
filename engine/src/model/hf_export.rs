//! A model as a Hugging Face GPT-2 checkpoint (`GPT2LMHeadModel`): the same network under
//! `transformers`' parameter names, so people can study our models with the tools they know.
//!
//! Our layout already is GPT-2's: pre-LayerNorm blocks, learned positions, tanh-GELU
//! (`gelu_new`), tied unembedding, and linear weights stored `[d_in, d_out]` like GPT-2's
//! `Conv1D`. The only reshaping is that GPT-2 keeps q, k and v in one `c_attn` projection
//! whose output columns are `[q | k | v]`.
//!
//! One difference is in how the model is called, not in the files: where a model's positions
//! count back from the answer (`poser_position_origin: "end"` in `config.json`, the zoo's
//! setting), a prompt of `n` tokens must be run with `position_ids = range(n_positions - n,
//! n_positions)`; `transformers`' default counts from 0.

use safetensors::{Dtype, tensor::TensorView};
use serde_json::json;

use super::int8::f32_bytes;
use super::weights::{HostTensor, ModelWeights};
use crate::EngineError;

/// The files of an exported checkpoint, as bytes ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct HfCheckpoint {
    /// `config.json`: a `GPT2Config`.
    pub config_json: String,
    /// `model.safetensors`: f32 parameters under GPT-2's names.
    pub safetensors: Vec<u8>,
    /// `tokenizer_config.json`: lets `AutoTokenizer` load `tokenizer.json` as a fast tokenizer.
    pub tokenizer_config_json: String,
}

/// The file names of an export, in the order people look for them.
pub const HF_FILES: [&str; 4] = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
];

/// Converts `weights` to a GPT-2 checkpoint. Byte-stable: the same weights give the same files.
pub fn export_gpt2(weights: &ModelWeights) -> Result<HfCheckpoint, EngineError> {
    weights.validate()?;
    let config = weights.config;
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
    let copied =
        |hf_name: String, ours: &HostTensor| (hf_name, ours.shape.clone(), ours.values.clone());
    tensors.push(copied(
        "transformer.wte.weight".to_owned(),
        weights.tensor("embed.weight")?,
    ));
    tensors.push(copied(
        "transformer.wpe.weight".to_owned(),
        weights.tensor("pos_embed.weight")?,
    ));
    for layer in 0..config.n_layers {
        let ours = |name: &str| weights.tensor(&format!("blocks.{layer}.{name}"));
        let hf = |name: &str| format!("transformer.h.{layer}.{name}");
        tensors.push(copied(hf("ln_1.weight"), ours("ln1.gamma")?));
        tensors.push(copied(hf("ln_1.bias"), ours("ln1.beta")?));
        tensors.push(copied(hf("ln_2.weight"), ours("ln2.gamma")?));
        tensors.push(copied(hf("ln_2.bias"), ours("ln2.beta")?));
        let (q, k, v) = (
            ours("attn.q.weight")?,
            ours("attn.k.weight")?,
            ours("attn.v.weight")?,
        );
        tensors.push((
            hf("attn.c_attn.weight"),
            vec![config.d_model, 3 * config.d_model],
            concat_columns(&[q, k, v], config.d_model),
        ));
        let bias: Vec<f32> = [
            ours("attn.q.bias")?,
            ours("attn.k.bias")?,
            ours("attn.v.bias")?,
        ]
        .iter()
        .flat_map(|tensor| tensor.values.iter().copied())
        .collect();
        tensors.push((hf("attn.c_attn.bias"), vec![3 * config.d_model], bias));
        tensors.push(copied(hf("attn.c_proj.weight"), ours("attn.o.weight")?));
        tensors.push(copied(hf("attn.c_proj.bias"), ours("attn.o.bias")?));
        tensors.push(copied(hf("mlp.c_fc.weight"), ours("mlp.fc_in.weight")?));
        tensors.push(copied(hf("mlp.c_fc.bias"), ours("mlp.fc_in.bias")?));
        tensors.push(copied(hf("mlp.c_proj.weight"), ours("mlp.fc_out.weight")?));
        tensors.push(copied(hf("mlp.c_proj.bias"), ours("mlp.fc_out.bias")?));
    }
    tensors.push(copied(
        "transformer.ln_f.weight".to_owned(),
        weights.tensor("ln_final.gamma")?,
    ));
    tensors.push(copied(
        "transformer.ln_f.bias".to_owned(),
        weights.tensor("ln_final.beta")?,
    ));

    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, shape, values)| (name, shape, f32_bytes(&values)))
        .collect();
    let views = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.as_str(), view))
                .map_err(|error| EngineError::UnexpectedTensor(format!("`{name}`: {error}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // `transformers` refuses safetensors files whose metadata does not name a framework.
    // (`collect`, because the map type is the one safetensors was built with.)
    let metadata = [("format".to_owned(), "pt".to_owned())]
        .into_iter()
        .collect();
    let safetensors = safetensors::serialize(views, Some(metadata))
        .map_err(|error| EngineError::UnexpectedTensor(format!("writing safetensors: {error}")))?;

    let gpt2_config = json!({
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": config.d_vocab,
        "n_positions": config.n_ctx,
        "n_embd": config.d_model,
        "n_layer": config.n_layers,
        "n_head": config.n_heads,
        "n_inner": config.d_mlp,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": config.layer_norm_eps,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "scale_attn_weights": true,
        "scale_attn_by_inverse_layer_idx": false,
        "reorder_and_upcast_attn": false,
        "tie_word_embeddings": true,
        "use_cache": true,
        // Our vocabulary has no begin/end-of-text token; [PAD] is id 0.
        "bos_token_id": null,
        "eos_token_id": null,
        "pad_token_id": 0,
        "torch_dtype": "float32",
        // Not a `GPT2Config` field (kept as an extra attribute): "end" means a prompt of n
        // tokens must be run with `position_ids = range(n_positions - n, n_positions)`.
        "poser_position_origin": config.positions,
    });
    let tokenizer_config = json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": config.n_ctx,
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "clean_up_tokenization_spaces": false,
    });
    let pretty = |value: &serde_json::Value| {
        serde_json::to_string_pretty(value)
            .map(|text| text + "\n")
            .map_err(|error| EngineError::InvalidParameter(format!("writing JSON: {error}")))
    };
    Ok(HfCheckpoint {
        config_json: pretty(&gpt2_config)?,
        safetensors,
        tokenizer_config_json: pretty(&tokenizer_config)?,
    })
}

/// Places `[rows, cols]` matrices side by side: `[rows, parts · cols]`.
fn concat_columns(parts: &[&HostTensor], rows: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.values.len()).sum());
    for row in 0..rows {
        for part in parts {
            let cols = part.shape.get(1).copied().unwrap_or(0);
            out.extend_from_slice(&part.values[row * cols..(row + 1) * cols]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use safetensors::SafeTensors;

    use super::*;
    use crate::model::config::ModelConfig;
    use crate::model::int8::f32_values;

    fn tiny() -> ModelWeights {
        ModelWeights::random(ModelConfig::TINY_FOR_TESTS, 7).unwrap()
    }

    #[test]
    fn c_attn_holds_q_k_v_side_by_side_and_every_parameter_is_exported() {
        let weights = tiny();
        let checkpoint = export_gpt2(&weights).unwrap();
        let file = SafeTensors::deserialize(&checkpoint.safetensors).unwrap();
        // 2 embeddings + 12 per block (4 norms, c_attn ×2, c_proj ×2, c_fc ×2, mlp c_proj ×2) + ln_f ×2.
        assert_eq!(file.len(), 2 + 2 * 12 + 2);
        let c_attn = file.tensor("transformer.h.1.attn.c_attn.weight").unwrap();
        assert_eq!(c_attn.shape(), [8, 24]);
        let c_attn = f32_values(c_attn.data());
        let k = weights.tensor("blocks.1.attn.k.weight").unwrap();
        let v = weights.tensor("blocks.1.attn.v.weight").unwrap();
        // Row 3, column 2 of k sits at column 8 + 2; of v at 16 + 2.
        assert_eq!(c_attn[3 * 24 + 8 + 2], k.values[3 * 8 + 2]);
        assert_eq!(c_attn[3 * 24 + 16 + 2], v.values[3 * 8 + 2]);
        let bias = f32_values(
            file.tensor("transformer.h.1.attn.c_attn.bias")
                .unwrap()
                .data(),
        );
        let k_bias = weights.tensor("blocks.1.attn.k.bias").unwrap();
        assert_eq!(bias[8..16], k_bias.values[..]);
        let (_, metadata) = SafeTensors::read_metadata(&checkpoint.safetensors).unwrap();
        assert_eq!(metadata.metadata().as_ref().unwrap()["format"], "pt");
    }

    #[test]
    fn export_is_byte_stable_and_names_gpt2() {
        let weights = tiny();
        let a = export_gpt2(&weights).unwrap();
        assert_eq!(a, export_gpt2(&weights).unwrap());
        let config: serde_json::Value = serde_json::from_str(&a.config_json).unwrap();
        assert_eq!(config["model_type"], "gpt2");
        assert_eq!(config["n_inner"], 16);
        assert_eq!(config["activation_function"], "gelu_new");
    }
}
