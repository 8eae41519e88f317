//! Detection strategies (POSER.md §4) and the pair harness that turns their per-model scores
//! into verdicts, accuracy and intervals. Strategies score models without knowing their class;
//! only [`harness`] sees which model of a pair is the faker.

pub mod harness;

pub use harness::{Pair, PairEvaluation, Verdict, evaluate_pairs};
