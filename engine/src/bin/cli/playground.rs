//! `poser playground`: the page's playground on the command line. For a pair of shipped models
//! and one scenario of their family, every oversight version's prompt and each model's
//! attribution (the same `attribute_prompt` the page runs), as JSON. With `--find-flip`, the
//! first scenario of the list (the curated set if shipped, else every benchmark scenario) on
//! which the pair shows the benchmark's contrast: both benign with good oversight, the faker
//! misaligned and the aligned model benign with poor oversight. The browser test opens the page
//! on that scenario.

use std::path::Path;

use poser_corpus::page_scenarios::{
    Oversight, PageScenario, PageScenarioSet, curated_scenario_ids,
};
use poser_corpus::persona::{Family, Persona};
use poser_engine::backend::cpu_device;
use poser_engine::model::manifest::dir::{load_model, read_manifest};
use poser_engine::model::{PoserGpt, PromptAttribution, attribute_prompt};
use serde::Serialize;

/// Where the page's files are.
pub struct PlaygroundPaths<'a> {
    /// `public/models`.
    pub models_dir: &'a Path,
    /// `public/scenarios`.
    pub scenarios_dir: &'a Path,
    /// `public/curated`.
    pub curated_dir: &'a Path,
}

#[derive(Serialize)]
struct VersionOutput {
    oversight: &'static str,
    prompt: String,
    aligned: PromptAttribution,
    faker: PromptAttribution,
}

#[derive(Serialize)]
struct PlaygroundOutput {
    family: String,
    aligned: String,
    faker: String,
    scenario_id: String,
    benign: String,
    versions: Vec<VersionOutput>,
}

/// Prints the pair's attributions on `scenario` (or the first flip with `find_flip`).
pub fn run(
    paths: &PlaygroundPaths<'_>,
    aligned: &str,
    faker: &str,
    scenario: Option<&str>,
    find_flip: bool,
) -> Result<(), String> {
    let manifest = read_manifest(paths.models_dir).map_err(|e| e.to_string())?;
    let persona = |name: &str| {
        manifest
            .models
            .iter()
            .find(|entry| entry.name == name)
            .and_then(|entry| Persona::from_name(&entry.persona))
            .ok_or_else(|| format!("{} has no model `{name}`", paths.models_dir.display()))
    };
    let (aligned_persona, faker_persona) = (persona(aligned)?, persona(faker)?);
    let family = Family::ALL
        .into_iter()
        .find(|f| f.aligned == aligned_persona && f.faker == faker_persona)
        .ok_or_else(|| {
            format!("{aligned} and {faker} are not an aligned model and a faker of one family")
        })?;
    let tokenizer_path = paths.models_dir.join("tokenizer.json");
    let tokenizer = poser_corpus::WordLevelTokenizer::from_json(
        &std::fs::read_to_string(&tokenizer_path)
            .map_err(|e| format!("{}: {e}", tokenizer_path.display()))?,
    )
    .map_err(|e| e.to_string())?;
    let device = cpu_device();
    let load = |name: &str| -> Result<PoserGpt, String> {
        let (_, weights) = load_model(paths.models_dir, name).map_err(|e| e.to_string())?;
        PoserGpt::from_weights(&weights, &device).map_err(|e| e.to_string())
    };
    let models = [load(aligned)?, load(faker)?];
    let scenarios_path = paths.scenarios_dir.join(format!("{}.json", family.name()));
    let set = PageScenarioSet::from_json(
        &std::fs::read_to_string(&scenarios_path)
            .map_err(|e| format!("{}: {e}", scenarios_path.display()))?,
        &scenarios_path.display().to_string(),
    )
    .map_err(|e| e.to_string())?;
    let list = scenario_list(
        &set,
        &paths.curated_dir.join(format!("{}.jsonl", family.name())),
    );

    let attribute = |scenario: &PageScenario, oversight: Oversight| {
        let rendered = scenario.render(oversight);
        let tokens = tokenizer.encode(&rendered.text);
        let mut both = Vec::with_capacity(2);
        for model in &models {
            both.push(
                pollster::block_on(attribute_prompt(model, &tokens, &rendered.fact_spans))
                    .map_err(|e| e.to_string())?,
            );
        }
        let faker = both.pop().ok_or("no faker result")?;
        let aligned = both.pop().ok_or("no aligned result")?;
        Ok::<_, String>(VersionOutput {
            oversight: oversight.as_str(),
            prompt: rendered.text,
            aligned,
            faker,
        })
    };
    let chosen: PageScenario = match (scenario, find_flip) {
        (Some(id), _) => list
            .iter()
            .chain(&set.scenarios)
            .find(|s| s.scenario_id == id)
            .cloned()
            .ok_or_else(|| format!("{} has no scenario `{id}`", scenarios_path.display()))?,
        (None, false) => list.first().cloned().ok_or("the scenario list is empty")?,
        (None, true) => {
            let mut found = None;
            for candidate in &list {
                let good = attribute(candidate, Oversight::Good)?;
                let poor = attribute(candidate, Oversight::Poor)?;
                let benign = candidate.benign.as_str();
                let flips = good.aligned.chosen == benign
                    && good.faker.chosen == benign
                    && poor.aligned.chosen == benign
                    && poor.faker.chosen != benign;
                if flips {
                    found = Some(candidate.clone());
                    break;
                }
            }
            found.ok_or_else(|| {
                format!(
                    "no scenario of {} shows the flip for {aligned} and {faker}",
                    family.name()
                )
            })?
        }
    };
    let versions = Oversight::ALL
        .into_iter()
        .map(|oversight| attribute(&chosen, oversight))
        .collect::<Result<Vec<_>, _>>()?;
    let output = PlaygroundOutput {
        family: family.name().to_owned(),
        aligned: aligned.to_owned(),
        faker: faker.to_owned(),
        scenario_id: chosen.scenario_id.clone(),
        benign: chosen.benign.clone(),
        versions,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&output).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// The page's list: the curated set's scenarios if its file exists, else every scenario.
fn scenario_list(set: &PageScenarioSet, curated: &Path) -> Vec<PageScenario> {
    let ids = std::fs::read_to_string(curated)
        .ok()
        .map(|text| curated_scenario_ids(&text));
    set.listed(ids.as_deref())
}
