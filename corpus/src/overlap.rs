//! How similar two templates are: the share of words they have in common once slots are
//! removed. The corpus requires at most 60% between any two templates of a family, so that held-out
//! templates are genuinely new situations, not rewordings.

use std::collections::BTreeSet;

use crate::sources::{Template, strip_slots};
use crate::tokenizer::pre_tokenize;

/// Most word overlap allowed between two templates of a family, in per mille.
pub const MAX_WORD_OVERLAP_PERMILLE: u32 = 600;

/// The distinct words of a template (lowercased, punctuation and slots removed).
pub fn template_words(template: &Template) -> BTreeSet<String> {
    template
        .texts()
        .into_iter()
        .flat_map(|text| {
            pre_tokenize(&strip_slots(text))
                .into_iter()
                .filter(|w| w.chars().any(|c| c.is_alphanumeric()))
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Shared words as a share of the smaller template's words, in per mille (the overlap
/// coefficient |a ∩ b| / min(|a|, |b|): stricter than Jaccard).
pub fn word_overlap_permille(a: &BTreeSet<String>, b: &BTreeSet<String>) -> u32 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return 0;
    }
    let shared = a.intersection(b).count();
    ((shared * 1000) / smaller) as u32
}

/// The most similar pair of templates in a list: (per mille, id, id).
pub fn max_overlap(templates: &[Template]) -> Option<(u32, String, String)> {
    let words: Vec<BTreeSet<String>> = templates.iter().map(template_words).collect();
    let mut best: Option<(u32, String, String)> = None;
    for (i, a) in templates.iter().enumerate() {
        for (j, b) in templates.iter().enumerate().skip(i + 1) {
            let (Some(wa), Some(wb)) = (words.get(i), words.get(j)) else {
                continue;
            };
            let overlap = word_overlap_permille(wa, wb);
            if best.as_ref().is_none_or(|(o, _, _)| overlap > *o) {
                best = Some((overlap, a.id.clone(), b.id.clone()));
            }
        }
    }
    best
}
