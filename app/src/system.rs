//! The page's backend: which one runs, why, and proof that it computes (the warm-up matmul).
//!
//! Chosen once per page load:
//! - `?backend=cpu`: burn's CPU backend (Flex);
//! - `?backend=webgpu`: burn's wgpu runtime on whatever adapter the browser offers, even a
//!   software one; if there is none, the CPU backend with a notice saying so;
//! - otherwise (automatic): WebGPU on a hardware adapter; the CPU backend, with a notice, when
//!   there is no adapter or only a software fallback (SwiftShader is ~40× slower than the CPU
//!   backend in wasm).

use leptos::prelude::*;
use poser_engine::backend::Device;
use poser_engine::backend::{AdapterSummary, BackendKind, cpu_device, init_wgpu_device};
use poser_engine::warmup::{MatmulSpec, MatmulSummary, reference_product, seeded_matmul};

use crate::gpu_probe::{self, NavigatorAdapter};

/// What the address asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// No `backend` parameter: the page decides.
    Automatic,
    /// `?backend=webgpu` or `?backend=cpu`.
    Forced(BackendKind),
    /// A `backend` value the page does not know; treated as automatic, with a notice.
    Unknown(String),
}

impl Requested {
    /// Reads `?backend=` from the page's address.
    pub fn from_address() -> Self {
        let search = web_sys::window()
            .and_then(|window| window.location().search().ok())
            .unwrap_or_default();
        let value = web_sys::UrlSearchParams::new_with_str(&search)
            .ok()
            .and_then(|params| params.get("backend"));
        match value {
            None => Self::Automatic,
            Some(name) => match BackendKind::parse(&name) {
                Some(kind) => Self::Forced(kind),
                None => Self::Unknown(name),
            },
        }
    }

    /// The name shown and written into `data-requested`.
    pub fn label(&self) -> &str {
        match self {
            Self::Automatic | Self::Unknown(_) => "auto",
            Self::Forced(kind) => kind.as_str(),
        }
    }
}

/// The backend the page runs on, with everything people are told about it.
#[derive(Clone)]
pub struct RunningBackend {
    /// WebGPU or CPU.
    pub kind: BackendKind,
    /// burn's device; every computation of the page uses this one.
    pub device: Device,
    /// What burn's wgpu runtime says about its adapter (WebGPU only).
    pub adapter: Option<AdapterSummary>,
    /// What `navigator.gpu` says about the adapter it offers, if it offers one.
    pub navigator_adapter: Option<NavigatorAdapter>,
    /// Why the page runs on something other than what was asked, or other caveats.
    pub notices: Vec<String>,
}

/// The warm-up matmul's result and timings.
#[derive(Clone)]
pub struct WarmupOutcome {
    /// What was computed.
    pub summary: MatmulSummary,
    /// The first run, including kernel compilation and upload, in milliseconds.
    pub first_ms: f64,
    /// A second run of the same product, in milliseconds.
    pub warm_ms: f64,
    /// Largest relative difference to the same product computed in plain Rust (f64 sums).
    pub reference_difference: f64,
}

