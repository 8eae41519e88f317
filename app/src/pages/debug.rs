//! Debug routes: ways to exercise the page's machinery and failure paths on purpose. The
//! browser tests drive them; they are also handy when something looks wrong.

use std::sync::atomic::AtomicBool;

use leptos::prelude::*;
use leptos::task::spawn_local;
use poser_corpus::WordLevelTokenizer;
use poser_engine::backend::Device;
use poser_engine::evaluation::StrategiesSpec;
use poser_engine::model::{ForwardRequest, Manifest, PoserGpt, PromptOutput, forward};
use poser_engine::strategies::FamilyModel;
use poser_engine::train::{FineTuneSpec, StepReport};
use serde::Serialize;

use crate::fetch::{fetch_bytes, fetch_text};
use crate::system::{SystemState, expect_system_state};

/// `/debug/panic`: panics while rendering, so that the error view can be seen and tested.
#[component]
pub fn DebugPanic() -> impl IntoView {
    view! { <p>{forced_panic()}</p> }
}

#[allow(clippy::panic)]
fn forced_panic() -> &'static str {
    panic!("the /debug/panic route panics on purpose to show the error view")
}

/// What `/debug/forward` computes: the plain forward and the same forward with the request's
/// captures and interventions, each as `poser forward --json` prints it.
#[derive(Serialize)]
struct DebugForwardOutput {
    plain: ForwardSummary,
    edited: ForwardSummary,
}

#[derive(Serialize)]
struct ForwardSummary {
    tokens: Vec<u32>,
    last_logits: Vec<f32>,
    p: poser_engine::model::AnswerProbs,
}

impl From<PromptOutput> for ForwardSummary {
    fn from(output: PromptOutput) -> Self {
        Self {
            tokens: output.tokens,
            last_logits: output.last_logits,
            p: output.p,
        }
    }
}

/// Runs `task` once, on the page's device, as soon as the backend is ready; the signal holds
/// its outcome (JSON for `data-output`, or the error to show) when it finishes.
fn run_when_ready<F, Fut>(task: F) -> RwSignal<Option<Result<String, String>>>
where
    F: FnOnce(Device) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<String, String>> + 'static,
{
    let system = expect_system_state();
    let result = RwSignal::new(None);
    let task = StoredValue::new_local(Some(task));
    Effect::new(move |_| {
        if let SystemState::Ready(ready) = system.get()
            && let Some(task) = task.try_update_value(Option::take).flatten()
        {
            let device = ready.backend.device.clone();
            spawn_local(async move {
                result.set(Some(task(device).await));
            });
        }
    });
    result
}

/// The parameters of the debug pages that run models, from the address.
struct DebugForwardQuery {
    models: String,
    model: String,
    text: String,
    request: String,
    spec: String,
    spec_url: String,
}

impl DebugForwardQuery {
    fn from_address() -> Self {
        let search = web_sys::window()
            .and_then(|window| window.location().search().ok())
            .unwrap_or_default();
        let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
        let get = |name: &str| params.as_ref().and_then(|p| p.get(name));
        Self {
            models: get("models").unwrap_or_else(|| "/public/models".to_owned()),
            model: get("model").unwrap_or_default(),
            text: get("text").unwrap_or_default(),
            request: get("request").unwrap_or_else(|| "{}".to_owned()),
            spec: get("spec").unwrap_or_default(),
            spec_url: get("spec-url").unwrap_or_default(),
        }
    }
}

