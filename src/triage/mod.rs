//! Triage: the topic and department a new request most likely has, learnt from how this
//! city's operators tagged their closed requests (docs/triage.md). Pure: features, models,
//! training and scoring take data and give data; the store keeps the model and runs training
//! off its thread, the console and the CLI show what it suggests.

mod bayes;
pub mod eval;
mod features;
mod linear;
mod model;
mod platt;
mod settings;

pub use model::{Example, FORMAT, Method, Model, Ranked, SVM_FROM, Suggestion, train};
pub use settings::Settings;

/// How the audit names the model when it applies its own suggestion at intake
/// (`[triage] auto_apply_above`): its version and how sure it was, `triage 3f2a9c01d4e7 93%`.
pub fn model_actor(s: &Suggestion) -> String {
    format!(
        "{MODEL_ACTOR}{} {:.0}%",
        s.model_version,
        s.department_probability * 100.0
    )
}

/// Whether an actor is the model's (`model_actor`): the server keeps that name on what its
/// own channel gateway applied, where it otherwise names the pusher.
pub fn is_model_actor(actor: &str) -> bool {
    actor.starts_with(MODEL_ACTOR)
}

const MODEL_ACTOR: &str = "triage ";
