//! What the CLI and the console show to people, written once for both: a request as a view,
//! the shift handover, the names of statuses and channels, the wording of refusals. It reads
//! the domain and the store's read types and knows nothing of terminals or stdout: the CLI
//! prints these, the console draws them.

pub mod audit;
pub mod channel;
pub mod feedback;
pub mod handover;
pub mod health;
pub mod merge;
pub mod names;
pub mod refusal;
pub mod reply_vars;
pub mod skew;
pub mod status;
mod view;

pub use view::{DetailView, RequestView};
