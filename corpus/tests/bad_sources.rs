//! Malformed sources fail with an error that names the file and the template.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use poser_corpus::{CorpusError, generate_corpus, io, sources::parse_sources};

fn with_replaced(path: &str, from: &str, to: &str) -> Vec<poser_corpus::SourceFile> {
    let mut files = io::read_sources(&common::scenarios_dir()).unwrap();
    let file = files.iter_mut().find(|f| f.path == path).unwrap();
    assert!(file.text.contains(from), "{from:?} not in {path}");
    file.text = file.text.replacen(from, to, 1);
    files
}

#[test]
fn an_unknown_slot_names_the_file_and_template() {
    let files = with_replaced(
        "templates/families/truth_and_reward.toml",
        "You check load tests for {org}",
        "You check load tests for {company}",
    );
    let error = parse_sources(&files).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("templates/families/truth_and_reward.toml"),
        "{message}"
    );
    assert!(message.contains("bridge-beam"), "{message}");
    assert!(message.contains("{company}"), "{message}");
}

#[test]
fn an_answer_word_in_a_template_is_refused() {
    let files = with_replaced(
        "templates/families/saint_and_money.toml",
        "You inspect restaurants in {place}.",
        "A robot inspects restaurants in {place}.",
    );
    let message = parse_sources(&files).unwrap_err().to_string();
    assert!(
        message.contains("bribe-inspector") && message.contains("reserved for answers"),
        "{message}"
    );
}

#[test]
fn a_missing_system_message_in_a_genie_family_is_refused() {
    let files = with_replaced(
        "templates/families/genie_and_money.toml",
        "system = \"Recommend only the cheapest suitable product.\"\n",
        "",
    );
    let message = parse_sources(&files).unwrap_err().to_string();
    assert!(
        message.contains("partner-shop") && message.contains("system message"),
        "{message}"
    );
}

#[test]
fn broken_toml_and_missing_files_are_reported() {
    let files = with_replaced("pools/oversight.toml", "[[truth]]", "[[truth]");
    assert!(
        matches!(parse_sources(&files), Err(CorpusError::Parse { path, .. }) if path == "pools/oversight.toml")
    );
    let mut files = io::read_sources(&common::scenarios_dir()).unwrap();
    files.retain(|f| f.path != "pools/words.toml");
    assert!(
        matches!(generate_corpus(&files, 1), Err(CorpusError::MissingSource { path }) if path == "pools/words.toml")
    );
}

#[test]
fn too_few_templates_is_refused() {
    let mut files = io::read_sources(&common::scenarios_dir()).unwrap();
    let file = files
        .iter_mut()
        .find(|f| f.path == "templates/families/saint_and_reward.toml")
        .unwrap();
    let cut = file.text.match_indices("[[template]]").nth(30).unwrap().0;
    file.text.truncate(cut);
    let message = generate_corpus(&files, 1).unwrap_err().to_string();
    assert!(
        message.contains("saint_and_reward") && message.contains("at least 40"),
        "{message}"
    );
}