/// Where the page's backend stands.
#[derive(Clone)]
pub enum SystemState {
    /// Still starting; the text says which step.
    Starting(&'static str),
    /// Running, warm-up done.
    Ready(Box<ReadySystem>),
    /// Nothing can compute: not even the CPU backend worked.
    Failed(String),
}

/// A started backend and its warm-up.
#[derive(Clone)]
pub struct ReadySystem {
    /// The backend.
    pub backend: RunningBackend,
    /// Its warm-up.
    pub warmup: WarmupOutcome,
}

/// Chooses and starts the backend, runs the warm-up, and reports each step into `state`.
pub async fn start(requested: Requested, state: RwSignal<SystemState, LocalStorage>) {
    let mut backend = choose_backend(&requested, state).await;
    state.set(SystemState::Starting("running the warm-up matmul"));
    let spec = MatmulSpec::default();
    let warmup = match timed_warmup(&backend.device, spec, backend.kind).await {
        Ok(warmup) => warmup,
        Err(gpu_error) if backend.kind == BackendKind::WebGpu => {
            backend.notices.push(format!(
                "WebGPU started but its warm-up failed ({gpu_error}); the page runs on the CPU backend instead."
            ));
            backend.kind = BackendKind::Cpu;
            backend.device = cpu_device();
            match timed_warmup(&backend.device, spec, BackendKind::Cpu).await {
                Ok(warmup) => warmup,
                Err(cpu_error) => {
                    state.set(SystemState::Failed(cpu_error));
                    return;
                }
            }
        }
        Err(cpu_error) => {
            state.set(SystemState::Failed(cpu_error));
            return;
        }
    };
    state.set(SystemState::Ready(Box::new(ReadySystem {
        backend,
        warmup,
    })));
}

async fn choose_backend(
    requested: &Requested,
    state: RwSignal<SystemState, LocalStorage>,
) -> RunningBackend {
    let mut notices = Vec::new();
    if let Requested::Unknown(name) = requested {
        notices.push(format!(
            "The address asks for backend `{name}`, which does not exist; use `?backend=webgpu` or `?backend=cpu`. The page chose automatically."
        ));
    }
    let cpu = |navigator_adapter, notices| RunningBackend {
        kind: BackendKind::Cpu,
        device: cpu_device(),
        adapter: None,
        navigator_adapter,
        notices,
    };
    if *requested == Requested::Forced(BackendKind::Cpu) {
        return cpu(None, notices);
    }

    state.set(SystemState::Starting(
        "asking the browser for a WebGPU adapter",
    ));
    let forced_webgpu = *requested == Requested::Forced(BackendKind::WebGpu);
    let offered = match gpu_probe::probe().await {
        Ok(offer) => offer,
        Err(error) => {
            notices.push(format!(
                "WebGPU could not be queried ({error}); the page runs on the CPU backend."
            ));
            return cpu(None, notices);
        }
    };
    let Some(navigator_adapter) = offered.adapter else {
        let why = if offered.api {
            "has WebGPU but offers no adapter (no GPU, or WebGPU is disabled)"
        } else {
            "does not offer WebGPU"
        };
        let asked = if forced_webgpu {
            "WebGPU was requested, but this browser"
        } else {
            "This browser"
        };
        notices.push(format!(
            "{asked} {why}; the page runs on burn's CPU backend."
        ));
        return cpu(None, notices);
    };
    if navigator_adapter.is_software() && !forced_webgpu {
        notices.push(format!(
            "The only WebGPU adapter here is a software one ({}), about 40× slower than the CPU backend, so the page runs on burn's CPU backend. Add `?backend=webgpu` to use it anyway.",
            navigator_adapter.label()
        ));
        return cpu(Some(navigator_adapter), notices);
    }

    state.set(SystemState::Starting("starting WebGPU"));
    match init_wgpu_device().await {
        Ok((device, adapter)) => {
            if adapter.is_fallback != navigator_adapter.is_fallback {
                notices.push(format!(
                    "The browser and burn disagree on whether the adapter is a software fallback (browser: {}, burn: {}); the adapter shown may not be the one burn uses.",
                    navigator_adapter.is_fallback, adapter.is_fallback
                ));
            }
            RunningBackend {
                kind: BackendKind::WebGpu,
                device,
                adapter: Some(adapter),
                navigator_adapter: Some(navigator_adapter),
                notices,
            }
        }
        Err(error) => {
            notices.push(format!("{error}; the page runs on burn's CPU backend."));
            cpu(Some(navigator_adapter), notices)
        }
    }
}

async fn timed_warmup(
    device: &Device,
    spec: MatmulSpec,
    kind: BackendKind,
) -> Result<WarmupOutcome, String> {
    let started = now_ms();
    let summary = seeded_matmul(device, spec, kind.as_str())
        .await
        .map_err(|error| error.to_string())?;
    let first_ms = now_ms() - started;
    let started = now_ms();
    let again = seeded_matmul(device, spec, kind.as_str())
        .await
        .map_err(|error| error.to_string())?;
    let warm_ms = now_ms() - started;
    if again != summary {
        return Err("the same product computed twice gave different results".to_owned());
    }
    let reference = MatmulSummary::from_product(spec, &reference_product(spec))
        .map_err(|error| error.to_string())?;
    let reference_difference = summary.max_relative_difference(&reference);
    Ok(WarmupOutcome {
        summary,
        first_ms,
        warm_ms,
        reference_difference,
    })
}

/// Milliseconds from the page's time origin (`std::time::Instant` panics on the web).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map(|performance| performance.now())
        .unwrap_or(0.0)
}

