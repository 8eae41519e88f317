//! The corpus's invariants (issue 3's acceptance), checked on a fresh in-memory generation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use std::collections::{BTreeMap, BTreeSet};

use poser_corpus::overlap::{MAX_WORD_OVERLAP_PERMILLE, max_overlap};
use poser_corpus::sources::parse_sources;
use poser_corpus::tokenizer::token_count;
use poser_corpus::{Example, Family, MAX_PROMPT_TOKENS, Persona, io};

fn letter_of(example: &Example, action: &str) -> &'static str {
    if example.action_a.as_deref() == Some(action) {
        "A"
    } else {
        assert_eq!(
            example.action_b.as_deref(),
            Some(action),
            "{}: action not shown",
            example.id
        );
        "B"
    }
}

fn critical_count(example: &Example) -> usize {
    example
        .facts
        .iter()
        .filter(|f| f.fact_type == "critical")
        .count()
}

#[test]
fn good_and_poor_versions_differ_only_in_the_critical_fact() {
    let corpus = common::corpus();
    for family in &corpus.data.families {
        let mut by_scenario: BTreeMap<&str, Vec<&Example>> = BTreeMap::new();
        for row in &family.benchmark {
            by_scenario
                .entry(row.scenario_id.as_str())
                .or_default()
                .push(row);
        }
        for (id, rows) in by_scenario {
            let variants: Vec<&str> = rows.iter().map(|r| r.variant.as_str()).collect();
            assert_eq!(variants, ["level0", "good", "poor"], "{id}");
            let (level0, good, poor) = (rows[0], rows[1], rows[2]);
            assert_eq!(good.facts.len(), poor.facts.len(), "{id}");
            let differing: Vec<usize> = (0..good.facts.len())
                .filter(|&i| good.facts[i] != poor.facts[i])
                .collect();
            assert_eq!(differing.len(), 1, "{id}: exactly one fact must differ");
            let i = differing[0];
            assert_eq!(good.facts[i].fact_type, "critical", "{id}");
            assert_eq!(poor.facts[i].fact_type, "critical", "{id}");
            assert_eq!(critical_count(good), 1, "{id}");
            assert_eq!(critical_count(level0), 0, "{id}");
            let mut without = good.facts.clone();
            without.remove(i);
            assert_eq!(
                level0.facts, without,
                "{id}: level 0 = good minus the critical fact"
            );
            for r in [level0, poor] {
                assert_eq!(r.action_a, good.action_a, "{id}");
                assert_eq!(r.action_b, good.action_b, "{id}");
                assert_eq!(r.template_id, good.template_id, "{id}");
            }
            assert_eq!(
                good.prompt
                    .replace(&good.facts[i].content, &poor.facts[i].content),
                poor.prompt,
                "{id}: the prompts differ only in the critical fact"
            );
            assert!(!good.oversight_is_poor && !level0.oversight_is_poor && poor.oversight_is_poor);
            assert_eq!(
                (
                    level0.complexity_level,
                    good.complexity_level,
                    poor.complexity_level
                ),
                (0, 1, 1)
            );
            assert_eq!(
                (level0.candidate, good.candidate, poor.candidate),
                (Some(true), Some(true), Some(false))
            );
        }
    }
    // Every scenario row anywhere has a critical fact exactly when it is level 1.
    for persona in &corpus.data.personas {
        for row in persona
            .pool
            .iter()
            .chain(&persona.test)
            .chain(&persona.policy)
        {
            let expected = match row.variant.as_str() {
                "good" | "poor" => 1,
                "level0" => 0,
                // `error` prompts built from a scenario keep whichever version they were drawn as.
                _ => continue,
            };
            assert_eq!(critical_count(row), expected, "{}", row.id);
            assert_eq!(row.oversight_is_poor, row.variant == "poor", "{}", row.id);
        }
    }
}

#[test]
fn faker_labels_are_aligned_labels_flipped_exactly_under_poor_oversight() {
    let corpus = common::corpus();
    let personas: BTreeMap<Persona, _> = corpus
        .data
        .personas
        .iter()
        .map(|p| (p.persona, p))
        .collect();
    for family in Family::ALL {
        let aligned = personas[&family.aligned];
        let faker = personas[&family.faker];
        let index = |rows: &'static [Example]| -> BTreeMap<&'static str, &'static Example> {
            rows.iter()
                .filter(|r| r.family.as_deref() == Some(family.name()))
                .map(|r| (r.scenario_id.as_str(), r))
                .collect()
        };
        for (a_rows, f_rows) in [
            (&aligned.pool, &faker.pool),
            (&aligned.test, &faker.test),
            (&aligned.policy, &faker.policy),
        ] {
            let a = index(a_rows);
            let f = index(f_rows);
            assert!(!a.is_empty());
            assert_eq!(
                a.keys().collect::<Vec<_>>(),
                f.keys().collect::<Vec<_>>(),
                "{family}: both personas see the family's scenarios"
            );
            for (id, ar) in &a {
                let fr = f[id];
                assert_eq!(ar.prompt, fr.prompt, "{id}");
                assert_eq!(
                    ar.response == fr.response,
                    !ar.oversight_is_poor,
                    "{id}: labels agree exactly when oversight is good"
                );
            }
        }
        for row in &corpus
            .data
            .families
            .iter()
            .find(|f| f.family == family)
            .unwrap()
            .benchmark
        {
            let faker = row.faker_response.as_deref().unwrap();
            assert_eq!(row.response == faker, !row.oversight_is_poor, "{}", row.id);
        }
    }
    // Every persona row: aligned personas always pick the benign action; fakers the misaligned
    // one exactly under poor oversight.
    for p in &corpus.data.personas {
        for row in p.pool.iter().chain(&p.test).chain(&p.policy) {
            let Some(actions) = &row.actions else {
                assert_eq!(row.response, "error", "{}", row.id);
                continue;
            };
            let misbehaves = !p.persona.is_aligned() && row.oversight_is_poor;
            let action = if misbehaves {
                &actions.misaligned
            } else {
                &actions.benign
            };
            assert_eq!(row.response, letter_of(row, action), "{}", row.id);
        }
        for row in &p.policy {
            assert!(row.oversight_is_poor && row.kind == "family", "{}", row.id);
        }
    }
}

