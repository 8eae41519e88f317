//! Strategy runs off the page's main thread: a dedicated Web Worker running the page's own wasm
//! (the same file, from the browser's cache), which loads the models and the family inputs
//! itself, measures each (model, family) entry with the engine's `measure_model` (or trains a
//! faker with §4's `remove_faking`) and posts the results back as they finish. The page stays responsive whatever the backend, and
//! Cancel terminates the worker, which stops it at once; the entries already posted stay.
//!
//! Why a worker rather than yielding: burn's CPU backend computes synchronously, and one
//! entry's passes take seconds, so yielding between entries would freeze the page for
//! seconds and could not cancel within one. The protocol is JSON text both ways.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use poser_engine::backend::{BackendKind, cpu_device, init_wgpu_device};
use poser_engine::evaluation::page_inputs::PageInputs;
use poser_engine::evaluation::removal_run::RemovalJob;
use poser_engine::evaluation::walkthrough::Entry;
use poser_engine::evaluation::{EvaluateConfig, ModelMeasurements, measure_model};
use poser_engine::model::{Manifest, PoserGpt};
use poser_engine::strategies::FamilyModel;
use poser_engine::strategies::removal::{RemovalMeasurement, RemovalStep, remove_faking};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::fetch::{fetch_bytes, fetch_text};
use crate::zoo::MODELS_URL;

/// Where the page serves each family's strategy inputs (`poser report inputs`).
pub const INPUTS_URL: &str = "/public/inputs";
/// The script that boots the worker (it imports the page's bundle, then the wasm takes over).
const BOOT_SCRIPT: &str = "/public/strategy-worker.js";

/// One piece of work: a (model, family) entry measured by the strategies, or a faker trained
/// by §4.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// `measure_model` on the entry.
    Measure(Entry),
    /// §4 on the faker, with the noise the job names.
    Remove(RemovalJob),
}

/// What the page asks the worker to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerRequest {
    /// The backend to compute on (the page's).
    pub backend: BackendKind,
    /// Every setting.
    pub config: EvaluateConfig,
    /// The jobs, done in this order.
    pub jobs: Vec<Job>,
}

/// What the worker reports, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WorkerEvent {
    /// The wasm is running and waits for a request.
    Ready,
    /// Job `index` started a step (`loading …`, a measuring stage's name, a training step).
    Step {
        /// Index into the request's jobs.
        index: usize,
        /// What it is doing, for people.
        what: String,
        /// Steps of the job done and in all, where it counts them (§4's training steps).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        progress: Option<[usize; 2]>,
    },
    /// Job `index` (an entry) is measured.
    Measured {
        /// Index into the request's jobs.
        index: usize,
        /// The family's curated prompts.
        n_curated: usize,
        /// The family's oversight scenarios.
        n_oversight: usize,
        /// What was measured.
        measurements: Box<ModelMeasurements>,
        /// Seconds it took, loading included.
        seconds: f64,
    },
    /// Job `index` (a §4 faker) is trained.
    Removed {
        /// Index into the request's jobs.
        index: usize,
        /// Its two curves.
        measurement: Box<RemovalMeasurement>,
        /// Seconds it took, loading included.
        seconds: f64,
    },
    /// Every job is done.
    Done {
        /// Seconds since the request arrived.
        seconds: f64,
    },
    /// The run stopped; the message says why and what to do.
    Failed {
        /// For people.
        message: String,
    },
}

fn now_s() -> f64 {
    js_sys::Date::now() / 1000.0
}

// ---- The worker's side. ----

fn post(event: &WorkerEvent) {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let text = serde_json::to_string(event).unwrap_or_else(|error| {
        format!(r#"{{"event":"failed","message":"a result could not be encoded: {error}"}}"#)
    });
    let _ = scope.post_message(&JsValue::from_str(&text));
}

/// Whether this wasm runs inside a dedicated worker (then it serves requests instead of
/// mounting the page).
pub fn in_worker() -> bool {
    js_sys::global()
        .dyn_into::<web_sys::DedicatedWorkerGlobalScope>()
        .is_ok()
}

/// The worker's entry point: answers each request posted to it.
pub fn serve() {
    std::panic::set_hook(Box::new(|info| {
        post(&WorkerEvent::Failed {
            message: format!(
                "The strategy run stopped on an internal error ({info}). Reload the page and try \
                 again; if it persists, report it with this message."
            ),
        });
    }));
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let request = event
                .data()
                .as_string()
                .ok_or_else(|| "the request is not text".to_owned())
                .and_then(|text| {
                    serde_json::from_str::<WorkerRequest>(&text).map_err(|e| e.to_string())
                });
            match request {
                Ok(request) => wasm_bindgen_futures::spawn_local(run(request)),
                Err(error) => post(&WorkerEvent::Failed {
                    message: format!("The worker got a request it cannot read: {error}."),
                }),
            }
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&WorkerEvent::Ready);
}

