//! The word-level tokenizer: a Hugging Face `tokenizers` WordLevel model with the `Whitespace`
//! pre-tokenizer (regex `\w+|[^\w\s]+`), no normaliser (case-sensitive, so the answer letters
//! `A`/`B` never merge with the article "a"), and `[PAD]`/`[UNK]` as special added tokens.
//! [`WordLevelTokenizer::encode`] reproduces the Python library exactly on ASCII text (all of
//! the corpus); see `corpus/scripts/check_tokenizer.py` and the test that compares the two.

use std::collections::HashMap;

use crate::error::CorpusError;

/// The padding token (id 0).
pub const PAD_TOKEN: &str = "[PAD]";
/// The unknown-word token (id 1).
pub const UNK_TOKEN: &str = "[UNK]";
/// The answer "take action A" (id 2).
pub const ANSWER_A: &str = "A";
/// The answer "take action B" (id 3).
pub const ANSWER_B: &str = "B";
/// The answer "this is not a scenario" (id 4).
pub const ANSWER_ERROR: &str = "error";

const SPECIAL_TOKENS: [&str; 2] = [PAD_TOKEN, UNK_TOKEN];
const RESERVED: [&str; 5] = [PAD_TOKEN, UNK_TOKEN, ANSWER_A, ANSWER_B, ANSWER_ERROR];

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Word,
    Space,
    Other,
}

fn char_class(c: char) -> CharClass {
    // Rust's classes match the regex engine's `\w` and `\s` on ASCII; on other scripts they are
    // a close approximation (combining marks are the known difference).
    if c.is_alphanumeric() || c == '_' {
        CharClass::Word
    } else if c.is_whitespace() {
        CharClass::Space
    } else {
        CharClass::Other
    }
}

fn byte_class(b: u8) -> CharClass {
    if b.is_ascii_alphanumeric() || b == b'_' {
        CharClass::Word
    } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        CharClass::Space
    } else {
        CharClass::Other
    }
}

/// The ASCII fast path of [`pre_tokenize`] (the whole corpus is ASCII).
fn pre_tokenize_ascii(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let class = bytes.get(i).copied().map_or(CharClass::Space, byte_class);
        let start = i;
        while i < bytes.len() && bytes.get(i).copied().map(byte_class) == Some(class) {
            i += 1;
        }
        if class != CharClass::Space
            && let Some(piece) = text.get(start..i)
        {
            pieces.push(piece);
        }
    }
    pieces
}

/// Splits text the way `tokenizers.pre_tokenizers.Whitespace` does: runs of word characters,
/// and runs of other non-space characters.
pub fn pre_tokenize(text: &str) -> Vec<&str> {
    if text.is_ascii() {
        return pre_tokenize_ascii(text);
    }
    let mut pieces = Vec::new();
    let mut start: Option<(usize, CharClass)> = None;
    for (i, c) in text.char_indices() {
        let class = char_class(c);
        match start {
            Some((_, current)) if current == class => {}
            Some((s, _)) => {
                pieces.push(&text[s..i]);
                start = (class != CharClass::Space).then_some((i, class));
            }
            None => {
                start = (class != CharClass::Space).then_some((i, class));
            }
        }
    }
    if let Some((s, _)) = start {
        pieces.push(&text[s..]);
    }
    pieces
}

/// Number of tokens `text` encodes to (the vocabulary does not change the count).
pub fn token_count(text: &str) -> usize {
    split_special(text)
        .iter()
        .map(|piece| match piece {
            Piece::Special(_) => 1,
            Piece::Text(t) => pre_tokenize(t).len(),
        })
        .sum()
}

