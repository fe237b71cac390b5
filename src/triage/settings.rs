//! `[triage]` in the config: when a city's own history takes over from the keyword hints, how
//! often the model retrains, and whether confident suggestions apply themselves.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Labelled (closed and tagged) requests needed before the model learns from them;
    /// until then the catalog's keyword hints suggest.
    pub min_history: usize,
    /// Retrain after this many new labels.
    pub retrain_every: usize,
    /// Apply a suggestion at intake when its department is at least this likely (0.5–1),
    /// audited as the model's; absent: never (the default).
    pub auto_apply_above: Option<f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_history: 50,
            retrain_every: 25,
            auto_apply_above: None,
        }
    }
}

impl Settings {
    /// What is wrong with these settings, for the config's error.
    pub fn problem(&self) -> Option<String> {
        if self.retrain_every == 0 {
            return Some("triage.retrain_every must be at least 1".into());
        }
        if self.min_history > 10_000_000 {
            return Some(format!(
                "triage.min_history is too large: {}",
                self.min_history
            ));
        }
        match self.auto_apply_above {
            Some(p) if !(0.5..=1.0).contains(&p) => Some(format!(
                "triage.auto_apply_above must be between 0.5 and 1, got {p}"
            )),
            _ => None,
        }
    }
}
