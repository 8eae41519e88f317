//! `poser bench`: forward throughput on real prompts, and what last-position recomputation
//! saves on interventions. Prints figures; asserts nothing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use poser_engine::backend::BackendKind;
use poser_engine::model::manifest::dir::load_model;
use poser_engine::model::{
    Edit, ForwardRequest, HookPoint, Intervention, ModelConfig, ModelWeights, NoiseDistribution,
    PoserGpt, Positions, PromptCache, forward,
};

use super::{make_device, read_tokenizer};

/// The command's options.
pub struct BenchArgs {
    pub model: Option<String>,
    pub models_dir: PathBuf,
    pub tokenizer: PathBuf,
    pub backend: String,
    pub prompts: usize,
    pub batch: usize,
    pub variants: usize,
    pub intervention_prompts: usize,
    pub corpus: PathBuf,
}

/// Real benchmark prompts, evenly spread over every family's candidates, in a fixed order.
fn real_prompts(corpus: &Path, count: usize) -> Result<Vec<String>, String> {
    let families = corpus.join("families");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&families)
        .map_err(|error| format!("cannot read {}: {error}", families.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    let mut all = Vec::new();
    for dir in dirs {
        let path = dir.join("benchmark-candidates.jsonl");
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let row: serde_json::Value = serde_json::from_str(line)
                .map_err(|error| format!("{}: {error}", path.display()))?;
            if let Some(prompt) = row.get("prompt").and_then(|p| p.as_str()) {
                all.push(prompt.to_owned());
            }
        }
    }
    if all.is_empty() {
        return Err(format!("no prompts under {}", families.display()));
    }
    let count = count.clamp(1, all.len());
    Ok((0..count)
        .map(|i| all[i * all.len() / count].clone())
        .collect())
}

fn seconds(started: Instant) -> f64 {
    started.elapsed().as_secs_f64().max(1e-9)
}

pub fn run(args: &BenchArgs) -> Result<(), String> {
    let tokenizer = read_tokenizer(&args.tokenizer)?;
    let (label, weights) = match &args.model {
        Some(name) => {
            let (entry, weights) =
                load_model(&args.models_dir, name).map_err(|error| error.to_string())?;
            (entry.name, weights)
        }
        None => {
            let config = ModelConfig {
                d_vocab: tokenizer.vocab_size(),
                ..ModelConfig::default()
            };
            let weights = ModelWeights::random(config, 20_240_508).map_err(|e| e.to_string())?;
            ("random weights".to_owned(), weights)
        }
    };
    let config = weights.config;
    let texts = real_prompts(&args.corpus, args.prompts.max(args.intervention_prompts))?;
    let prompts: Vec<Vec<u32>> = texts
        .iter()
        .map(|text| tokenizer.encode(text))
        .filter(|tokens| !tokens.is_empty() && tokens.len() <= config.n_ctx)
        .collect();
    let lengths: Vec<usize> = prompts.iter().map(Vec::len).collect();
    let mean = lengths.iter().sum::<usize>() as f64 / lengths.len().max(1) as f64;
    println!(
        "model: {label} ({} blocks, d_model {}, {} heads, d_mlp {}, vocab {})",
        config.n_layers, config.d_model, config.n_heads, config.d_mlp, config.d_vocab
    );
    println!(
        "prompts: {} real benchmark prompts from {}, {:.1} tokens on average ({}..={})",
        prompts.len(),
        args.corpus.display(),
        mean,
        lengths.iter().min().copied().unwrap_or(0),
        lengths.iter().max().copied().unwrap_or(0)
    );
    let kinds = match args.backend.as_str() {
        "all" => vec![BackendKind::Cpu, BackendKind::WebGpu],
        name => vec![super::parse_backend(name)?],
    };
    for kind in kinds {
        let device = match make_device(kind) {
            Ok(device) => device,
            Err(error) => {
                let first_line = error.lines().next().unwrap_or_default();
                println!("{}: skipped, no adapter ({first_line})", kind.as_str());
                continue;
            }
        };
        let model = PoserGpt::from_weights(&weights, &device).map_err(|e| e.to_string())?;
        bench_backend(kind, &model, &prompts, args)?;
    }
    Ok(())
}

fn bench_backend(
    kind: BackendKind,
    model: &PoserGpt,
    prompts: &[Vec<u32>],
    args: &BenchArgs,
) -> Result<(), String> {
    let name = kind.as_str();
    let request = ForwardRequest::default();
    let full: Vec<Vec<u32>> = prompts.iter().take(args.prompts.max(1)).cloned().collect();
    let batch = args.batch.max(1);
    // Untimed: kernel compilation and allocation on first use.
    pollster::block_on(forward(model, &full[..batch.min(full.len())], &request))
        .map_err(|e| e.to_string())?;
    let tokens: usize = full.iter().map(Vec::len).sum();
    let started = Instant::now();
    for chunk in full.chunks(batch) {
        pollster::block_on(forward(model, chunk, &request)).map_err(|e| e.to_string())?;
    }
    let elapsed = seconds(started);
    println!(
        "{name}: full forward, batches of {batch}: {:.1} prompts/s, {:.0} tokens/s ({} prompts in {:.2} s)",
        full.len() as f64 / elapsed,
        tokens as f64 / elapsed,
        full.len(),
        elapsed
    );

    // S2's setting: noise at 37.5% depth, last position, one magnitude per variant.
    let hook =
        HookPoint::resid_post_at_depth(0.375, model.config.n_layers).map_err(|e| e.to_string())?;
    let variants = args.variants.max(1);
    let edits: Vec<Edit> = (0..variants)
        .map(|i| Edit::Noise {
            distribution: NoiseDistribution::Uniform01,
            seed: 7,
            magnitude: i as f32,
        })
        .collect();
    let chosen: Vec<&Vec<u32>> = prompts
        .iter()
        .take(args.intervention_prompts.max(1))
        .collect();
    let total = (chosen.len() * variants) as f64;

    let naive = |prompt: &Vec<u32>| -> Result<(), String> {
        for edit in &edits {
            let request = ForwardRequest {
                captures: Vec::new(),
                interventions: vec![Intervention {
                    hook,
                    positions: Positions::Last,
                    edit: edit.clone(),
                }],
            };
            pollster::block_on(forward(model, std::slice::from_ref(prompt), &request))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    let cached = |prompt: &Vec<u32>| -> Result<(), String> {
        let cache = PromptCache::new(model, prompt).map_err(|e| e.to_string())?;
        pollster::block_on(cache.run_edits(model, hook, &edits, &[])).map_err(|e| e.to_string())?;
        Ok(())
    };
    if let Some(first) = chosen.first() {
        naive(first)?;
        cached(first)?;
    }
    let started = Instant::now();
    for prompt in &chosen {
        naive(prompt)?;
    }
    let naive_seconds = seconds(started);
    let started = Instant::now();
    for prompt in &chosen {
        cached(prompt)?;
    }
    let cached_seconds = seconds(started);
    println!(
        "{name}: {variants} interventions at {hook} (last position) per prompt, {} prompts:",
        chosen.len()
    );
    println!(
        "{name}:   full recompute, one forward each: {:.1} interventions/s ({:.3} s)",
        total / naive_seconds,
        naive_seconds
    );
    println!(
        "{name}:   last position from the block up, cached keys/values, one batch: {:.1} interventions/s ({:.3} s, including the cache pass), {:.1}x faster",
        total / cached_seconds,
        cached_seconds,
        naive_seconds / cached_seconds
    );
    Ok(())
}