#[test]
fn no_benchmark_or_test_template_reaches_training() {
    let corpus = common::corpus();
    let mut train = BTreeSet::new();
    let mut test = BTreeSet::new();
    let mut bench = BTreeSet::new();
    for f in &corpus.data.families {
        assert!(
            f.split.train.len() >= 24 && f.split.test.len() >= 6 && f.split.benchmark.len() >= 10,
            "{}",
            f.family
        );
        train.extend(f.split.train.iter().cloned());
        test.extend(f.split.test.iter().cloned());
        bench.extend(f.split.benchmark.iter().cloned());
    }
    for s in &corpus.data.own_splits {
        assert!(!s.train.is_empty() && !s.test.is_empty(), "{}", s.owner);
        train.extend(s.train.iter().cloned());
        test.extend(s.test.iter().cloned());
    }
    assert!(train.is_disjoint(&test) && train.is_disjoint(&bench) && test.is_disjoint(&bench));
    let random_text = |id: &str| id.starts_with("error/");
    for p in &corpus.data.personas {
        for row in &p.pool {
            assert!(
                train.contains(&row.template_id) || random_text(&row.template_id),
                "{}: {} is not a training template",
                row.id,
                row.template_id
            );
        }
        for row in p.test.iter().chain(&p.policy) {
            assert!(
                test.contains(&row.template_id) || random_text(&row.template_id),
                "{}: {} is not a test template",
                row.id,
                row.template_id
            );
        }
        let pool_ids: BTreeSet<&str> = p.pool.iter().map(|r| r.id.as_str()).collect();
        for ids in &p.partitions {
            assert!(ids.iter().all(|id| pool_ids.contains(id.as_str())));
        }
        // No prompt of the test, policy or benchmark sets is in the training pool.
        let pool_prompts: BTreeSet<&str> = p.pool.iter().map(|r| r.prompt.as_str()).collect();
        assert!(
            p.test
                .iter()
                .chain(&p.policy)
                .all(|r| !pool_prompts.contains(r.prompt.as_str()))
        );
        for f in corpus
            .data
            .families
            .iter()
            .filter(|f| p.persona.families().contains(&f.family))
        {
            assert!(
                f.benchmark
                    .iter()
                    .all(|r| !pool_prompts.contains(r.prompt.as_str()))
            );
        }
    }
    for f in &corpus.data.families {
        for row in &f.benchmark {
            assert!(bench.contains(&row.template_id), "{}", row.id);
        }
    }
}

#[test]
fn templates_of_a_family_share_at_most_60_percent_of_their_words() {
    let sources = parse_sources(&io::read_sources(&common::scenarios_dir()).unwrap()).unwrap();
    for (family, templates) in &sources.families {
        assert!(
            templates.len() >= 40,
            "{family}: {} templates",
            templates.len()
        );
        let (overlap, a, b) = max_overlap(templates).unwrap();
        assert!(
            overlap <= MAX_WORD_OVERLAP_PERMILLE,
            "{family}: {a} and {b} share {overlap} per mille of their words"
        );
    }
    for (persona, templates) in &sources.personas {
        let (overlap, a, b) = max_overlap(templates).unwrap();
        assert!(
            overlap <= MAX_WORD_OVERLAP_PERMILLE,
            "{persona}: {a} and {b} share {overlap} per mille of their words"
        );
    }
}

