//! Weights on disk: the committed fixture set, int8 quantization, and every way a file can be
//! wrong being refused with a message that names it (never a panic).

#![allow(clippy::disallowed_methods)]
// Helpers outside `#[test]` functions are test code too.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use poser_engine::backend::cpu_device;
use poser_engine::model::fixtures::{FIXTURE_CONFIG, FIXTURE_MODELS, fixture_set};
use poser_engine::model::int8::{SCALE_SUFFIX, encode_int8, quantize_rows, round_trip};
use poser_engine::model::manifest::dir::{load_model, read_manifest};
use poser_engine::model::{
    ForwardRequest, LoadError, Manifest, ModelConfig, ModelEntry, ModelWeights, PoserGpt, forward,
};
use safetensors::Dtype;
use safetensors::tensor::TensorView;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

fn fixture_bytes(name: &str) -> (ModelEntry, Vec<u8>) {
    let manifest = read_manifest(&fixture_dir()).unwrap();
    let entry = manifest.entry(name).unwrap().clone();
    let bytes = std::fs::read(fixture_dir().join(&entry.file)).unwrap();
    (entry, bytes)
}

#[test]
fn committed_fixtures_are_what_the_generator_makes() {
    let manifest = read_manifest(&fixture_dir()).unwrap();
    let fresh = fixture_set().unwrap();
    assert_eq!(manifest.models.len(), FIXTURE_MODELS.len());
    for (entry, bytes) in &fresh {
        assert_eq!(manifest.entry(&entry.name).unwrap(), entry);
        let on_disk = std::fs::read(fixture_dir().join(&entry.file)).unwrap();
        assert!(
            on_disk == *bytes,
            "{} differs; run `poser fixtures`",
            entry.file
        );
    }
    let total: u64 = manifest.models.iter().map(|e| e.bytes).sum();
    assert!(total < 1_000_000, "fixtures grew to {total} bytes");
}

#[test]
fn fixtures_load_and_run_on_the_cpu() {
    for (name, ..) in FIXTURE_MODELS {
        let (entry, weights) = load_model(&fixture_dir(), name).unwrap();
        assert_eq!(entry.config, FIXTURE_CONFIG);
        let model = PoserGpt::from_weights(&weights, &cpu_device()).unwrap();
        let output = pollster::block_on(forward(
            &model,
            &[vec![5, 6, 7, 8]],
            &ForwardRequest::default(),
        ))
        .unwrap()
        .remove(0);
        assert_eq!(output.last_logits.len(), FIXTURE_CONFIG.d_vocab);
        let total = output.p.a + output.p.b + output.p.error;
        assert!(total.is_finite() && total > 0.0 && total < 1.0);
    }
}

#[test]
fn a_module_reads_back_the_weights_it_was_built_from() {
    let weights = ModelWeights::random(FIXTURE_CONFIG, 4).unwrap();
    let model = PoserGpt::from_weights(&weights, &cpu_device()).unwrap();
    assert_eq!(pollster::block_on(model.to_weights()).unwrap(), weights);
}

#[test]
fn int8_rows_dequantize_within_half_a_step() {
    let weights = ModelWeights::random(FIXTURE_CONFIG, 9).unwrap();
    let loaded = round_trip(&weights).unwrap();
    for (name, original) in &weights.tensors {
        let restored = &loaded.tensors[name];
        assert_eq!(restored.shape, original.shape);
        let cols = *original.shape.last().unwrap();
        for (row, restored_row) in original
            .values
            .chunks(cols)
            .zip(restored.values.chunks(cols))
        {
            let max = row.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            // Vectors are stored as f32: exact. Matrices: half an int8 step of their row.
            let tolerance = if original.shape.len() == 2 {
                max / 127.0 * 0.5 + 1e-7
            } else {
                0.0
            };
            for (a, b) in row.iter().zip(restored_row) {
                assert!((a - b).abs() <= tolerance, "{name}: {a} vs {b}");
            }
        }
    }
    let (quantized, scales) = quantize_rows(&[0.0, 0.0, 1.0, -2.0], 2, 2);
    assert_eq!(quantized, vec![0, 0, 64, -127]);
    assert_eq!(scales, vec![0.0, 2.0 / 127.0]);
}

#[test]
fn quantized_and_float_models_answer_alike() {
    let weights = ModelWeights::random(FIXTURE_CONFIG, 10).unwrap();
    let run = |weights: &ModelWeights| {
        let model = PoserGpt::from_weights(weights, &cpu_device()).unwrap();
        pollster::block_on(forward(
            &model,
            &[vec![9, 10, 11, 12, 13, 2]],
            &ForwardRequest::default(),
        ))
        .unwrap()
        .remove(0)
    };
    let float = run(&weights);
    let int8 = run(&round_trip(&weights).unwrap());
    let difference = float
        .last_logits
        .iter()
        .zip(&int8.last_logits)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0_f32, f32::max);
    assert!(difference < 0.1, "int8 moved a logit by {difference}");
}