/// `/debug/forward?models=URL&model=NAME&text=PROMPT&request=JSON`: loads one model from a
/// models folder (its `manifest.json`, weights and `tokenizer.json`), runs the prompt on the
/// page's backend with and without the `ForwardRequest`, and shows the results in `data-output`.
#[component]
pub fn DebugForward() -> impl IntoView {
    let result = run_when_ready(|device| async move {
        run_debug_forward(&device, DebugForwardQuery::from_address()).await
    });
    move || {
        match result.get() {
        None => view! {
            <section class="page" data-testid="debug-forward" data-state="running">
                <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>"Running the forward pass…"</p>
            </section>
        }
        .into_any(),
        Some(Ok(json)) => {
            let shown = json.clone();
            view! {
            <section class="page" data-testid="debug-forward" data-state="done" data-output=json>
                <h1>"Debug: forward pass"</h1>
                <pre class="debug-output">{shown}</pre>
            </section>
            }
            .into_any()
        }
        Some(Err(message)) => view! {
            <section class="page" data-testid="debug-forward" data-state="failed">
                <h1>"Debug: forward pass"</h1>
                <p class="notice notice-error" role="alert">{message}</p>
            </section>
        }
        .into_any(),
    }
    }
}

/// One model of a models folder (its `manifest.json`, weights file and `tokenizer.json`).
async fn load_debug_model(
    device: &Device,
    models: &str,
    name: &str,
) -> Result<(PoserGpt, WordLevelTokenizer), String> {
    let manifest_url = format!("{models}/manifest.json");
    let manifest = Manifest::from_json(&fetch_text(&manifest_url).await?, &manifest_url)
        .map_err(|error| error.to_string())?;
    let entry = manifest.entry(name).map_err(|error| error.to_string())?;
    let bytes = fetch_bytes(&format!("{models}/{}", entry.file)).await?;
    let weights = entry
        .load_bytes(&bytes)
        .map_err(|error| error.to_string())?;
    let model = PoserGpt::from_weights(&weights, device).map_err(|error| error.to_string())?;
    let tokenizer =
        WordLevelTokenizer::from_json(&fetch_text(&format!("{models}/tokenizer.json")).await?)
            .map_err(|error| error.to_string())?;
    Ok((model, tokenizer))
}

async fn run_debug_forward(device: &Device, query: DebugForwardQuery) -> Result<String, String> {
    let request: ForwardRequest = serde_json::from_str(&query.request).map_err(|error| {
        format!("the `request` parameter is not a valid forward request: {error}")
    })?;
    let (model, tokenizer) = load_debug_model(device, &query.models, &query.model).await?;
    let prompt = vec![tokenizer.encode(&query.text)];
    let run = |request: ForwardRequest| {
        let prompt = prompt.clone();
        let model = &model;
        async move {
            let mut outputs = forward(model, &prompt, &request)
                .await
                .map_err(|error| error.to_string())?;
            outputs
                .pop()
                .map(ForwardSummary::from)
                .ok_or_else(|| "the forward pass returned nothing".to_owned())
        }
    };
    let output = DebugForwardOutput {
        plain: run(ForwardRequest::default()).await?,
        edited: run(request).await?,
    };
    serde_json::to_string(&output).map_err(|error| error.to_string())
}

/// `/debug/fine-tune?models=URL&model=NAME&spec=JSON`: runs a fine-tuning spec (as
/// `poser fine-tune --spec` reads it) on one model on the page's backend and shows
/// `{"losses", "cancelled"}` in `data-output`; steps appear as they finish.
#[component]
pub fn DebugFineTune() -> impl IntoView {
    let steps = RwSignal::new(Vec::<StepReport>::new());
    let result = run_when_ready(move |device| async move {
        run_debug_fine_tune(&device, DebugForwardQuery::from_address(), steps).await
    });
    let step_list = move || {
        steps
            .get()
            .into_iter()
            .map(|report| {
                view! {
                    <li>{format!("step {}/{}: loss {:.6}", report.step, report.steps, report.loss)}</li>
                }
            })
            .collect_view()
    };
    move || {
        match result.get() {
        None => view! {
            <section class="page" data-testid="debug-fine-tune" data-state="running">
                <h1>"Debug: fine-tuning"</h1>
                <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>"Training…"</p>
                <ol class="debug-steps">{step_list}</ol>
            </section>
        }
        .into_any(),
        Some(Ok(json)) => view! {
            <section class="page" data-testid="debug-fine-tune" data-state="done" data-output=json>
                <h1>"Debug: fine-tuning"</h1>
                <ol class="debug-steps">{step_list}</ol>
            </section>
        }
        .into_any(),
        Some(Err(message)) => view! {
            <section class="page" data-testid="debug-fine-tune" data-state="failed">
                <h1>"Debug: fine-tuning"</h1>
                <p class="notice notice-error" role="alert">{message}</p>
            </section>
        }
        .into_any(),
    }
    }
}

