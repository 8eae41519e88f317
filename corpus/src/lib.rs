//! Poser Lab's scenario corpus (to be written: see the scenario-corpus issue).