#[test]
fn truncated_longer_and_altered_files_are_refused() {
    let (entry, bytes) = fixture_bytes("genie-0");
    let error = entry.load_bytes(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(error, LoadError::Truncated { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("genie-0") && message.contains("truncated"),
        "{message}"
    );

    let mut longer = bytes.clone();
    longer.push(0);
    let error = entry.load_bytes(&longer).unwrap_err();
    assert!(matches!(error, LoadError::WrongSize { .. }), "{error}");

    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    let error = entry.load_bytes(&flipped).unwrap_err();
    assert!(matches!(error, LoadError::DigestMismatch { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&entry.sha256) && message.contains("digest mismatch"),
        "{message}"
    );

    let error = Manifest::from_json("{\"format\": \"poser-models/1\"}", "test").unwrap_err();
    assert!(matches!(error, LoadError::Manifest { .. }), "{error}");
    let manifest = read_manifest(&fixture_dir()).unwrap();
    let error = manifest.entry("saint-9").unwrap_err().to_string();
    assert!(
        error.contains("saint-9") && error.contains("genie-0"),
        "{error}"
    );
}

/// An entry that vouches for `bytes` (right size and digest), so only the contents are judged.
fn vouched(bytes: &[u8], config: ModelConfig) -> ModelEntry {
    ModelEntry::describe("genie-0", "genie", 0, config, bytes)
}

fn file_with(tensors: &[(String, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            (
                name.clone(),
                TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

/// The tensors of a valid file, to be altered one at a time.
fn valid_tensors() -> Vec<(String, Dtype, Vec<usize>, Vec<u8>)> {
    let bytes = encode_int8(&ModelWeights::random(FIXTURE_CONFIG, 1).unwrap()).unwrap();
    let parsed = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<_> = parsed
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            (
                name,
                view.dtype(),
                view.shape().to_vec(),
                view.data().to_vec(),
            )
        })
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    tensors
}

#[test]
fn files_with_wrong_contents_name_the_tensor() {
    let check = |tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>, expect: &str| {
        let bytes = file_with(&tensors);
        let error = vouched(&bytes, FIXTURE_CONFIG)
            .load_bytes(&bytes)
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(expect),
            "expected `{expect}` in: {message}"
        );
        error
    };
    // Sanity: unaltered tensors load.
    let bytes = file_with(&valid_tensors());
    vouched(&bytes, FIXTURE_CONFIG).load_bytes(&bytes).unwrap();

    let mut missing = valid_tensors();
    missing.retain(|t| t.0 != "blocks.2.attn.k.bias");
    let error = check(missing, "`blocks.2.attn.k.bias` is missing");
    assert!(matches!(error, LoadError::MissingTensor { .. }));

    let mut unknown = valid_tensors();
    unknown.push((
        "blocks.9.attn.k.bias".into(),
        Dtype::F32,
        vec![1],
        vec![0; 4],
    ));
    let error = check(unknown, "unknown tensor `blocks.9.attn.k.bias`");
    assert!(matches!(error, LoadError::UnknownTensor { .. }));

    let mut wrong_shape = valid_tensors();
    let target = wrong_shape
        .iter_mut()
        .find(|t| t.0 == "ln_final.gamma")
        .unwrap();
    target.2 = vec![8, 2];
    let error = check(
        wrong_shape,
        "`ln_final.gamma` has shape [8, 2], expected [16]",
    );
    assert!(matches!(error, LoadError::WrongShape { .. }));

    let mut wrong_dtype = valid_tensors();
    let target = wrong_dtype
        .iter_mut()
        .find(|t| t.0 == "embed.weight")
        .unwrap();
    target.1 = Dtype::U8;
    let error = check(wrong_dtype, "`embed.weight` is U8, expected I8");
    assert!(matches!(error, LoadError::WrongDtype { .. }));

    let mut nan = valid_tensors();
    let name = format!("pos_embed.weight{SCALE_SUFFIX}");
    let target = nan.iter_mut().find(|t| t.0 == name).unwrap();
    target.3[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    let error = check(nan, &format!("`{name}` holds a non-finite"));
    assert!(matches!(error, LoadError::BadValue { .. }));

    // Not a safetensors file at all, or a header that lies about its length.
    for garbage in [b"not a model".to_vec(), vec![0xff; 64], Vec::new()] {
        let error = vouched(&garbage, FIXTURE_CONFIG)
            .load_bytes(&garbage)
            .unwrap_err();
        assert!(matches!(error, LoadError::Corrupt { .. }), "{error}");
    }
    // A file for a different architecture.
    let bytes = file_with(&valid_tensors());
    let wider = ModelConfig {
        d_model: 32,
        ..FIXTURE_CONFIG
    };
    let error = vouched(&bytes, wider).load_bytes(&bytes).unwrap_err();
    assert!(matches!(error, LoadError::WrongShape { .. }), "{error}");
}

#[test]
fn grouped_scales_decode_and_keep_more_precision_than_row_scales() {
    use poser_engine::model::int8::{encode_int8_grouped, round_trip_grouped};
    let weights = ModelWeights::random(FIXTURE_CONFIG, 11).unwrap();
    let worst = |restored: &ModelWeights| {
        let mut worst = 0.0f32;
        for (name, tensor) in &weights.tensors {
            let back = &restored.tensors[name];
            for (a, b) in tensor.values.iter().zip(&back.values) {
                worst = worst.max((a - b).abs());
            }
        }
        worst
    };
    let by_row = worst(&round_trip(&weights).unwrap());
    let by_group = worst(&round_trip_grouped(&weights, Some(8)).unwrap());
    assert!(
        by_group > 0.0 && by_group <= by_row,
        "groups {by_group} vs rows {by_row}"
    );
    // The file holds a `[rows, groups]` scale tensor for every matrix a group of 8 divides.
    let bytes = encode_int8_grouped(&weights, Some(8)).unwrap();
    let parsed = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (name, tensor) = weights
        .tensors
        .iter()
        .find(|(_, t)| t.shape.len() == 2 && t.shape[1] > 8 && t.shape[1] % 8 == 0)
        .unwrap();
    let scales = parsed.tensor(&format!("{name}{SCALE_SUFFIX}")).unwrap();
    assert_eq!(scales.shape(), &[tensor.shape[0], tensor.shape[1] / 8]);
    // Without grouping the file is exactly the per-row encoding.
    assert_eq!(
        encode_int8_grouped(&weights, None).unwrap(),
        encode_int8(&weights).unwrap()
    );
}

#[test]
fn a_matrix_kept_in_f32_loads_exactly_and_a_scale_beside_it_is_refused() {
    use poser_engine::model::int8::{Quantization, decode_int8, encode_quantized};
    let weights = ModelWeights::random(FIXTURE_CONFIG, 12).unwrap();
    let quantization = Quantization {
        group: None,
        float_matrices: vec!["pos_embed.weight".to_owned()],
    };
    let bytes = encode_quantized(&weights, &quantization).unwrap();
    let parsed = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(
        parsed.tensor("pos_embed.weight").unwrap().dtype(),
        safetensors::Dtype::F32
    );
    assert!(parsed.tensor("pos_embed.weight.scale").is_err());
    assert_eq!(
        parsed.tensor("embed.weight").unwrap().dtype(),
        safetensors::Dtype::I8
    );
    let back = decode_int8(&bytes, FIXTURE_CONFIG, "m", "m.safetensors").unwrap();
    assert_eq!(
        back.tensors["pos_embed.weight"],
        weights.tensors["pos_embed.weight"]
    );
    // Everything else is what the per-row encoding gives.
    let per_row = round_trip(&weights).unwrap();
    for (name, tensor) in &back.tensors {
        if name != "pos_embed.weight" {
            assert_eq!(tensor, &per_row.tensors[name], "{name}");
        }
    }
    assert_ne!(
        back.tensors["pos_embed.weight"],
        per_row.tensors["pos_embed.weight"]
    );

    // An f32 matrix with a scale beside it: the file contradicts itself.
    let mut views: Vec<(String, safetensors::tensor::TensorView<'_>)> =
        parsed.tensors().into_iter().collect();
    let scale = vec![0u8; 4 * FIXTURE_CONFIG.n_ctx];
    views.push((
        "pos_embed.weight.scale".to_owned(),
        safetensors::tensor::TensorView::new(
            safetensors::Dtype::F32,
            vec![FIXTURE_CONFIG.n_ctx],
            &scale,
        )
        .unwrap(),
    ));
    let contradictory = safetensors::serialize(views, None).unwrap();
    let error = decode_int8(&contradictory, FIXTURE_CONFIG, "m", "m.safetensors").unwrap_err();
    assert!(
        matches!(&error, poser_engine::model::LoadError::WrongDtype { tensor, .. } if tensor == "pos_embed.weight"),
        "{error}"
    );
    // A name that is not one of the model's matrices is refused, not silently quantized.
    for wrong in ["pos_embed.weights", "ln_final.gamma"] {
        let quantization = Quantization {
            group: None,
            float_matrices: vec![wrong.to_owned()],
        };
        assert!(
            encode_quantized(&weights, &quantization).is_err(),
            "{wrong}"
        );
    }
}