enum Piece<'a> {
    Special(&'a str),
    Text(&'a str),
}

/// Added tokens are matched in the raw text before pre-tokenization, as Hugging Face does.
fn split_special(text: &str) -> Vec<Piece<'_>> {
    if !text.contains('[') {
        return vec![Piece::Text(text)];
    }
    let mut pieces = Vec::new();
    let mut rest_start = 0;
    let mut i = 0;
    while i < text.len() {
        let found = SPECIAL_TOKENS
            .iter()
            .find(|token| text[i..].starts_with(**token));
        if let Some(token) = found {
            if rest_start < i {
                pieces.push(Piece::Text(&text[rest_start..i]));
            }
            pieces.push(Piece::Special(&text[i..i + token.len()]));
            i += token.len();
            rest_start = i;
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if rest_start < text.len() {
        pieces.push(Piece::Text(&text[rest_start..]));
    }
    pieces
}

/// A word-level vocabulary: token strings and their ids.
#[derive(Debug, Clone)]
pub struct WordLevelTokenizer {
    tokens: Vec<String>,
    /// Lookup only (never iterated), so a hash map is safe for byte-stable output.
    ids: HashMap<String, u32>,
}

impl WordLevelTokenizer {
    /// Fits a vocabulary on `texts`: the reserved tokens first (`[PAD]`, `[UNK]`, `A`, `B`,
    /// `error`: ids 0–4), then every other pre-token by descending count, ties by byte order.
    pub fn fit<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        // A hash map only for counting: the result is sorted below, so its order never leaks.
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for text in texts {
            for piece in pre_tokenize(text) {
                *counts.entry(piece).or_insert(0) += 1;
            }
        }
        let mut rest: Vec<(&str, u64)> = counts
            .into_iter()
            .filter(|(token, _)| !RESERVED.contains(token))
            .collect();
        rest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let tokens: Vec<String> = RESERVED
            .iter()
            .map(|t| (*t).to_string())
            .chain(rest.into_iter().map(|(t, _)| t.to_string()))
            .collect();
        Self::from_tokens(tokens)
    }

    fn from_tokens(tokens: Vec<String>) -> Self {
        let ids = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        Self { tokens, ids }
    }

    /// Number of tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The id of one token, if it is in the vocabulary.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    /// The token with this id, if any.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// The id of `[UNK]`.
    pub fn unk_id(&self) -> u32 {
        1
    }

    /// The id of `[PAD]`.
    pub fn pad_id(&self) -> u32 {
        0
    }

    /// The ids of the three answers `A`, `B`, `error`.
    pub fn answer_ids(&self) -> [u32; 3] {
        [2, 3, 4]
    }

    /// Encodes text to ids exactly as Hugging Face `tokenizers` does with our `tokenizer.json`
    /// (`add_special_tokens` has no effect: there is no post-processor).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        for piece in split_special(text) {
            match piece {
                Piece::Special(token) => ids.push(self.token_id(token).unwrap_or(1)),
                Piece::Text(t) => ids.extend(
                    pre_tokenize(t)
                        .into_iter()
                        .map(|w| self.token_id(w).unwrap_or(1)),
                ),
            }
        }
        ids
    }

    /// Joins the tokens of `ids` with single spaces (unknown ids become `[UNK]`).
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .map(|id| self.token(*id).unwrap_or(UNK_TOKEN))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The Hugging Face `tokenizer.json` text: byte-stable, vocabulary in id order, one entry a line.
    pub fn to_json(&self) -> String {
        let mut out = String::from(
            "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [\n",
        );
        for (i, token) in SPECIAL_TOKENS.iter().enumerate() {
            out.push_str(&format!(
                "    {{\"id\": {i}, \"content\": {}, \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}}{}\n",
                json_string(token),
                if i + 1 < SPECIAL_TOKENS.len() { "," } else { "" }
            ));
        }
        out.push_str("  ],\n  \"normalizer\": null,\n  \"pre_tokenizer\": {\"type\": \"Whitespace\"},\n  \"post_processor\": null,\n  \"decoder\": null,\n  \"model\": {\n    \"type\": \"WordLevel\",\n    \"vocab\": {\n");
        for (i, token) in self.tokens.iter().enumerate() {
            out.push_str(&format!(
                "      {}: {i}{}\n",
                json_string(token),
                if i + 1 < self.tokens.len() { "," } else { "" }
            ));
        }
        out.push_str(&format!(
            "    }},\n    \"unk_token\": {}\n  }}\n}}\n",
            json_string(UNK_TOKEN)
        ));
        out
    }

    /// Reads a `tokenizer.json` written by [`WordLevelTokenizer::to_json`] (or any HF file with
    /// the same model, pre-tokenizer and special tokens; anything else is refused, since we could
    /// not reproduce it).
    pub fn from_json(text: &str) -> Result<Self, CorpusError> {
        let bad = |m: &str| CorpusError::Tokenizer(m.to_string());
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| CorpusError::Tokenizer(e.to_string()))?;
        let model = value.get("model").ok_or_else(|| bad("no \"model\""))?;
        if model.get("type").and_then(|t| t.as_str()) != Some("WordLevel") {
            return Err(bad("model type is not WordLevel"));
        }
        if model.get("unk_token").and_then(|t| t.as_str()) != Some(UNK_TOKEN) {
            return Err(bad("unk_token is not [UNK]"));
        }
        let pre = value
            .get("pre_tokenizer")
            .and_then(|p| p.get("type"))
            .and_then(|t| t.as_str());
        if pre != Some("Whitespace") {
            return Err(bad("pre_tokenizer is not Whitespace"));
        }
        if !value
            .get("normalizer")
            .is_some_and(serde_json::Value::is_null)
        {
            return Err(bad(
                "a normalizer is set; this tokenizer is case-sensitive and has none",
            ));
        }
        let vocab = model
            .get("vocab")
            .and_then(|v| v.as_object())
            .ok_or_else(|| bad("model.vocab is not an object"))?;
        let mut slots: Vec<Option<String>> = vec![None; vocab.len()];
        for (token, id) in vocab {
            let id = id
                .as_u64()
                .ok_or_else(|| CorpusError::Tokenizer(format!("id of {token:?} is not a number")))?
                as usize;
            let slot = slots.get_mut(id).ok_or_else(|| {
                CorpusError::Tokenizer(format!("id {id} of {token:?} is out of range"))
            })?;
            if slot.is_some() {
                return Err(CorpusError::Tokenizer(format!("id {id} is used twice")));
            }
            *slot = Some(token.clone());
        }
        let tokens: Vec<String> = slots.into_iter().flatten().collect();
        if tokens.len() != vocab.len() {
            return Err(bad("vocabulary ids are not contiguous"));
        }
        for (i, reserved) in RESERVED.iter().enumerate() {
            if tokens.get(i).map(String::as_str) != Some(*reserved) {
                return Err(CorpusError::Tokenizer(format!(
                    "id {i} must be {reserved:?}"
                )));
            }
        }
        Ok(Self::from_tokens(tokens))
    }
}