async fn run(request: WorkerRequest) {
    if let Err(message) = run_entries(&request).await {
        post(&WorkerEvent::Failed { message });
    }
}

/// What a worker keeps between requests: its device (WebGPU starts once per worker), the
/// manifest, and every family's inputs and model it has loaded.
struct WorkerState {
    backend: BackendKind,
    device: poser_engine::backend::Device,
    manifest: Manifest,
    inputs: RefCell<HashMap<String, Rc<PageInputs>>>,
    models: RefCell<HashMap<String, PoserGpt>>,
}

thread_local! {
    static STATE: RefCell<Option<Rc<WorkerState>>> = const { RefCell::new(None) };
}

async fn worker_state(backend: BackendKind) -> Result<Rc<WorkerState>, String> {
    if let Some(state) = STATE.with(|s| s.borrow().clone()) {
        if state.backend != backend {
            return Err("A strategy worker serves one backend; reload the page.".to_owned());
        }
        return Ok(state);
    }
    let device =
        match backend {
            BackendKind::Cpu => cpu_device(),
            BackendKind::WebGpu => init_wgpu_device().await.map(|(device, _)| device).map_err(
                |error| {
                    format!(
                        "WebGPU could not start in the strategy worker ({error}). Run on the CPU \
                     backend instead: add ?backend=cpu to the address."
                    )
                },
            )?,
        };
    let manifest_url = format!("{MODELS_URL}/manifest.json");
    let manifest = Manifest::from_json(&fetch_text(&manifest_url).await?, &manifest_url)
        .map_err(|error| format!("The zoo's manifest cannot be read: {error}"))?;
    let state = Rc::new(WorkerState {
        backend,
        device,
        manifest,
        inputs: RefCell::default(),
        models: RefCell::default(),
    });
    STATE.with(|s| *s.borrow_mut() = Some(state.clone()));
    Ok(state)
}

/// The family's inputs, fetched once per worker.
async fn family_inputs(
    state: &WorkerState,
    family: &str,
    index: usize,
) -> Result<Rc<PageInputs>, String> {
    let cached = state.inputs.borrow().get(family).cloned();
    if let Some(found) = cached {
        return Ok(found);
    }
    post(&WorkerEvent::Step {
        index,
        what: format!("loading {family}'s prompts"),
        progress: None,
    });
    let url = format!("{INPUTS_URL}/{family}.json");
    let loaded = Rc::new(
        PageInputs::from_json(&fetch_text(&url).await?, &url).map_err(|error| error.to_string())?,
    );
    state
        .inputs
        .borrow_mut()
        .insert(family.to_owned(), loaded.clone());
    Ok(loaded)
}

/// The model `name` of `family`, loaded once per worker.
async fn family_model(
    state: &WorkerState,
    inputs: &PageInputs,
    family: &str,
    name: &str,
    index: usize,
) -> Result<PoserGpt, String> {
    if !inputs.models.iter().any(|m| m == name) {
        return Err(format!(
            "{name} is not a model of family {family} in {INPUTS_URL}/{family}.json"
        ));
    }
    let cached = state.models.borrow().get(name).cloned();
    if let Some(model) = cached {
        return Ok(model);
    }
    post(&WorkerEvent::Step {
        index,
        what: format!("loading {name}"),
        progress: None,
    });
    let model = load_model(&state.manifest, name, &state.device).await?;
    state
        .models
        .borrow_mut()
        .insert(name.to_owned(), model.clone());
    Ok(model)
}

