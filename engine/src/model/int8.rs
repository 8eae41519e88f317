//! Weights on disk: a safetensors file where every matrix is int8 with f32 scales (`{name}`:
//! I8 `[rows, cols]`; `{name}.scale`: F32 `[rows]`, one scale per row, or `[rows, groups]`, one
//! per run of `cols / groups` consecutive values in a row; value = int8 × its scale) or, for
//! the few matrices a [`Quantization`] keeps whole, plain F32 `[rows, cols]` with no scale; every
//! vector (norms, biases) is plain F32. Dequantized to f32 at load.
//!
//! Per-row scales: the embedding's rows are tokens, so a rare token with small weights keeps
//! its precision instead of sharing one scale with the whole table. Groups within a row go
//! further: one large weight only coarsens the values of its own group.

use std::collections::BTreeMap;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::config::ModelConfig;
use super::load_error::LoadError;
use super::weights::{HostTensor, ModelWeights, parameter_shapes};
use crate::EngineError;

/// Suffix of a matrix's per-row scales.
pub const SCALE_SUFFIX: &str = ".scale";

/// One matrix quantized: int8 values and a scale per row (`max |row| / 127`, 0 for a zero row).
pub fn quantize_rows(values: &[f32], rows: usize, cols: usize) -> (Vec<i8>, Vec<f32>) {
    quantize_groups(values, rows, cols, cols)
}

/// One matrix quantized in groups of `group` consecutive values of a row (`group` must divide
/// `cols`; `cols` itself means one scale per row): int8 values and one scale per group, row by
/// row (`max |group| / 127`, 0 for a zero group).
pub fn quantize_groups(
    values: &[f32],
    rows: usize,
    cols: usize,
    group: usize,
) -> (Vec<i8>, Vec<f32>) {
    let mut quantized = Vec::with_capacity(values.len());
    let mut scales = Vec::with_capacity(rows * cols / group.max(1));
    for row in values
        .chunks(cols.max(1))
        .take(rows)
        .flat_map(|row| row.chunks(group.max(1)))
    {
        let max = row.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
        let scale = max / 127.0;
        scales.push(scale);
        quantized.extend(row.iter().map(|v| {
            if scale == 0.0 {
                0
            } else {
                (v / scale).round().clamp(-127.0, 127.0) as i8
            }
        }));
    }
    (quantized, scales)
}

/// Little-endian f32 values from their bytes (a trailing partial value is ignored).
pub(crate) fn f32_values(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

pub(crate) fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// How a model's matrices are stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quantization {
    /// Values per int8 scale within a row, for matrices whose rows it divides into more than
    /// one group (the others keep a scale per row); `None`: one scale per row everywhere.
    pub group: Option<usize>,
    /// Matrices stored as plain f32 instead.
    pub float_matrices: Vec<String>,
}

impl Quantization {
    /// One scale per row, every matrix int8.
    pub fn per_row() -> Self {
        Self::default()
    }
}

/// Encodes `weights` as the int8 safetensors file with one scale per row. Byte-stable: the same
/// weights always give the same bytes (and so the same digest).
pub fn encode_int8(weights: &ModelWeights) -> Result<Vec<u8>, EngineError> {
    encode_quantized(weights, &Quantization::per_row())
}

/// Encodes `weights` with one scale per `group` consecutive values of each row, for matrices
/// whose rows `group` divides into more than one group (the others keep a scale per row);
/// `None` means a scale per row everywhere. Byte-stable.
pub fn encode_int8_grouped(
    weights: &ModelWeights,
    group: Option<usize>,
) -> Result<Vec<u8>, EngineError> {
    encode_quantized(
        weights,
        &Quantization {
            group,
            float_matrices: Vec::new(),
        },
    )
}