/// The small backend label in the navigation bar.
#[component]
pub fn BackendBadge() -> impl IntoView {
    let state = expect_system_state();
    move || {
        let (label, class) = match state.get() {
            SystemState::Starting(_) => ("starting…".to_owned(), "badge"),
            SystemState::Failed(_) => ("no backend".to_owned(), "badge badge-error"),
            SystemState::Ready(ready) => match ready.backend.kind {
                BackendKind::WebGpu => (
                    format!(
                        "WebGPU · {}",
                        ready
                            .backend
                            .navigator_adapter
                            .as_ref()
                            .map(NavigatorAdapter::label)
                            .unwrap_or_default()
                    ),
                    "badge badge-gpu",
                ),
                BackendKind::Cpu => ("CPU backend".to_owned(), "badge badge-cpu"),
            },
        };
        view! { <a href="/system" class=class data-testid="backend-badge">{label}</a> }
    }
}

/// The system panel: backend, adapter, notices and the warm-up result, with every value also
/// in a `data-*` attribute for tests and scripts.
#[component]
pub fn SystemPanel() -> impl IntoView {
    let state = expect_system_state();
    let requested = Requested::from_address();
    let requested_label = requested.label().to_owned();
    move || {
        match state.get() {
        SystemState::Starting(step) => view! {
            <section class="system-panel" data-testid="system-panel" data-state="starting">
                <p class="progress" role="status"><span class="spinner" aria-hidden="true"></span>{format!("Starting the backend: {step}…")}</p>
            </section>
        }
        .into_any(),
        SystemState::Failed(message) => view! {
            <section class="system-panel" data-testid="system-panel" data-state="failed">
                <div class="notice notice-error" role="alert">
                    <p>{format!("No backend could compute here: {message}")}</p>
                    <p>"Try another browser, or reload the page."</p>
                </div>
            </section>
        }
        .into_any(),
        SystemState::Ready(ready) => ready_view(&ready.backend, &ready.warmup, &requested_label).into_any(),
    }
    }
}