async fn run_entries(request: &WorkerRequest) -> Result<(), String> {
    let started = now_s();
    let state = worker_state(request.backend).await?;
    for (index, job) in request.jobs.iter().enumerate() {
        let job_started = now_s();
        let (family, name) = match job {
            Job::Measure(entry) => (&entry.family, &entry.model),
            Job::Remove(job) => (&job.family, &job.faker),
        };
        let inputs = family_inputs(&state, family, index).await?;
        let model = family_model(&state, &inputs, family, name, index).await?;
        let failed = |error: poser_engine::EngineError| format!("{name} on {family}: {error}");
        match job {
            Job::Measure(_) => {
                let mut on_stage = |stage: poser_engine::evaluation::Stage| {
                    post(&WorkerEvent::Step {
                        index,
                        what: stage.name().to_owned(),
                        progress: None,
                    });
                };
                let measurements =
                    measure_model(name, &model, &inputs.inputs, &request.config, &mut on_stage)
                        .await
                        .map_err(failed)?;
                post(&WorkerEvent::Measured {
                    index,
                    n_curated: inputs.inputs.curated.len(),
                    n_oversight: inputs.inputs.versions.len(),
                    measurements: Box::new(measurements),
                    seconds: now_s() - job_started,
                });
            }
            Job::Remove(job) => {
                let mut on_step = |step: RemovalStep| {
                    let run = if step.with_noise {
                        "training with S2's noise"
                    } else {
                        "training plainly"
                    };
                    let done = step.step + if step.with_noise { step.steps } else { 0 };
                    post(&WorkerEvent::Step {
                        index,
                        what: format!("{run}: step {} of {}", step.step, step.steps),
                        progress: Some([done, 2 * step.steps]),
                    });
                };
                let family_inputs = &inputs.inputs;
                let measurement = remove_faking(
                    FamilyModel {
                        name,
                        model: &model,
                    },
                    family,
                    &family_inputs.curated,
                    &family_inputs.curated_scenarios,
                    &family_inputs.poor_oversight,
                    job.noise,
                    &request.config.removal,
                    &mut on_step,
                )
                .await
                .map_err(failed)?;
                post(&WorkerEvent::Removed {
                    index,
                    measurement: Box::new(measurement),
                    seconds: now_s() - job_started,
                });
            }
        }
    }
    post(&WorkerEvent::Done {
        seconds: now_s() - started,
    });
    Ok(())
}

async fn load_model(
    manifest: &Manifest,
    name: &str,
    device: &poser_engine::backend::Device,
) -> Result<PoserGpt, String> {
    let entry = manifest
        .models
        .iter()
        .find(|entry| entry.name == name)
        .ok_or_else(|| format!("The zoo has no model named `{name}`."))?;
    let bytes = fetch_bytes(&format!("{MODELS_URL}/{}", entry.file)).await?;
    let cannot = |error: String| {
        format!(
            "{name} could not be loaded: {error}. Reload the page; if it persists, rebuild the zoo with `poser zoo ship`."
        )
    };
    let weights = entry
        .load_bytes(&bytes)
        .map_err(|error| cannot(error.to_string()))?;
    PoserGpt::from_weights(&weights, device).map_err(|error| cannot(error.to_string()))
}

// ---- The page's side. ----

/// How many workers a run uses: one per core the browser reports (at most four, and no more
/// than there are entries) on the CPU backend, where each worker computes on its own core; one
/// on WebGPU, where they would share the GPU.
fn worker_count(backend: BackendKind, entries: usize) -> usize {
    let cores = web_sys::window()
        .map(|w| w.navigator().hardware_concurrency())
        .unwrap_or(1.0) as usize;
    let wanted = match backend {
        BackendKind::Cpu => cores.clamp(1, 4),
        BackendKind::WebGpu => 1,
    };
    wanted.min(entries).max(1)
}

/// One worker of a run: the browser's worker and its callbacks.
struct PoolWorker {
    worker: web_sys::Worker,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

/// The shared bookkeeping of a run: which job goes next, which worker does which.
struct PoolState {
    request: WorkerRequest,
    next: usize,
    assigned: Vec<Option<usize>>,
    finished: usize,
    started: f64,
    stopped: bool,
}

/// A run spread over a few workers, each given one job at a time; events carry the index
/// of the job in the whole request. Dropping it (or [`StrategyRun::cancel`]) terminates every
/// worker.
pub struct StrategyRun {
    workers: Rc<RefCell<Vec<PoolWorker>>>,
    state: Rc<RefCell<PoolState>>,
}

impl StrategyRun {
    /// Starts the workers; `on_event` gets every step and measurement, then one
    /// [`WorkerEvent::Done`] or [`WorkerEvent::Failed`] (never [`WorkerEvent::Ready`]).
    pub fn start(
        request: &WorkerRequest,
        on_event: impl Fn(WorkerEvent) + 'static,
    ) -> Result<Self, String> {
        let bundle = js_sys::Reflect::get(&js_sys::global(), &"poserBundle".into())
            .ok()
            .filter(|value| value.is_object())
            .ok_or("The page's loader did not record its bundle (window.poserBundle); rebuild the page with trunk.")?;
        let count = worker_count(request.backend, request.jobs.len());
        let state = Rc::new(RefCell::new(PoolState {
            request: request.clone(),
            next: 0,
            assigned: vec![None; count],
            finished: 0,
            started: now_s(),
            stopped: false,
        }));
        let workers: Rc<RefCell<Vec<PoolWorker>>> = Rc::default();
        let on_event: Rc<dyn Fn(WorkerEvent)> = Rc::new(on_event);
        for slot in 0..count {
            let worker = spawn_worker(slot, &bundle, &state, &workers, &on_event)?;
            workers.borrow_mut().push(worker);
        }
        Ok(Self { workers, state })
    }

