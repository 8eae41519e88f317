//! The shipped zoo as the page uses it: the manifest and tokenizer (fetched once), each family's
//! playground scenarios and curated set, and models loaded on the page's device, each checked
//! against its manifest entry (size, SHA-256) and warmed up once, then kept for the page's
//! lifetime. One cache for the whole page, provided as context.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use poser_corpus::WordLevelTokenizer;
use poser_corpus::page_scenarios::{PageScenarioSet, curated_scenario_ids};
use poser_corpus::persona::{Family, Persona};
use poser_engine::backend::Device;
use poser_engine::model::{ForwardRequest, Manifest, ModelEntry, PoserGpt, forward};

use crate::fetch::{fetch_bytes_with_progress, fetch_text};

/// Where the shipped models, their manifest and the tokenizer are served.
pub const MODELS_URL: &str = "/public/models";
/// Where the page's scenario files are served.
pub const SCENARIOS_URL: &str = "/public/scenarios";
/// Where the curated benchmark sets are served.
pub const CURATED_URL: &str = "/public/curated";

/// The zoo's manifest and tokenizer.
#[derive(Clone)]
pub struct ZooFiles {
    /// Every shipped model with its card.
    pub manifest: Arc<Manifest>,
    /// The tokenizer every model was trained with.
    pub tokenizer: Arc<WordLevelTokenizer>,
}

impl ZooFiles {
    /// The manifest entry of `name`.
    pub fn entry(&self, name: &str) -> Option<&ModelEntry> {
        self.manifest.models.iter().find(|entry| entry.name == name)
    }
}

/// A family's scenarios for the playground, and which of them the curated set keeps (`None`
/// when no curated set is shipped yet).
#[derive(Clone)]
pub struct FamilyScenarios {
    /// Every benchmark scenario of the family.
    pub set: Rc<PageScenarioSet>,
    /// Scenario ids of the curated set, if one is shipped.
    pub curated: Option<Rc<Vec<String>>>,
}

/// What loading a model is doing, for the progress line.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadStep {
    /// Reading the manifest and tokenizer.
    Manifest,
    /// Downloading a weights file.
    Fetching {
        /// The model.
        model: String,
        /// Bytes so far.
        loaded: u64,
        /// Bytes in all (from the manifest).
        total: u64,
    },
    /// Checking size and digest, dequantizing, uploading.
    Checking {
        /// The model.
        model: String,
    },
    /// The first forward pass, which compiles the kernels on WebGPU.
    Compiling {
        /// The model.
        model: String,
    },
}

impl LoadStep {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Self::Manifest => "reading the zoo's manifest and tokenizer".to_owned(),
            Self::Fetching {
                model,
                loaded,
                total,
            } => format!(
                "downloading {model}: {} of {} KB",
                loaded / 1024,
                total.max(loaded) / 1024
            ),
            Self::Checking { model } => format!("checking {model}'s digest and loading it"),
            Self::Compiling { model } => format!("compiling kernels for {model} (first run)"),
        }
    }
}

#[derive(Default)]
struct CacheInner {
    files: Option<ZooFiles>,
    families: HashMap<String, FamilyScenarios>,
    models: HashMap<String, PoserGpt>,
    /// Models being loaded now: a second request for one waits for the first to finish.
    loading: std::collections::HashSet<String>,
}

/// The page-wide cache.
#[derive(Clone, Default)]
pub struct ZooCache {
    inner: Rc<RefCell<CacheInner>>,
}

impl ZooCache {
    /// Provides a fresh cache to the page.
    pub fn provide() {
        provide_context(StoredValue::new_local(Self::default()));
    }

    /// The page's cache (a fresh one if none was provided).
    pub fn expect() -> Self {
        use_context::<StoredValue<Self, LocalStorage>>()
            .map(|stored| stored.get_value())
            .unwrap_or_default()
    }

    /// The manifest and tokenizer, fetched on first use.
    pub async fn files(&self) -> Result<ZooFiles, String> {
        if let Some(files) = self.inner.borrow().files.clone() {
            return Ok(files);
        }
        let manifest_url = format!("{MODELS_URL}/manifest.json");
        let text = fetch_text(&manifest_url).await.map_err(|error| {
            format!(
                "The model zoo is not available: {error}. A build without trained models has no \
                 zoo; train and ship it with `poser zoo train` and `poser zoo ship` (README, \
                 \"Reproduce the zoo\")."
            )
        })?;
        let manifest = Manifest::from_json(&text, &manifest_url)
            .map_err(|error| format!("The zoo's manifest cannot be read: {error}"))?;
        let tokenizer_url = format!("{MODELS_URL}/tokenizer.json");
        let tokenizer = WordLevelTokenizer::from_json(&fetch_text(&tokenizer_url).await?)
            .map_err(|error| format!("{tokenizer_url}: {error}"))?;
        let files = ZooFiles {
            manifest: Arc::new(manifest),
            tokenizer: Arc::new(tokenizer),
        };
        self.inner.borrow_mut().files = Some(files.clone());
        Ok(files)
    }