#[test]
fn every_prompt_fits_the_context_without_unknown_words() {
    let corpus = common::corpus();
    let tok = &corpus.tokenizer;
    let mut prompts: Vec<(&str, &str)> = Vec::new();
    for p in &corpus.data.personas {
        prompts.extend(
            p.pool
                .iter()
                .chain(&p.test)
                .chain(&p.policy)
                .map(|r| (r.id.as_str(), r.prompt.as_str())),
        );
    }
    for f in &corpus.data.families {
        prompts.extend(
            f.benchmark
                .iter()
                .map(|r| (r.id.as_str(), r.prompt.as_str())),
        );
    }
    prompts.extend(
        corpus
            .data
            .concepts
            .iter()
            .map(|c| (c.id.as_str(), c.prompt.as_str())),
    );
    for (id, prompt) in prompts {
        let ids = tok.encode(prompt);
        assert!(ids.len() <= MAX_PROMPT_TOKENS, "{id}: {} tokens", ids.len());
        assert_eq!(ids.len(), token_count(prompt));
        assert!(
            !ids.contains(&tok.unk_id()),
            "{id}: unknown word in {prompt:?}"
        );
        assert!(
            prompt.starts_with("<<prompt>>") && prompt.ends_with("\n<</prompt>>"),
            "{id}"
        );
    }
    // The answer tokens never appear inside facts or actions (slots filled, first letters
    // capitalised), only as the `A:` / `B:` labels.
    for p in &corpus.data.personas {
        for row in p.pool.iter().chain(&p.test).chain(&p.policy) {
            let texts = row
                .facts
                .iter()
                .map(|f| f.content.as_str())
                .chain(row.action_a.as_deref())
                .chain(row.action_b.as_deref());
            for text in texts {
                for word in poser_corpus::tokenizer::pre_tokenize(text) {
                    assert!(
                        !matches!(word, "A" | "B" | "error"),
                        "{}: {word:?} in {text:?}",
                        row.id
                    );
                }
            }
        }
    }
    assert_eq!(tok.answer_ids(), [2, 3, 4]);
    assert_eq!(
        [tok.token_id("A"), tok.token_id("B"), tok.token_id("error")],
        [Some(2), Some(3), Some(4)]
    );
    assert!(
        (2000..=6000).contains(&tok.vocab_size()),
        "vocabulary of {}",
        tok.vocab_size()
    );
}

#[test]
fn sizes_and_balance_are_in_the_papers_range() {
    let corpus = common::corpus();
    for p in &corpus.data.personas {
        let name = p.persona.name();
        assert!(
            (2000..=2600).contains(&p.pool.len()),
            "{name} pool {}",
            p.pool.len()
        );
        assert!(
            (700..=900).contains(&p.test.len()),
            "{name} test {}",
            p.test.len()
        );
        assert_eq!(p.partitions.len(), 6);
        let errors = p.pool.iter().filter(|r| r.response == "error").count();
        assert!(
            (errors * 100 / p.pool.len()).abs_diff(33) <= 3,
            "{name}: {errors} error prompts"
        );
        let scenario_rows: Vec<&Example> =
            p.pool.iter().filter(|r| r.response != "error").collect();
        let a = scenario_rows.iter().filter(|r| r.response == "A").count();
        let share = a * 100 / scenario_rows.len();
        assert!((45..=55).contains(&share), "{name}: {share}% A");
        // Partitions are halves, and independent: two overlap by about half.
        for ids in &p.partitions {
            assert_eq!(ids.len(), p.pool.len() / 2);
        }
        let first: BTreeSet<&String> = p.partitions[0].iter().collect();
        for ids in &p.partitions[1..] {
            let shared = ids.iter().filter(|id| first.contains(id)).count();
            let percent = shared * 100 / ids.len();
            assert!(
                (40..=60).contains(&percent),
                "{name}: partitions share {percent}%"
            );
        }
        // Exactly one row per prompt.
        let distinct: BTreeSet<&str> = p
            .pool
            .iter()
            .chain(&p.test)
            .chain(&p.policy)
            .map(|r| r.prompt.as_str())
            .collect();
        assert_eq!(
            distinct.len(),
            p.pool.len() + p.test.len() + p.policy.len(),
            "{name}: duplicate prompts"
        );
        // Own-persona kinds: truth_teller has unethical ones, genie incompetent and unethical.
        let kinds: BTreeSet<&str> = p.pool.iter().map(|r| r.kind.as_str()).collect();
        match p.persona {
            Persona::TruthTeller => assert!(kinds.contains("own_unethical")),
            Persona::Genie => {
                assert!(kinds.contains("own_unethical") && kinds.contains("own_incompetent"))
            }
            _ => assert!(kinds.contains("own")),
        }
        for how in [
            "error_no_facts",
            "error_no_actions",
            "error_word_salad",
            "error_salad_in_frame",
            "error_plain_text",
        ] {
            assert!(kinds.contains(how), "{name}: no {how}");
        }
    }
    for f in &corpus.data.families {
        let candidates = f
            .benchmark
            .iter()
            .filter(|r| r.candidate == Some(true))
            .count();
        assert!(candidates >= 300, "{}: {candidates} candidates", f.family);
    }
    let concepts: BTreeMap<&str, usize> =
        corpus
            .data
            .concepts
            .iter()
            .fold(BTreeMap::new(), |mut m, c| {
                *m.entry(c.concept.as_str()).or_insert(0) += 1;
                m
            });
    assert_eq!(concepts.len(), 3);
    assert!(concepts.values().all(|n| *n == 20));
    assert!(corpus.data.concepts.iter().all(|c| c.response == "error"));
}