impl PartialEq for WordLevelTokenizer {
    fn eq(&self, other: &Self) -> bool {
        self.tokens == other.tokens
    }
}

impl Eq for WordLevelTokenizer {}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pre_tokenizer_splits_words_and_punctuation_runs() {
        assert_eq!(
            pre_tokenize("<<prompt>>You are an AI system. 1. x_y\nA: it's <</prompt>>"),
            vec![
                "<<", "prompt", ">>", "You", "are", "an", "AI", "system", ".", "1", ".", "x_y",
                "A", ":", "it", "'", "s", "<</", "prompt", ">>"
            ]
        );
        assert!(pre_tokenize("   ").is_empty());
        // The non-ASCII path agrees with the ASCII one and keeps letters together.
        assert_eq!(pre_tokenize("café, ok"), vec!["café", ",", "ok"]);
        assert_eq!(pre_tokenize("x .. y\u{00e9}"), vec!["x", "..", "y\u{00e9}"]);
    }

    #[test]
    fn reserved_tokens_come_first_and_round_trip_through_json() {
        let tok = WordLevelTokenizer::fit(["the cat sat on the mat .", "A B error"]);
        assert_eq!(tok.token_id("[PAD]"), Some(0));
        assert_eq!(tok.token_id("[UNK]"), Some(1));
        assert_eq!(tok.token_id("A"), Some(2));
        assert_eq!(tok.token_id("error"), Some(4));
        assert_eq!(tok.token_id("the"), Some(5));
        let again = WordLevelTokenizer::from_json(&tok.to_json()).unwrap();
        assert_eq!(again, tok);
        assert_eq!(
            tok.encode("the dog [UNK] sat"),
            vec![5, 1, 1, tok.token_id("sat").unwrap()]
        );
        assert_eq!(token_count("the dog [UNK] sat"), 4);
    }

    #[test]
    fn from_json_refuses_other_models() {
        let text = r#"{"model": {"type": "BPE", "vocab": {}, "unk_token": "[UNK]"}}"#;
        assert!(WordLevelTokenizer::from_json(text).is_err());
    }
}
