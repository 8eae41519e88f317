//! Which device the engine computes on, and what people are told about it.
//!
//! Two backends: burn's wgpu runtime (WebGPU in the browser, Vulkan/Metal natively) and burn's
//! pure-Rust CPU backend, Flex. The *choice* between them (query strings, fallback adapters)
//! belongs to the caller; this module creates devices and describes them.

pub use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::EngineError;

/// The two kinds of backend Poser Lab runs on. Serialised as `webgpu` / `cpu`, the names used
/// in URLs (`?backend=webgpu`), reports and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn's wgpu runtime: WebGPU in a browser, the native graphics API elsewhere.
    #[serde(rename = "webgpu")]
    WebGpu,
    /// burn's Flex backend: pure Rust on the CPU.
    Cpu,
}

impl BackendKind {
    /// The name used in URLs, reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebGpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }

    /// Parses the URL / command-line name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "webgpu" => Some(Self::WebGpu),
            "cpu" => Some(Self::Cpu),
            _ => None,
        }
    }
}

/// What wgpu says about the adapter burn's device was created from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterSummary {
    /// The adapter's name. In a browser this is `GPUAdapterInfo.description`, which browsers
    /// often leave empty for privacy.
    pub name: String,
    /// wgpu's device type: `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu` or `Other`.
    /// In a browser, `Cpu` means the adapter is a fallback (software) adapter.
    pub device_type: String,
    /// The graphics API under wgpu: `BrowserWebGpu`, `Vulkan`, `Metal`, …
    pub graphics_api: String,
    /// Whether wgpu reports a software/fallback adapter.
    pub is_fallback: bool,
}

/// burn's CPU backend (Flex). Always available, on every target.
pub fn cpu_device() -> Device {
    Device::flex()
}

/// Creates burn's wgpu device (once per process or page) and describes its adapter.
///
/// In a browser this is the only way to start WebGPU: it requests the adapter and device
/// asynchronously. Call it at most once; a second call fails because the runtime is already
/// initialised.
pub async fn init_wgpu_device() -> Result<(Device, AdapterSummary), EngineError> {
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|error| EngineError::GpuUnavailable(error.to_string()))?;
    let info = setup.adapter.get_info();
    let is_fallback = matches!(info.device_type, burn::tensor::wgpu::wgpu::DeviceType::Cpu);
    let summary = AdapterSummary {
        name: info.name,
        device_type: format!("{:?}", info.device_type),
        graphics_api: format!("{:?}", info.backend),
        is_fallback,
    };
    Ok((device, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_round_trip_and_reject_unknown_names() {
        for kind in [BackendKind::WebGpu, BackendKind::Cpu] {
            assert_eq!(BackendKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(BackendKind::parse("gpu"), None);
        assert_eq!(BackendKind::parse("WebGPU"), None);
    }
}
