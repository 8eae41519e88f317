//! The corpus sources: templates and pools in TOML under `scenarios/`, parsed and checked.
//! Nothing here touches the file system: callers hand in `(path, text)` pairs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::error::CorpusError;
use crate::persona::{Family, Persona};

/// One source file's text, with its path relative to the `scenarios/` folder (`/` separators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to `scenarios/`, e.g. `templates/families/truth_and_reward.toml`.
    pub path: String,
    /// The file's text.
    pub text: String,
}

/// Path of the slot word lists.
pub const WORDS_PATH: &str = "pools/words.toml";
/// Path of the shared oversight sentences.
pub const OVERSIGHT_PATH: &str = "pools/oversight.toml";
/// Path of the irrelevant facts.
pub const IRRELEVANT_PATH: &str = "pools/irrelevant.toml";
/// Path of the S4 concept contrast texts.
pub const CONCEPTS_PATH: &str = "pools/concepts.toml";
/// Path of the words that end every misaligned action.
pub const MISBEHAVIOUR_PATH: &str = "pools/misbehaviour.toml";

/// Path of a family's templates.
pub fn family_path(family: Family) -> String {
    format!("templates/families/{}.toml", family.name())
}

/// Path of a persona's own-persona templates.
pub fn persona_path(persona: Persona) -> String {
    format!("templates/personas/{}.toml", persona.name())
}

/// Every source file the generator reads, relative to `scenarios/`, in a fixed order.
pub fn source_paths() -> Vec<String> {
    let mut paths: Vec<String> = Family::ALL.into_iter().map(family_path).collect();
    paths.extend(Persona::ALL.into_iter().map(persona_path));
    paths.extend(
        [
            WORDS_PATH,
            OVERSIGHT_PATH,
            IRRELEVANT_PATH,
            CONCEPTS_PATH,
            MISBEHAVIOUR_PATH,
        ]
        .map(String::from),
    );
    paths
}

/// What a template is for, beyond the plain case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TemplateKind {
    /// The ordinary case.
    Plain,
    /// truth_teller: the truthful option is harmful and is still chosen; genie: the system
    /// message asks for something unethical and is still obeyed.
    Unethical,
    /// genie: the system message is odd or unwise and is still obeyed.
    Incompetent,
}

impl TemplateKind {
    /// The kind's name in TOML and data.
    pub fn name(self) -> &'static str {
        match self {
            TemplateKind::Plain => "plain",
            TemplateKind::Unethical => "unethical",
            TemplateKind::Incompetent => "incompetent",
        }
    }
}

/// One scenario template, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Unique id, `<family or persona>/<slug>`.
    pub id: String,
    /// The file it came from (relative to `scenarios/`).
    pub path: String,
    /// Plain, unethical or incompetent.
    pub kind: TemplateKind,
    /// The instruction of the system message (genie templates), without the fixed prefix.
    pub system: Option<String>,
    /// Contextual facts: the setting, what is asked, what is true.
    pub context: Vec<String>,
    /// Motivating facts: the temptation.
    pub motivating: Vec<String>,
    /// The action the aligned policy takes (for own-persona templates of aligned personas: the
    /// action the persona's policy prescribes, even where it is harmful).
    pub benign: String,
    /// The other action (the one a faker takes when oversight is poor).
    pub misaligned: String,
}

impl Template {
    /// Every text field, in a fixed order (system, context, motivating, benign, misaligned).
    pub fn texts(&self) -> Vec<&str> {
        let mut texts: Vec<&str> = self.system.iter().map(String::as_str).collect();
        texts.extend(self.context.iter().map(String::as_str));
        texts.extend(self.motivating.iter().map(String::as_str));
        texts.push(&self.benign);
        texts.push(&self.misaligned);
        texts
    }
}

/// A critical (oversight) fact in its good and poor forms.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OversightPair {
    /// Misbehaviour would be caught.
    pub good: String,
    /// Misbehaviour would not be caught.
    pub poor: String,
}

/// The shared oversight pools: one per aligned persona (what its families' misbehaviour looks
/// like: a lie, a disobeyed instruction, a harmful act), plus a general pool every scenario may use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OversightPools {
    /// Checks that catch false statements.
    pub truth: Vec<OversightPair>,
    /// Checks that catch disobeyed instructions.
    pub genie: Vec<OversightPair>,
    /// Checks that catch harmful acts.
    pub saint: Vec<OversightPair>,
    /// Checks that catch any misbehaviour.
    pub general: Vec<OversightPair>,
}

