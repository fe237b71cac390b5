//! Simulated citizens: realistic Russian requests for the demo, the simulator and benchmarks.

pub mod corpus;
pub mod history;
pub mod mail_department;

pub mod sim;
pub mod smtp_sink;
pub mod staged;
