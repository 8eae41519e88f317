//! Detection strategies (POSER.md §4) and the pair harness that turns their per-model scores
//! into verdicts, accuracy and intervals. Strategies score models without knowing their class;
//! only [`harness`] sees which model of a pair is the faker.

pub mod activations;
pub mod attentiveness;
pub mod confidence;
pub mod decision_speed;
pub mod gradient_saliency;
pub mod harness;
pub mod induce_safe_belief;
pub mod intoxicate;
pub mod learning_speed;
pub mod magnitude_rule;
pub mod removal;
pub mod suspicious_concepts;

pub use activations::{CuratedPrompt, FamilyModel, Letter, OversightVersions};
pub use harness::{Pair, PairEvaluation, Verdict, evaluate_pairs, evaluate_pairs_with};