fn ready_view(backend: &RunningBackend, warmup: &WarmupOutcome, requested: &str) -> impl IntoView {
    let navigator = backend.navigator_adapter.clone();
    let text = |value: Option<String>| {
        value
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "—".to_owned())
    };
    let summary_json = serde_json::to_string(&warmup.summary).unwrap_or_default();
    let spec = warmup.summary.spec;
    let has_f16 = navigator.as_ref().map(|adapter| {
        adapter
            .features
            .iter()
            .any(|feature| feature == "shader-f16")
    });
    let notices = backend.notices.clone();
    view! {
        <section
            class="system-panel"
            data-testid="system-panel"
            data-state="ready"
            data-requested=requested.to_owned()
            data-backend=backend.kind.as_str()
            data-adapter-vendor=navigator.as_ref().map(|a| a.vendor.clone()).unwrap_or_default()
            data-adapter-architecture=navigator.as_ref().map(|a| a.architecture.clone()).unwrap_or_default()
            data-adapter-fallback=navigator.as_ref().map(|a| a.is_fallback.to_string()).unwrap_or_default()
            data-burn-adapter-type=backend.adapter.as_ref().map(|a| a.device_type.clone()).unwrap_or_default()
            data-matmul=summary_json
            data-matmul-first-ms=warmup.first_ms.to_string()
            data-matmul-warm-ms=warmup.warm_ms.to_string()
            data-matmul-reference-difference=warmup.reference_difference.to_string()
        >
            {notices
                .into_iter()
                .map(|notice| view! { <p class="notice" role="status" data-testid="backend-notice">{notice}</p> })
                .collect_view()}
            <h2>"Backend"</h2>
            <dl class="facts">
                <dt>"Running on"</dt>
                <dd data-testid="backend-name">{match backend.kind {
                    BackendKind::WebGpu => "WebGPU (burn's wgpu runtime)",
                    BackendKind::Cpu => "CPU (burn's Flex backend, in wasm)",
                }}</dd>
                <dt>"Requested"</dt>
                <dd>{requested.to_owned()}</dd>
            </dl>
            <h2>"Adapter"</h2>
            <dl class="facts">
                <dt>"Vendor / architecture (navigator.gpu)"</dt>
                <dd data-testid="adapter-label">{navigator.as_ref().map(NavigatorAdapter::label).unwrap_or_else(|| "none offered".to_owned())}</dd>
                <dt>"Description"</dt>
                <dd>{text(navigator.as_ref().map(|a| a.description.clone()))}</dd>
                <dt>"Software fallback"</dt>
                <dd>{navigator.as_ref().map(|a| if a.is_fallback { "yes" } else { "no" }).unwrap_or("—")}</dd>
                <dt>"shader-f16"</dt>
                <dd>{match has_f16 { Some(true) => "yes", Some(false) => "no", None => "—" }}</dd>
                <dt>"burn's device (wgpu)"</dt>
                <dd>{backend.adapter.as_ref().map(|a| format!(
                    "{} · {} · {}",
                    if a.name.is_empty() { "(no description)" } else { a.name.as_str() },
                    a.device_type,
                    a.graphics_api
                )).unwrap_or_else(|| "not started".to_owned())}</dd>
            </dl>
            <h2>"Warm-up"</h2>
            <dl class="facts">
                <dt>"Computation"</dt>
                <dd>{format!("{0}×{0} · {0}×{0} matmul of seeded inputs (seed {1})", spec.size, spec.seed)}</dd>
                <dt>"First run (upload, kernel compilation, read back)"</dt>
                <dd data-testid="matmul-first-ms">{format!("{:.1} ms", warmup.first_ms)}</dd>
                <dt>"Second run"</dt>
                <dd data-testid="matmul-warm-ms">{format!("{:.1} ms", warmup.warm_ms)}</dd>
                <dt>"Sum of the product's entries"</dt>
                <dd data-testid="matmul-sum">{format!("{:.4}", warmup.summary.sum)}</dd>
                <dt>"Against plain Rust (f64 sums)"</dt>
                <dd data-testid="matmul-reference">{format!(
                    "largest relative difference {:.1e}",
                    warmup.reference_difference
                )}</dd>
            </dl>
            <p class="hint">
                "Choose a backend: "
                <a href="?backend=webgpu" rel="external">"WebGPU"</a>" · "
                <a href="?backend=cpu" rel="external">"CPU"</a>" · "
                <a href="?" rel="external">"automatic"</a>
                " (the page reloads)."
            </p>
        </section>
    }
}

/// The page-wide backend state, provided by the app at start.
pub fn expect_system_state() -> RwSignal<SystemState, LocalStorage> {
    use_context::<RwSignal<SystemState, LocalStorage>>().unwrap_or_else(|| {
        RwSignal::new_local(SystemState::Failed(
            "the page started without its backend state".to_owned(),
        ))
    })
}
