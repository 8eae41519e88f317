//! Full-precision weights files: every parameter as f32 under our names. Training writes these
//! (the base model, each checkpoint before quantization); what ships is `int8`.

use std::collections::BTreeMap;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::config::ModelConfig;
use super::int8::{f32_bytes, f32_values};
use super::weights::{HostTensor, ModelWeights, parameter_shapes};
use crate::EngineError;

/// Encodes `weights` as f32 safetensors, with the config as metadata. Byte-stable.
pub fn encode_f32(weights: &ModelWeights) -> Result<Vec<u8>, EngineError> {
    weights.validate()?;
    let buffers: Vec<(&str, &HostTensor, Vec<u8>)> = weights
        .tensors
        .iter()
        .map(|(name, tensor)| (name.as_str(), tensor, f32_bytes(&tensor.values)))
        .collect();
    let views = buffers
        .iter()
        .map(|(name, tensor, bytes)| {
            TensorView::new(Dtype::F32, tensor.shape.clone(), bytes)
                .map(|view| (*name, view))
                .map_err(|error| EngineError::UnexpectedTensor(format!("`{name}`: {error}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = serde_json::to_string(&weights.config)
        .map_err(|error| EngineError::InvalidParameter(error.to_string()))?;
    let metadata = [("poser_config".to_owned(), config)].into_iter().collect();
    safetensors::serialize(views, Some(metadata))
        .map_err(|error| EngineError::UnexpectedTensor(format!("writing safetensors: {error}")))
}

/// Decodes an f32 weights file written by [`encode_f32`]; the config comes from its metadata.
pub fn decode_f32(bytes: &[u8]) -> Result<ModelWeights, EngineError> {
    let corrupt =
        |message: String| EngineError::UnexpectedTensor(format!("f32 weights file: {message}"));
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(|e| corrupt(e.to_string()))?;
    let config_json = metadata
        .metadata()
        .as_ref()
        .and_then(|map| map.get("poser_config"))
        .ok_or_else(|| corrupt("no `poser_config` metadata".to_owned()))?;
    let config: ModelConfig =
        serde_json::from_str(config_json).map_err(|e| corrupt(e.to_string()))?;
    let parsed = SafeTensors::deserialize(bytes).map_err(|e| corrupt(e.to_string()))?;
    let mut tensors = BTreeMap::new();
    for (name, shape) in parameter_shapes(&config) {
        let view = parsed
            .tensor(&name)
            .map_err(|_| corrupt(format!("`{name}` is missing")))?;
        if view.dtype() != Dtype::F32 || view.shape() != shape.as_slice() {
            return Err(corrupt(format!("`{name}` is not f32 of shape {shape:?}")));
        }
        let values = f32_values(view.data());
        tensors.insert(name, HostTensor { shape, values });
    }
    let weights = ModelWeights { config, tensors };
    weights.validate()?;
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_files_round_trip_exactly() {
        let weights = ModelWeights::random(ModelConfig::TINY_FOR_TESTS, 3).unwrap();
        let bytes = encode_f32(&weights).unwrap();
        assert_eq!(decode_f32(&bytes).unwrap(), weights);
        assert!(decode_f32(&bytes[..bytes.len() - 4]).is_err());
    }
}
