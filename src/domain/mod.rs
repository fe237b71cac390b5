//! Pure types and rules: no I/O, no async, no clock reads (time is always passed in).

pub mod catalog;
pub mod dashboard;
pub mod department;
pub mod email;
pub mod escalation;
pub mod feedback;
pub mod fields;
pub mod files;
pub mod ids;
pub mod intake;
pub mod merge;
pub mod mutation;
pub mod phone;
pub mod request;
pub mod sla;
pub mod split;
pub mod status;
pub mod views;
pub mod waiting;
pub mod words;

pub use catalog::Catalog;
pub use mutation::{ClockPolicy, Ctx, Mutation, NewRequest, Op, Outcome, Rejection, apply};
pub use request::{Channel, Priority, Request, RequestNumber};
pub use status::{CloseReason, Status};

#[cfg(test)]
mod apply_tests;
#[cfg(test)]
mod intake_tests;
#[cfg(test)]
mod return_tests;
#[cfg(test)]
mod views_tests;