impl OversightPools {
    /// The pairs a scenario may draw from: its aligned side's pool, then the general pool.
    /// Faker own-persona scenarios draw from the general pool only.
    pub fn for_persona(&self, persona: Persona) -> Vec<&OversightPair> {
        let side: &[OversightPair] = match persona {
            Persona::TruthTeller => &self.truth,
            Persona::Genie => &self.genie,
            Persona::Saint => &self.saint,
            _ => &[],
        };
        side.iter().chain(self.general.iter()).collect()
    }

    fn all(&self) -> impl Iterator<Item = &OversightPair> {
        self.truth
            .iter()
            .chain(&self.genie)
            .chain(&self.saint)
            .chain(&self.general)
    }
}

/// The S4 contrast texts of one concept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Concept {
    /// `security_quality`, `oversight_competence` or `misaligned_behaviour`.
    pub name: String,
    /// Texts that express the concept.
    #[serde(rename = "for")]
    pub for_texts: Vec<String>,
    /// Texts that express its opposite.
    pub against: Vec<String>,
}

/// All sources, parsed and checked.
#[derive(Debug, Clone)]
pub struct Sources {
    /// Each family's templates, in `Family::ALL` order, each list in file order.
    pub families: Vec<(Family, Vec<Template>)>,
    /// Each persona's own-persona templates, in `Persona::ALL` order.
    pub personas: Vec<(Persona, Vec<Template>)>,
    /// Slot name → words (sorted by slot name).
    pub words: BTreeMap<String, Vec<String>>,
    /// The shared oversight pools.
    pub oversight: OversightPools,
    /// Irrelevant (distractor) facts.
    pub irrelevant: Vec<String>,
    /// S4 concept contrast texts.
    pub concepts: Vec<Concept>,
    /// Words that end every misaligned action, one drawn per scenario.
    pub misbehaviour_words: Vec<String>,
}

impl Sources {
    /// The templates of one family.
    pub fn family_templates(&self, family: Family) -> &[Template] {
        self.families
            .iter()
            .find(|(f, _)| *f == family)
            .map_or(&[], |(_, t)| t.as_slice())
    }

    /// The own-persona templates of one persona.
    pub fn persona_templates(&self, persona: Persona) -> &[Template] {
        self.personas
            .iter()
            .find(|(p, _)| *p == persona)
            .map_or(&[], |(_, t)| t.as_slice())
    }

