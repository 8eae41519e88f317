//! Asks the browser, before burn does, what WebGPU adapter it would hand out.
//!
//! burn's wgpu runtime exposes only the adapter's `description` (which Chromium leaves empty),
//! so the vendor and architecture come from `navigator.gpu.requestAdapter` with the very
//! options burn's runtime uses (high-performance, no forced fallback). The page checks that
//! both agree on whether the adapter is a software fallback.

use serde::Deserialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export async function probe_webgpu_adapter() {
  if (!('gpu' in navigator) || !navigator.gpu) {
    return JSON.stringify({ api: false, adapter: null });
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    return JSON.stringify({ api: true, adapter: null });
  }
  const info = adapter.info || {};
  const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  return JSON.stringify({
    api: true,
    adapter: {
      vendor: info.vendor || '',
      architecture: info.architecture || '',
      device: info.device || '',
      description: info.description || '',
      is_fallback: Boolean(fallback),
      features: Array.from(adapter.features || []).sort(),
    },
  });
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn probe_webgpu_adapter() -> Result<JsValue, JsValue>;
}

/// What `navigator.gpu` offers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WebGpuOffer {
    /// Whether the browser has the WebGPU API at all.
    pub api: bool,
    /// The adapter it hands out, if any.
    pub adapter: Option<NavigatorAdapter>,
}

/// `GPUAdapterInfo` as the browser reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NavigatorAdapter {
    /// `GPUAdapterInfo.vendor`, e.g. `google`.
    pub vendor: String,
    /// `GPUAdapterInfo.architecture`, e.g. `swiftshader`.
    pub architecture: String,
    /// `GPUAdapterInfo.device`.
    pub device: String,
    /// `GPUAdapterInfo.description` (often empty).
    pub description: String,
    /// `GPUAdapterInfo.isFallbackAdapter`: a software adapter.
    pub is_fallback: bool,
    /// The adapter's optional features, sorted (e.g. whether `shader-f16` is there).
    pub features: Vec<String>,
}

impl NavigatorAdapter {
    /// A software rasteriser: the fallback flag, or SwiftShader by name (older browsers do
    /// not set the flag for it).
    pub fn is_software(&self) -> bool {
        self.is_fallback
            || self
                .architecture
                .to_ascii_lowercase()
                .contains("swiftshader")
    }

    /// `vendor architecture`, or `unknown adapter` when the browser hides both.
    pub fn label(&self) -> String {
        let label = format!("{} {}", self.vendor, self.architecture)
            .trim()
            .to_owned();
        if label.is_empty() {
            "unknown adapter".to_owned()
        } else {
            label
        }
    }
}

/// Asks the browser which WebGPU adapter it offers.
pub async fn probe() -> Result<WebGpuOffer, String> {
    let text = probe_webgpu_adapter()
        .await
        .map_err(|error| format!("navigator.gpu.requestAdapter failed: {error:?}"))?;
    let text = text
        .as_string()
        .ok_or_else(|| "the WebGPU probe returned no text".to_owned())?;
    serde_json::from_str(&text)
        .map_err(|error| format!("the WebGPU probe's answer is malformed: {error}"))
}