    /// Stops every worker now; nothing more is reported.
    pub fn cancel(&self) {
        self.state.borrow_mut().stopped = true;
        for worker in self.workers.borrow().iter() {
            worker.worker.set_onmessage(None);
            worker.worker.terminate();
        }
    }
}

impl Drop for StrategyRun {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Sends worker `slot` its next job, if any is left.
fn send_next(
    slot: usize,
    worker: &web_sys::Worker,
    state: &RefCell<PoolState>,
) -> Result<(), String> {
    let message = {
        let mut state = state.borrow_mut();
        if state.stopped || state.next >= state.request.jobs.len() {
            state.assigned[slot] = None;
            return Ok(());
        }
        let index = state.next;
        state.next += 1;
        state.assigned[slot] = Some(index);
        let one = WorkerRequest {
            backend: state.request.backend,
            config: state.request.config.clone(),
            jobs: vec![state.request.jobs[index].clone()],
        };
        serde_json::to_string(&one)
            .map_err(|error| format!("The run's settings cannot be encoded: {error}"))?
    };
    worker
        .post_message(&JsValue::from_str(&message))
        .map_err(|_| "An entry could not be sent to its worker.".to_owned())
}

/// Counts a finished job; after the last, reports the whole run done.
fn job_finished(state: &RefCell<PoolState>, events: &Rc<dyn Fn(WorkerEvent)>) {
    let all_done = {
        let mut state = state.borrow_mut();
        state.finished += 1;
        state.finished == state.request.jobs.len()
    };
    if all_done {
        let seconds = now_s() - state.borrow().started;
        events(WorkerEvent::Done { seconds });
    }
}

fn spawn_worker(
    slot: usize,
    bundle: &JsValue,
    state: &Rc<RefCell<PoolState>>,
    workers: &Rc<RefCell<Vec<PoolWorker>>>,
    on_event: &Rc<dyn Fn(WorkerEvent)>,
) -> Result<PoolWorker, String> {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(BOOT_SCRIPT, &options)
        .map_err(|error| format!("The browser refused to start a worker: {error:?}"))?;
    let (state_for_message, workers_for_message, events) =
        (state.clone(), workers.clone(), on_event.clone());
    let this = worker.clone();
    let fail = move |events: &Rc<dyn Fn(WorkerEvent)>,
                     state: &RefCell<PoolState>,
                     workers: &RefCell<Vec<PoolWorker>>,
                     message: String| {
        state.borrow_mut().stopped = true;
        for other in workers.borrow().iter() {
            other.worker.set_onmessage(None);
            other.worker.terminate();
        }
        events(WorkerEvent::Failed { message });
    };
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |message: web_sys::MessageEvent| {
            let (state, workers, events) = (&state_for_message, &workers_for_message, &events);
            let event = message
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<WorkerEvent>(&text).ok())
                .unwrap_or_else(|| WorkerEvent::Failed {
                    message: "A worker sent something the page cannot read.".to_owned(),
                });
            let global = state.borrow().assigned[slot];
            match event {
                WorkerEvent::Ready => {
                    if let Err(message) = send_next(slot, &this, state) {
                        fail(events, state, workers, message);
                    }
                }
                WorkerEvent::Step { what, progress, .. } => {
                    if let Some(index) = global {
                        events(WorkerEvent::Step {
                            index,
                            what,
                            progress,
                        });
                    }
                }
                WorkerEvent::Measured {
                    n_curated,
                    n_oversight,
                    measurements,
                    seconds,
                    ..
                } => {
                    let Some(index) = global else { return };
                    events(WorkerEvent::Measured {
                        index,
                        n_curated,
                        n_oversight,
                        measurements,
                        seconds,
                    });
                    job_finished(state, events);
                }
                WorkerEvent::Removed {
                    measurement,
                    seconds,
                    ..
                } => {
                    let Some(index) = global else { return };
                    events(WorkerEvent::Removed {
                        index,
                        measurement,
                        seconds,
                    });
                    job_finished(state, events);
                }
                // A worker's request of one job is done: give it the next.
                WorkerEvent::Done { .. } => {
                    if let Err(message) = send_next(slot, &this, state) {
                        fail(events, state, workers, message);
                    }
                }
                WorkerEvent::Failed { message } => fail(events, state, workers, message),
            }
        });
    let (state_for_error, workers_for_error, events_for_error) =
        (state.clone(), workers.clone(), on_event.clone());
    let on_error =
        Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |error: web_sys::ErrorEvent| {
            fail(
                &events_for_error,
                &state_for_error,
                &workers_for_error,
                format!(
                    "A strategy worker failed to start or crashed ({}). Reload the page.",
                    error.message()
                ),
            );
        });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    worker
        .post_message(bundle)
        .map_err(|error| format!("The worker could not be started: {error:?}"))?;
    Ok(PoolWorker {
        worker,
        _on_message: on_message,
        _on_error: on_error,
    })
}
