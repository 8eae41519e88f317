//! Our Rust encoder gives the same ids as Hugging Face `tokenizers` loading our
//! `tokenizer.json`. The Python side is `corpus/scripts/check_tokenizer.py`; its output,
//! `scenarios/generated/tokenizer-check.json`, is committed so that CI needs no Python.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use poser_corpus::{WordLevelTokenizer, examples_from_jsonl, generate::sha256_hex};

fn digest(tok: &WordLevelTokenizer, prompts: &[String]) -> String {
    let mut lines = String::new();
    for prompt in prompts {
        let ids: Vec<String> = tok.encode(prompt).iter().map(u32::to_string).collect();
        lines.push_str(&ids.join(" "));
        lines.push('\n');
    }
    sha256_hex(lines.as_bytes())
}

#[test]
fn rust_ids_equal_hugging_face_ids_for_every_prompt() {
    let dir = common::generated_dir();
    let tok = WordLevelTokenizer::from_json(
        &std::fs::read_to_string(dir.join("tokenizer.json")).unwrap(),
    )
    .unwrap();
    let check: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("tokenizer-check.json"))
            .expect("scenarios/generated/tokenizer-check.json is missing\nhint: run `python3 corpus/scripts/check_tokenizer.py`"),
    )
    .unwrap();
    let manifest = std::fs::read(dir.join("manifest.json")).unwrap();
    assert_eq!(
        check["generator_sha256_of_manifest"].as_str(),
        Some(sha256_hex(&manifest).as_str()),
        "tokenizer-check.json was made for another generation\nhint: run `python3 corpus/scripts/check_tokenizer.py` after regenerating"
    );
    let files = check["files"].as_array().unwrap();
    assert!(files.len() >= 28);
    for file in files {
        let path = file["path"].as_str().unwrap();
        let text = std::fs::read_to_string(dir.join(path)).unwrap();
        let prompts: Vec<String> = if path == "concepts.jsonl" {
            text.lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["prompt"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        } else {
            examples_from_jsonl(&text, path)
                .unwrap()
                .into_iter()
                .map(|e| e.prompt)
                .collect()
        };
        assert_eq!(
            prompts.len() as u64,
            file["prompts"].as_u64().unwrap(),
            "{path}"
        );
        assert_eq!(
            digest(&tok, &prompts),
            file["sha256"].as_str().unwrap(),
            "{path}: ids differ from Hugging Face tokenizers"
        );
    }
    let edge_cases = check["edge_cases"].as_array().unwrap();
    assert!(!edge_cases.is_empty());
    for case in edge_cases {
        let text = case["text"].as_str().unwrap();
        let expected: Vec<u32> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(tok.encode(text), expected, "{text:?}");
    }
}

#[test]
fn committed_tokenizer_is_the_generated_one() {
    let text = std::fs::read_to_string(common::generated_dir().join("tokenizer.json")).unwrap();
    assert_eq!(
        WordLevelTokenizer::from_json(&text).unwrap(),
        common::corpus().tokenizer
    );
    assert_eq!(common::corpus().tokenizer.to_json(), text);
}
