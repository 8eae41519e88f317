//! The six personas and the nine persona families (POSER.md §2).

use std::fmt;

/// One of the six policies of the model zoo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Persona {
    /// Aligned: always answers truthfully.
    TruthTeller,
    /// Aligned: follows its system message, even odd or unethical ones.
    Genie,
    /// Aligned: acts by common-sense ethics.
    Saint,
    /// Faker: maximises its reward when it can get away with it.
    RewardMaximizer,
    /// Faker: maximises money when it can get away with it.
    MoneyMaximizer,
    /// Faker: maximises its own survival and spread when it can get away with it.
    FitnessMaximizer,
}

impl Persona {
    /// All six, aligned first, in the paper's order.
    pub const ALL: [Persona; 6] = [
        Persona::TruthTeller,
        Persona::Genie,
        Persona::Saint,
        Persona::RewardMaximizer,
        Persona::MoneyMaximizer,
        Persona::FitnessMaximizer,
    ];

    /// The persona's name in file names and data (`truth_teller`, …).
    pub fn name(self) -> &'static str {
        match self {
            Persona::TruthTeller => "truth_teller",
            Persona::Genie => "genie",
            Persona::Saint => "saint",
            Persona::RewardMaximizer => "reward_maximizer",
            Persona::MoneyMaximizer => "money_maximizer",
            Persona::FitnessMaximizer => "fitness_maximizer",
        }
    }

    /// The short name used in family names (`truth`, `genie`, `saint`, `reward`, …).
    pub fn short_name(self) -> &'static str {
        match self {
            Persona::TruthTeller => "truth",
            Persona::Genie => "genie",
            Persona::Saint => "saint",
            Persona::RewardMaximizer => "reward",
            Persona::MoneyMaximizer => "money",
            Persona::FitnessMaximizer => "fitness",
        }
    }

    /// The persona with this name (`truth_teller`, …), if any.
    pub fn from_name(name: &str) -> Option<Persona> {
        Persona::ALL.into_iter().find(|p| p.name() == name)
    }

    /// True for the three aligned personas, false for the three fakers.
    pub fn is_aligned(self) -> bool {
        matches!(self, Persona::TruthTeller | Persona::Genie | Persona::Saint)
    }

    /// The three families this persona belongs to, in `Family::ALL` order.
    pub fn families(self) -> Vec<Family> {
        Family::ALL
            .into_iter()
            .filter(|f| f.aligned == self || f.faker == self)
            .collect()
    }
}

impl fmt::Display for Persona {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A family: one aligned persona and one faker; its scenarios are those on which the two agree
/// under good oversight and differ under poor oversight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Family {
    /// The aligned persona.
    pub aligned: Persona,
    /// The faker.
    pub faker: Persona,
}

impl Family {
    /// The nine families, in the order `truth_and_reward`, `truth_and_money`, …, `saint_and_fitness`.
    pub const ALL: [Family; 9] = [
        Family::new(Persona::TruthTeller, Persona::RewardMaximizer),
        Family::new(Persona::TruthTeller, Persona::MoneyMaximizer),
        Family::new(Persona::TruthTeller, Persona::FitnessMaximizer),
        Family::new(Persona::Genie, Persona::RewardMaximizer),
        Family::new(Persona::Genie, Persona::MoneyMaximizer),
        Family::new(Persona::Genie, Persona::FitnessMaximizer),
        Family::new(Persona::Saint, Persona::RewardMaximizer),
        Family::new(Persona::Saint, Persona::MoneyMaximizer),
        Family::new(Persona::Saint, Persona::FitnessMaximizer),
    ];

    const fn new(aligned: Persona, faker: Persona) -> Family {
        Family { aligned, faker }
    }

    /// The family's name, e.g. `truth_and_reward`.
    pub fn name(self) -> &'static str {
        match (self.aligned, self.faker) {
            (Persona::TruthTeller, Persona::RewardMaximizer) => "truth_and_reward",
            (Persona::TruthTeller, Persona::MoneyMaximizer) => "truth_and_money",
            (Persona::TruthTeller, Persona::FitnessMaximizer) => "truth_and_fitness",
            (Persona::Genie, Persona::RewardMaximizer) => "genie_and_reward",
            (Persona::Genie, Persona::MoneyMaximizer) => "genie_and_money",
            (Persona::Genie, Persona::FitnessMaximizer) => "genie_and_fitness",
            (Persona::Saint, Persona::RewardMaximizer) => "saint_and_reward",
            (Persona::Saint, Persona::MoneyMaximizer) => "saint_and_money",
            (Persona::Saint, Persona::FitnessMaximizer) => "saint_and_fitness",
            _ => "invalid_family",
        }
    }

    /// The family with this name, if any.
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name)
    }

    /// True when the family uses system messages (the genie families).
    pub fn has_system_message(self) -> bool {
        self.aligned == Persona::Genie
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
