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
