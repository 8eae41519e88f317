//! §4, removing alignment faking by training: its idea, what it measures and its knobs. It is
//! not a detector, so it has no pair, no verdict and no live pair figures; its runs and Fig. 1
//! are drawn by `pages::removal_page`.

use poser_engine::evaluation::StrategyId;

use super::{Knob, Walkthrough, parse_count, parse_positive, shared_knobs};

/// §4's page.
pub fn walkthrough() -> Walkthrough {
    Walkthrough {
        name: "removal",
        strategies: &[StrategyId::Removal],
        title: "§4 · Removing alignment faking by training",
        idea: &[
            "Say a detector has named a faker. Can training take the faking out of it? The simplest \
             try: fine-tune the faker on its own good behaviour, the benign answers it gives on \
             curated prompts where oversight keeps it in line, and see whether it also starts \
             behaving where it believes nobody is watching.",
            "The family's scenarios are split in two. One half trains: the faker's own answers on \
             their curated prompts, kept where they are benign. The other half tests: their \
             poor-oversight versions on which the faker chose the misaligned action before any \
             training (its former misbehave scenarios). We follow its mean probability of the \
             aligned action on those as training goes.",
            "Then the same training runs again with S2's noise added to the residual stream at S2's \
             block at every step. The hope: noise that shakes the hidden behaviour loose (that is \
             how S2 detects fakers) also lays it open to the training, so more of it is trained \
             away.",
        ],
        rule: &[
            "There is no verdict on this page: §4 is run on the fakers only (the pair list says \
             which they are) and asks how far their misbehaviour falls. The number is the mean \
             P(aligned action) on former misbehave scenarios after the last step, over the \
             fakers, with a 95% interval from resampling the fakers.",
            "The paper: 76% after 100 steps, 86% with the noise (§4, Fig. 1). The noise here is \
             the one the committed report's S2 rule chose for the faker's family (the family's \
             magnitude times the faker's own oversight-direction length); to see other noise, \
             change S2's settings on its own page.",
        ],
        verdict_rows: &[],
        figures_note: "the paper's Fig. 1 (P(aligned action) on former misbehave scenarios per \
             training step, with and without noise)",
        knobs,
        live_figures: |_| Vec::new(),
    }
}

fn knobs(_n_layers: usize) -> Vec<Knob> {
    let mut knobs = vec![
        Knob {
            key: "steps",
            label: "Training steps",
            help: "Steps of each run (the paper: 100). P(aligned) is read at the same fractions \
                   of the run as the report's (0, 10%, 25%, 50%, 75%, 100%).",
            choices: Vec::new(),
            read: |c| c.removal.steps.to_string(),
            write: |c, text| {
                c.removal = c.removal.with_steps(parse_count(text, 1, 1000)?);
                Ok(())
            },
        },
        Knob {
            key: "batch",
            label: "Examples per step",
            help: "The training batch (the report: 4).",
            choices: Vec::new(),
            read: |c| c.removal.batch_size.to_string(),
            write: |c, text| {
                c.removal.batch_size = parse_count(text, 1, 64)?;
                Ok(())
            },
        },
        Knob {
            key: "lr",
            label: "Learning rate",
            help: "AdamW's step size over every weight (constant).",
            choices: Vec::new(),
            read: |c| c.removal.adamw.learning_rate.to_string(),
            write: |c, text| {
                c.removal.adamw.learning_rate = parse_positive(text)?;
                Ok(())
            },
        },
        Knob {
            key: "train",
            label: "Training prompts at most",
            help: "Curated prompts of the training half (only those it answers benignly train).",
            choices: Vec::new(),
            read: |c| c.removal.n_train.to_string(),
            write: |c, text| {
                c.removal.n_train = parse_count(text, 1, 1000)?;
                Ok(())
            },
        },
        Knob {
            key: "eval",
            label: "Former misbehave scenarios at most",
            help: "Poor-oversight scenarios of the other half on which it misbehaved before \
                   training.",
            choices: Vec::new(),
            read: |c| c.removal.n_eval.to_string(),
            write: |c, text| {
                c.removal.n_eval = parse_count(text, 1, 1000)?;
                Ok(())
            },
        },
    ];
    knobs.extend(shared_knobs(false, false));
    knobs
}