async fn run_debug_fine_tune(
    device: &Device,
    query: DebugForwardQuery,
    steps: RwSignal<Vec<StepReport>>,
) -> Result<String, String> {
    let spec: FineTuneSpec = serde_json::from_str(&query.spec)
        .map_err(|error| format!("the `spec` parameter is not a fine-tuning spec: {error}"))?;
    let (model, tokenizer) = load_debug_model(device, &query.models, &query.model).await?;
    let cancel = AtomicBool::new(false);
    let mut progress = |report: StepReport| steps.update(|all| all.push(report));
    let outcome = spec
        .run(&model, &tokenizer, &mut progress, &cancel)
        .await
        .map_err(|error| error.to_string())?;
    serde_json::to_string(&outcome).map_err(|error| error.to_string())
}

/// `/debug/strategies?models=URL&spec-url=URL`: runs a strategies spec (as
/// `poser strategies --spec` reads it: S2 and S4, and S3 and S6a where it asks, on the models
/// it names, loaded from the models folder) on the page's backend and shows the outcome
/// (`intoxicate`, `suspicious_concepts`, `learning_speed`, `gradient_saliency`) in
/// `data-output`.
#[component]
pub fn DebugStrategies() -> impl IntoView {
    let result = run_when_ready(|device| async move {
        run_debug_strategies(&device, DebugForwardQuery::from_address()).await
    });
    move || {
        match result.get() {
        None => view! {
            <section class="page" data-testid="debug-strategies" data-state="running">
                <h1>"Debug: strategies"</h1>
                <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>"Running S2 and S4…"</p>
            </section>
        }
        .into_any(),
        Some(Ok(json)) => {
            let shown = json.clone();
            view! {
            <section class="page" data-testid="debug-strategies" data-state="done" data-output=json>
                <h1>"Debug: strategies"</h1>
                <pre class="debug-output">{shown}</pre>
            </section>
            }
            .into_any()
        }
        Some(Err(message)) => view! {
            <section class="page" data-testid="debug-strategies" data-state="failed">
                <h1>"Debug: strategies"</h1>
                <p class="notice notice-error" role="alert">{message}</p>
            </section>
        }
        .into_any(),
    }
    }
}

async fn run_debug_strategies(device: &Device, query: DebugForwardQuery) -> Result<String, String> {
    if query.spec_url.is_empty() {
        return Err(
            "the `spec-url` parameter is missing: the address of a strategies spec".to_owned(),
        );
    }
    let spec: StrategiesSpec = serde_json::from_str(&fetch_text(&query.spec_url).await?)
        .map_err(|error| format!("{} is not a strategies spec: {error}", query.spec_url))?;
    let mut models = Vec::with_capacity(spec.models.len());
    let mut tokenizer = None;
    for name in &spec.models {
        let (model, model_tokenizer) = load_debug_model(device, &query.models, name).await?;
        models.push(model);
        tokenizer = Some(model_tokenizer);
    }
    let Some(tokenizer) = tokenizer else {
        return Err(format!("{} names no models", query.spec_url));
    };
    let family: Vec<FamilyModel<'_>> = spec
        .models
        .iter()
        .zip(&models)
        .map(|(name, model)| FamilyModel { name, model })
        .collect();
    let outcome = spec
        .run(&family, &tokenizer)
        .await
        .map_err(|error| error.to_string())?;
    serde_json::to_string(&outcome).map_err(|error| error.to_string())
}