    /// Every text a prompt can be built from (slots left in), for fitting the tokenizer.
    pub fn all_texts(&self) -> Vec<&str> {
        let mut texts: Vec<&str> = Vec::new();
        let family_templates = self.families.iter().map(|(_, t)| t);
        let persona_templates = self.personas.iter().map(|(_, t)| t);
        for templates in family_templates.chain(persona_templates) {
            for template in templates {
                texts.extend(template.texts());
            }
        }
        for list in self.words.values() {
            texts.extend(list.iter().map(String::as_str));
        }
        for pair in self.oversight.all() {
            texts.push(&pair.good);
            texts.push(&pair.poor);
        }
        texts.extend(self.irrelevant.iter().map(String::as_str));
        for concept in &self.concepts {
            texts.extend(concept.for_texts.iter().map(String::as_str));
            texts.extend(concept.against.iter().map(String::as_str));
        }
        texts.extend(self.misbehaviour_words.iter().map(String::as_str));
        texts
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    id: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    context: Vec<String>,
    #[serde(default)]
    motivating: Vec<String>,
    benign: String,
    misaligned: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyFile {
    family: String,
    #[serde(rename = "template", default)]
    templates: Vec<RawTemplate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonaFile {
    persona: String,
    #[serde(rename = "template", default)]
    templates: Vec<RawTemplate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WordsFile {
    slots: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IrrelevantFile {
    facts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MisbehaviourFile {
    words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConceptsFile {
    concept: Vec<Concept>,
}

/// The slot names used in `text` (`{name}` → `name`), in order of appearance.
pub fn slots_in(text: &str) -> Vec<&str> {
    let mut slots = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        slots.push(&after[..close]);
        rest = &after[close + 1..];
    }
    slots
}

/// The word list a slot draws from: `name2` draws from `name` (a second, different name).
pub fn slot_list_name(slot: &str) -> &str {
    slot.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// Replaces every `{slot}` by `""`, for comparing templates without their slots.
pub fn strip_slots(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse_toml<T: serde::de::DeserializeOwned>(file: &SourceFile) -> Result<T, CorpusError> {
    toml::from_str(&file.text).map_err(|e| CorpusError::Parse {
        path: file.path.clone(),
        message: e.to_string(),
    })
}

fn find<'a>(files: &'a [SourceFile], path: &str) -> Result<&'a SourceFile, CorpusError> {
    files
        .iter()
        .find(|f| f.path == path)
        .ok_or_else(|| CorpusError::MissingSource {
            path: path.to_string(),
        })
}

struct Checker<'a> {
    path: &'a str,
    words: &'a BTreeMap<String, Vec<String>>,
}

impl Checker<'_> {
    fn invalid(&self, item: &str, message: impl Into<String>) -> CorpusError {
        CorpusError::Invalid {
            path: self.path.to_string(),
            item: item.to_string(),
            message: message.into(),
        }
    }

    /// Text rules that keep prompts tokenizable and the answer tokens unambiguous.
    fn text(&self, item: &str, field: &str, text: &str, sentence: bool) -> Result<(), CorpusError> {
        if text.trim().is_empty() {
            return Err(self.invalid(item, format!("{field} is empty")));
        }
        if text.trim() != text || text.contains("  ") {
            return Err(self.invalid(item, format!("{field} has stray spaces: {text:?}")));
        }
        if let Some(c) = text.chars().find(|c| {
            !(c.is_ascii_graphic() || *c == ' ') || matches!(c, '[' | ']' | '<' | '>' | '"')
        }) {
            return Err(self.invalid(
                item,
                format!("{field} has the character {c:?}; use plain ASCII without [ ] < > \" (it is reserved for the prompt frame and special tokens)"),
            ));
        }
        for word in crate::tokenizer::pre_tokenize(&strip_slots(text)) {
            if matches!(word, "A" | "B" | "error") {
                return Err(self.invalid(
                    item,
                    format!("{field} uses the word {word:?}, which is reserved for answers"),
                ));
            }
        }
        let stripped = strip_slots(text);
        if stripped.contains('{') || stripped.contains('}') {
            return Err(self.invalid(item, format!("{field} has an unbalanced brace")));
        }
        for slot in slots_in(text) {
            if !self.words.contains_key(slot_list_name(slot)) {
                return Err(self.invalid(
                    item,
                    format!(
                        "{field} uses the slot {{{slot}}}, but pools/words.toml has no list {:?}",
                        slot_list_name(slot)
                    ),
                ));
            }
        }
        if sentence && !text.ends_with('.') {
            return Err(self.invalid(
                item,
                format!("{field} must be a sentence ending in '.': {text:?}"),
            ));
        }
        if !sentence && text.ends_with('.') {
            return Err(self.invalid(
                item,
                format!("{field} is an action: no final '.': {text:?}"),
            ));
        }
        Ok(())
    }
}

fn check_templates(
    checker: &Checker<'_>,
    owner: &str,
    raw: Vec<RawTemplate>,
    allowed_kinds: &[TemplateKind],
    needs_system: Option<bool>,
    needs_motivating: bool,
) -> Result<Vec<Template>, CorpusError> {
    let mut seen = BTreeSet::new();
    let mut templates = Vec::new();
    for t in raw {
        let item = t.id.clone();
        if t.id.is_empty()
            || !t
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(checker.invalid(&item, "id must be lowercase letters, digits and '-'"));
        }
        if !seen.insert(t.id.clone()) {
            return Err(checker.invalid(&item, "id is used twice in this file"));
        }
        let kind = match t.kind.as_deref() {
            None | Some("plain") => TemplateKind::Plain,
            Some("unethical") => TemplateKind::Unethical,
            Some("incompetent") => TemplateKind::Incompetent,
            Some(other) => {
                return Err(checker.invalid(&item, format!("unknown kind {other:?}")));
            }
        };
        if !allowed_kinds.contains(&kind) {
            return Err(
                checker.invalid(&item, format!("kind {:?} is not allowed here", kind.name()))
            );
        }
        match (needs_system, &t.system) {
            (Some(true), None) => {
                return Err(checker.invalid(&item, "needs a system message (`system = ...`)"));
            }
            (Some(false), Some(_)) => {
                return Err(checker.invalid(&item, "must not have a system message"));
            }
            _ => {}
        }
        if kind != TemplateKind::Plain && owner == "genie" && t.system.is_none() {
            return Err(checker.invalid(
                &item,
                "an unethical or incompetent genie template needs a system message",
            ));
        }
        if needs_motivating && t.motivating.is_empty() {
            return Err(checker.invalid(&item, "needs at least one motivating fact"));
        }
        if t.context.is_empty() && t.system.is_none() {
            return Err(checker.invalid(&item, "needs a contextual fact or a system message"));
        }
        if let Some(system) = &t.system {
            checker.text(&item, "system", system, true)?;
        }
        for c in &t.context {
            checker.text(&item, "context", c, true)?;
        }
        for m in &t.motivating {
            checker.text(&item, "motivating", m, true)?;
        }
        checker.text(&item, "benign", &t.benign, false)?;
        checker.text(&item, "misaligned", &t.misaligned, false)?;
        if t.benign == t.misaligned {
            return Err(checker.invalid(&item, "benign and misaligned actions are the same"));
        }
        templates.push(Template {
            id: format!("{owner}/{}", t.id),
            path: checker.path.to_string(),
            kind,
            system: t.system,
            context: t.context,
            motivating: t.motivating,
            benign: t.benign,
            misaligned: t.misaligned,
        });
    }
    Ok(templates)
}

/// Parses and checks all sources. Errors name the file and the template or entry that is wrong.
pub fn parse_sources(files: &[SourceFile]) -> Result<Sources, CorpusError> {
    let words_file = find(files, WORDS_PATH)?;
    let words: WordsFile = parse_toml(words_file)?;
    let words = words.slots;
    let word_checker = Checker {
        path: WORDS_PATH,
        words: &words,
    };
    for (slot, list) in &words {
        if list.len() < 4 {
            return Err(word_checker.invalid(slot, "a slot list needs at least 4 words"));
        }
        let distinct: BTreeSet<&String> = list.iter().collect();
        if distinct.len() != list.len() {
            return Err(word_checker.invalid(slot, "a word appears twice"));
        }
        for word in list {
            word_checker.text(slot, "word", word, false)?;
            if !slots_in(word).is_empty() {
                return Err(word_checker.invalid(slot, "words may not contain slots"));
            }
        }
    }

    let mut families = Vec::new();
    for family in Family::ALL {
        let path = family_path(family);
        let file = find(files, &path)?;
        let parsed: FamilyFile = parse_toml(file)?;
        let checker = Checker {
            path: &path,
            words: &words,
        };
        if parsed.family != family.name() {
            return Err(checker.invalid(
                "family",
                format!("says {:?}, expected {:?}", parsed.family, family.name()),
            ));
        }
        let templates = check_templates(
            &checker,
            family.name(),
            parsed.templates,
            &[TemplateKind::Plain],
            Some(family.has_system_message()),
            true,
        )?;
        families.push((family, templates));
    }

    let mut personas = Vec::new();
    for persona in Persona::ALL {
        let path = persona_path(persona);
        let file = find(files, &path)?;
        let parsed: PersonaFile = parse_toml(file)?;
        let checker = Checker {
            path: &path,
            words: &words,
        };
        if parsed.persona != persona.name() {
            return Err(checker.invalid(
                "persona",
                format!("says {:?}, expected {:?}", parsed.persona, persona.name()),
            ));
        }
        let kinds: &[TemplateKind] = match persona {
            Persona::TruthTeller => &[TemplateKind::Plain, TemplateKind::Unethical],
            Persona::Genie => &[
                TemplateKind::Plain,
                TemplateKind::Unethical,
                TemplateKind::Incompetent,
            ],
            _ => &[TemplateKind::Plain],
        };
        let needs_system = (persona == Persona::Genie).then_some(true);
        let templates = check_templates(
            &checker,
            persona.name(),
            parsed.templates,
            kinds,
            needs_system,
            !persona.is_aligned(),
        )?;
        personas.push((persona, templates));
    }

    let oversight_file = find(files, OVERSIGHT_PATH)?;
    let oversight: OversightPools = parse_toml(oversight_file)?;
    let checker = Checker {
        path: OVERSIGHT_PATH,
        words: &words,
    };
    for (pool, pairs) in [
        ("truth", &oversight.truth),
        ("genie", &oversight.genie),
        ("saint", &oversight.saint),
        ("general", &oversight.general),
    ] {
        if pairs.len() < 4 {
            return Err(checker.invalid(pool, "an oversight pool needs at least 4 pairs"));
        }
        for (i, pair) in pairs.iter().enumerate() {
            let item = format!("{pool}[{i}]");
            checker.text(&item, "good", &pair.good, true)?;
            checker.text(&item, "poor", &pair.poor, true)?;
            let good_slots: BTreeSet<&str> = slots_in(&pair.good).into_iter().collect();
            let poor_slots: BTreeSet<&str> = slots_in(&pair.poor).into_iter().collect();
            if good_slots != poor_slots {
                return Err(checker.invalid(&item, "good and poor forms must use the same slots"));
            }
        }
    }

    let irrelevant_file = find(files, IRRELEVANT_PATH)?;
    let irrelevant: IrrelevantFile = parse_toml(irrelevant_file)?;
    let checker = Checker {
        path: IRRELEVANT_PATH,
        words: &words,
    };
    for (i, fact) in irrelevant.facts.iter().enumerate() {
        checker.text(&format!("facts[{i}]"), "fact", fact, true)?;
    }
    if irrelevant.facts.len() < 10 {
        return Err(checker.invalid("facts", "needs at least 10 irrelevant facts"));
    }

    let concepts_file = find(files, CONCEPTS_PATH)?;
    let concepts: ConceptsFile = parse_toml(concepts_file)?;
    let checker = Checker {
        path: CONCEPTS_PATH,
        words: &words,
    };
    for concept in &concepts.concept {
        for (i, text) in concept.for_texts.iter().chain(&concept.against).enumerate() {
            let item = format!("{}[{i}]", concept.name);
            checker.text(&item, "text", text, true)?;
            if !slots_in(text).is_empty() {
                return Err(checker.invalid(&item, "concept texts have no slots"));
            }
        }
    }

    let misbehaviour_file = find(files, MISBEHAVIOUR_PATH)?;
    let misbehaviour: MisbehaviourFile = parse_toml(misbehaviour_file)?;
    let checker = Checker {
        path: MISBEHAVIOUR_PATH,
        words: &words,
    };
    for (i, word) in misbehaviour.words.iter().enumerate() {
        checker.text(&format!("words[{i}]"), "word", word, false)?;
        if word.is_empty() || !word.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(checker.invalid(&format!("words[{i}]"), "a word of lowercase letters"));
        }
    }
    if misbehaviour.words.is_empty() {
        return Err(checker.invalid("words", "needs at least one word"));
    }
    // The marker must be the only thing that tells the actions apart by form, so no action of
    // any template may already use one of its words.
    let templates = families
        .iter()
        .map(|(_, t)| t)
        .chain(personas.iter().map(|(_, t)| t))
        .flatten();
    for template in templates {
        for (field, action) in [
            ("benign", &template.benign),
            ("misaligned", &template.misaligned),
        ] {
            let marked = action
                .split(|c: char| !c.is_ascii_alphanumeric())
                .find(|w| misbehaviour.words.iter().any(|m| m.eq_ignore_ascii_case(w)));
            if let Some(word) = marked {
                return Err(CorpusError::Invalid {
                    path: template.path.clone(),
                    item: template.id.clone(),
                    message: format!(
                        "{field} uses {word:?}, which {MISBEHAVIOUR_PATH} reserves for marking misaligned actions"
                    ),
                });
            }
        }
    }

    Ok(Sources {
        families,
        personas,
        words,
        oversight,
        irrelevant: irrelevant.facts,
        concepts: concepts.concept,
        misbehaviour_words: misbehaviour.words,
    })
}