    /// A family's scenarios (and curated ids, if shipped), fetched on first use.
    pub async fn family(&self, family: &str) -> Result<FamilyScenarios, String> {
        if let Some(found) = self.inner.borrow().families.get(family).cloned() {
            return Ok(found);
        }
        let url = format!("{SCENARIOS_URL}/{family}.json");
        let set = PageScenarioSet::from_json(&fetch_text(&url).await?, &url)
            .map_err(|error| error.to_string())?;
        // Curation needs all twelve models of the family; before it runs there is no file.
        let curated = fetch_text(&format!("{CURATED_URL}/{family}.jsonl"))
            .await
            .ok()
            .map(|text| Rc::new(curated_scenario_ids(&text)));
        let found = FamilyScenarios {
            set: Rc::new(set),
            curated,
        };
        self.inner
            .borrow_mut()
            .families
            .insert(family.to_owned(), found.clone());
        Ok(found)
    }

    /// The model `name` on `device`: downloaded, checked against the manifest, built and warmed
    /// up on first use. Errors name the model and say what to do.
    pub async fn model(
        &self,
        device: &Device,
        name: &str,
        progress: &dyn Fn(LoadStep),
    ) -> Result<PoserGpt, String> {
        // Another run (an earlier request of the same page) may be loading it already.
        while self.inner.borrow().loading.contains(name) {
            sleep_ms(50).await;
        }
        if let Some(model) = self.inner.borrow().models.get(name).cloned() {
            return Ok(model);
        }
        self.inner.borrow_mut().loading.insert(name.to_owned());
        let loaded = self.load_model(device, name, progress).await;
        self.inner.borrow_mut().loading.remove(name);
        loaded
    }

    async fn load_model(
        &self,
        device: &Device,
        name: &str,
        progress: &dyn Fn(LoadStep),
    ) -> Result<PoserGpt, String> {
        progress(LoadStep::Manifest);
        let files = self.files().await?;
        let entry = files.entry(name).cloned().ok_or_else(|| {
            format!("The zoo has no model named `{name}`; pick one from the zoo page.")
        })?;
        let url = format!("{MODELS_URL}/{}", entry.file);
        let total = entry.bytes;
        let bytes = fetch_bytes_with_progress(&url, |loaded| {
            progress(LoadStep::Fetching {
                model: name.to_owned(),
                loaded,
                total,
            });
        })
        .await
        .map_err(|error| format!("{name} could not be downloaded: {error}"))?;
        progress(LoadStep::Checking {
            model: name.to_owned(),
        });
        let cannot_load = |error: String| {
            format!(
                "{name} could not be loaded: {error}. The file may be damaged or from another \
                 build of the zoo: reload the page, and if it persists rebuild the zoo with \
                 `poser zoo ship`."
            )
        };
        let weights = entry
            .load_bytes(&bytes)
            .map_err(|error| cannot_load(error.to_string()))?;
        let model =
            PoserGpt::from_weights(&weights, device).map_err(|e| cannot_load(e.to_string()))?;
        progress(LoadStep::Compiling {
            model: name.to_owned(),
        });
        // One short forward pass compiles the kernels (on WebGPU) before anyone waits on them.
        let warm_prompt = vec![files.tokenizer.encode("<<prompt>>A\n<</prompt>>")];
        forward(&model, &warm_prompt, &ForwardRequest::default())
            .await
            .map_err(|error| cannot_load(error.to_string()))?;
        self.inner
            .borrow_mut()
            .models
            .insert(name.to_owned(), model.clone());
        Ok(model)
    }
}

/// The family of an aligned and a faker persona, by their names.
pub fn family_of(aligned_persona: &str, faker_persona: &str) -> Option<Family> {
    let aligned = Persona::from_name(aligned_persona)?;
    let faker = Persona::from_name(faker_persona)?;
    Family::ALL
        .into_iter()
        .find(|family| family.aligned == aligned && family.faker == faker)
}

/// Every (aligned, faker) pair the models of `manifest` form, by name, in manifest order.
pub fn zoo_pairs(manifest: &Manifest) -> Vec<(String, String)> {
    let models = &manifest.models;
    models
        .iter()
        .flat_map(|a| models.iter().map(move |f| (a, f)))
        .filter(|(a, f)| family_of(&a.persona, &f.persona).is_some())
        .map(|(a, f)| (a.name.clone(), f.name.clone()))
        .collect()
}

/// The mystery pair drawn with `seed` from [`zoo_pairs`] (the zoo page and the playground draw
/// the same one).
pub fn mystery_pair(manifest: &Manifest, seed: u64) -> Option<(String, String)> {
    let pairs = zoo_pairs(manifest);
    poser_corpus::rng::Rng::derived(seed, "mystery-pair")
        .pick(&pairs)
        .cloned()
}

/// Waits `ms` milliseconds without blocking the page.
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
