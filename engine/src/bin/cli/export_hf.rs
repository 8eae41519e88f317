//! `poser export-hf`: a model of a models folder as a Hugging Face GPT-2 checkpoint.

use std::path::Path;

use poser_engine::model::hf_export::{HF_FILES, export_gpt2};
use poser_engine::model::manifest::dir::load_model;

/// Writes `config.json`, `model.safetensors`, `tokenizer.json` and `tokenizer_config.json` for
/// `model` into `out` (created if missing).
pub fn run(models_dir: &Path, tokenizer: &Path, model: &str, out: &Path) -> Result<(), String> {
    let (entry, weights) = load_model(models_dir, model).map_err(|error| error.to_string())?;
    let tokenizer_json = std::fs::read_to_string(tokenizer)
        .map_err(|error| format!("cannot read {}: {error}", tokenizer.display()))?;
    let vocab = poser_corpus::tokenizer::WordLevelTokenizer::from_json(&tokenizer_json)
        .map_err(|error| format!("{}: {error}", tokenizer.display()))?
        .vocab_size();
    if vocab != entry.config.d_vocab {
        return Err(format!(
            "model {} has a vocabulary of {}, the tokenizer {} has {vocab}\nhint: pass the tokenizer the model was trained with (`--tokenizer`)",
            entry.name,
            entry.config.d_vocab,
            tokenizer.display()
        ));
    }
    let checkpoint = export_gpt2(&weights).map_err(|error| error.to_string())?;
    std::fs::create_dir_all(out)
        .map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    let contents: [&[u8]; 4] = [
        checkpoint.config_json.as_bytes(),
        &checkpoint.safetensors,
        tokenizer_json.as_bytes(),
        checkpoint.tokenizer_config_json.as_bytes(),
    ];
    for (name, bytes) in HF_FILES.iter().zip(contents) {
        let path = out.join(name);
        std::fs::write(&path, bytes)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    eprintln!(
        "wrote {} as a GPT-2 checkpoint to {} (load it with `GPT2LMHeadModel.from_pretrained`)",
        entry.name,
        out.display()
    );
    Ok(())
}
