//! The wgpu backend (natively: Vulkan, Metal or GL) against the CPU backend on the fixture
//! models, a plain forward and last-position interventions. On a machine without any adapter
//! there is nothing to compare, and the test says so on stderr.

#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use poser_engine::backend::{cpu_device, init_wgpu_device};
use poser_engine::model::fixtures::FIXTURE_MODELS;
use poser_engine::model::manifest::dir::load_model;
use poser_engine::model::{
    Edit, ForwardRequest, HookPoint, Intervention, NoiseDistribution, PoserGpt, Positions,
    PromptCache, PromptOutput, forward,
};

fn answers(outputs: &[PromptOutput]) -> Vec<f32> {
    outputs
        .iter()
        .flat_map(|o| [o.p.a, o.p.b, o.p.error])
        .collect()
}

#[test]
fn wgpu_and_cpu_agree_on_answers_with_and_without_interventions() {
    let (gpu, adapter) = match pollster::block_on(init_wgpu_device()) {
        Ok(found) => found,
        Err(error) => {
            eprintln!("no wgpu adapter, nothing to compare: {error}");
            return;
        }
    };
    eprintln!("adapter: {} ({})", adapter.name, adapter.graphics_api);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
    let prompts = vec![(5..60).collect::<Vec<u32>>(), vec![7, 8, 9, 2]];
    let hook = HookPoint::ResidPost(1);
    let edits: Vec<Edit> = [0.0, 4.0, 16.0]
        .iter()
        .map(|&magnitude| Edit::Noise {
            distribution: NoiseDistribution::Uniform01,
            seed: 3,
            magnitude,
        })
        .collect();
    let request = ForwardRequest {
        captures: Vec::new(),
        interventions: vec![Intervention {
            hook,
            positions: Positions::Last,
            edit: edits[2].clone(),
        }],
    };
    for (name, ..) in FIXTURE_MODELS {
        let (_, weights) = load_model(&dir, name).unwrap();
        let run = |device| {
            let model = PoserGpt::from_weights(&weights, device).unwrap();
            let plain =
                pollster::block_on(forward(&model, &prompts, &ForwardRequest::default())).unwrap();
            let edited = pollster::block_on(forward(&model, &prompts, &request)).unwrap();
            let cache = PromptCache::new(&model, &prompts[0]).unwrap();
            let cached = pollster::block_on(cache.run_edits(&model, hook, &edits, &[])).unwrap();
            [answers(&plain), answers(&edited), answers(&cached)].concat()
        };
        let (on_cpu, on_gpu) = (run(&cpu_device()), run(&gpu));
        for (c, g) in on_cpu.iter().zip(&on_gpu) {
            let tolerance = 1e-3 * c.abs().max(1.0);
            assert!((c - g).abs() < tolerance, "{name}: cpu {c} vs wgpu {g}");
        }
    }
}