/// Encodes `weights` as `quantization` says. Byte-stable.
pub fn encode_quantized(
    weights: &ModelWeights,
    quantization: &Quantization,
) -> Result<Vec<u8>, EngineError> {
    weights.validate()?;
    for kept in &quantization.float_matrices {
        if weights.tensors.get(kept).is_none_or(|t| t.shape.len() != 2) {
            return Err(EngineError::InvalidParameter(format!(
                "`{kept}` is not a matrix of this model, so it cannot be kept in f32; name one of its 2-D tensors"
            )));
        }
    }
    let group = quantization.group;
    let mut buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, tensor) in &weights.tensors {
        let keep_float = quantization.float_matrices.iter().any(|kept| kept == name);
        if let ([rows, cols], false) = (&tensor.shape[..], keep_float) {
            let (rows, cols) = (*rows, *cols);
            let group = group
                .filter(|&g| g > 0 && g < cols && cols % g == 0)
                .unwrap_or(cols);
            let (quantized, scales) = quantize_groups(&tensor.values, rows, cols, group);
            let bytes = quantized.iter().map(|&q| q.to_le_bytes()[0]).collect();
            buffers.push((name.clone(), Dtype::I8, vec![rows, cols], bytes));
            let scale_shape = if group == cols {
                vec![rows]
            } else {
                vec![rows, cols / group]
            };
            buffers.push((
                format!("{name}{SCALE_SUFFIX}"),
                Dtype::F32,
                scale_shape,
                f32_bytes(&scales),
            ));
        } else {
            buffers.push((
                name.clone(),
                Dtype::F32,
                tensor.shape.clone(),
                f32_bytes(&tensor.values),
            ));
        }
    }
    let views = buffers
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|view| (name.as_str(), view))
                .map_err(|error| EngineError::UnexpectedTensor(format!("`{name}`: {error}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, None)
        .map_err(|error| EngineError::UnexpectedTensor(format!("writing safetensors: {error}")))
}

/// The quantized weights as they will be after loading (for comparing float and int8 runs).
pub fn round_trip(weights: &ModelWeights) -> Result<ModelWeights, EngineError> {
    round_trip_grouped(weights, None)
}

/// [`round_trip`] through [`encode_int8_grouped`].
pub fn round_trip_grouped(
    weights: &ModelWeights,
    group: Option<usize>,
) -> Result<ModelWeights, EngineError> {
    let bytes = encode_int8_grouped(weights, group)?;
    decode_int8(&bytes, weights.config, "in-memory", "in-memory")
        .map_err(|error| EngineError::UnexpectedTensor(error.to_string()))
}

/// [`round_trip`] through [`encode_quantized`].
pub fn round_trip_quantized(
    weights: &ModelWeights,
    quantization: &Quantization,
) -> Result<ModelWeights, EngineError> {
    let bytes = encode_quantized(weights, quantization)?;
    decode_int8(&bytes, weights.config, "in-memory", "in-memory")
        .map_err(|error| EngineError::UnexpectedTensor(error.to_string()))
}

/// Decodes and dequantizes an int8 safetensors file for a model of `config`, checking every
/// tensor's presence, type, shape and values. `model` and `file` label errors.
pub fn decode_int8(
    bytes: &[u8],
    config: ModelConfig,
    model: &str,
    file: &str,
) -> Result<ModelWeights, LoadError> {
    config.validate().map_err(|error| LoadError::BadConfig {
        model: model.to_owned(),
        message: error.to_string(),
    })?;
    let parsed = SafeTensors::deserialize(bytes).map_err(|error| LoadError::Corrupt {
        model: model.to_owned(),
        file: file.to_owned(),
        message: error.to_string(),
    })?;
    let expected = parameter_shapes(&config);
    // Unknown names first: a file for a different architecture says so instead of "missing".
    let mut names: Vec<&str> = parsed.names();
    names.sort_unstable();
    for name in &names {
        let base = name.strip_suffix(SCALE_SUFFIX).unwrap_or(name);
        let known = expected.iter().any(|(known, shape)| {
            known == name || (known == base && shape.len() == 2 && *name != base)
        });
        if !known {
            return Err(LoadError::UnknownTensor {
                model: model.to_owned(),
                tensor: (*name).to_owned(),
            });
        }
    }
    let view = |name: &str, dtype: Dtype, shape: &[usize]| -> Result<TensorView<'_>, LoadError> {
        let view = parsed.tensor(name).map_err(|_| LoadError::MissingTensor {
            model: model.to_owned(),
            tensor: name.to_owned(),
        })?;
        if view.dtype() != dtype {
            return Err(LoadError::WrongDtype {
                model: model.to_owned(),
                tensor: name.to_owned(),
                expected: format!("{dtype:?}"),
                got: format!("{:?}", view.dtype()),
            });
        }
        if view.shape() != shape {
            return Err(LoadError::WrongShape {
                model: model.to_owned(),
                tensor: name.to_owned(),
                expected: shape.to_vec(),
                got: view.shape().to_vec(),
            });
        }
        Ok(view)
    };
    let floats = |name: &str, shape: &[usize]| -> Result<Vec<f32>, LoadError> {
        let values = f32_values(view(name, Dtype::F32, shape)?.data());
        if values.iter().all(|v| v.is_finite()) {
            Ok(values)
        } else {
            Err(LoadError::BadValue {
                model: model.to_owned(),
                tensor: name.to_owned(),
            })
        }
    };
    let mut tensors = BTreeMap::new();
    for (name, shape) in expected {
        let scale_name = format!("{name}{SCALE_SUFFIX}");
        let stored_float = parsed
            .tensor(&name)
            .is_ok_and(|tensor| tensor.dtype() == Dtype::F32);
        let values = if shape.len() == 2 && stored_float {
            // A matrix kept whole: a scale beside it means it should have been int8.
            if parsed.tensor(&scale_name).is_ok() {
                return Err(LoadError::WrongDtype {
                    model: model.to_owned(),
                    tensor: name,
                    expected: "I8 (it has a scale)".to_owned(),
                    got: "F32".to_owned(),
                });
            }
            floats(&name, &shape)?
        } else if let [rows, cols] = shape[..] {
            // `[rows]` (a scale per row) or `[rows, groups]` with `groups` dividing `cols`.
            let scale_shape = parsed
                .tensor(&scale_name)
                .map(|t| t.shape().to_vec())
                .unwrap_or_else(|_| vec![rows]);
            let groups = match scale_shape[..] {
                [r, g] if r == rows && g > 0 && cols % g == 0 => g,
                _ => 1,
            };
            let expected_scales = if groups == 1 {
                vec![rows]
            } else {
                vec![rows, groups]
            };
            let scales = floats(&scale_name, &expected_scales)?;
            let group_len = cols / groups;
            if scales.iter().any(|&s| s < 0.0) {
                return Err(LoadError::BadValue {
                    model: model.to_owned(),
                    tensor: scale_name,
                });
            }
            let quantized = view(&name, Dtype::I8, &shape)?;
            quantized
                .data()
                .chunks(group_len)
                .zip(&scales)
                .flat_map(|(run, &scale)| {
                    run.iter()
                        .map(move |&q| f32::from(i8::from_le_bytes([q])) * scale)
                })
                .collect()
        } else {
            floats(&name, &shape)?
        };
        tensors.insert(name, HostTensor { shape, values });
    }
    Ok(ModelWeights { config, tensors })
}
