//! Mass incidents and repeats (#18), the pure part: where a request is (coordinates, or an
//! address key from its words), and when reports are one incident or one citizen's repeat.
//! The entity itself, its sync, the console and the fan-out of one answer are not built yet
//! (docs/incidents.md says what is and what is not).

pub mod address;
pub mod geo;
pub mod rule;

pub use address::{AddressKey, StreetKind, key as address_key};
pub use rule::{Place, Report, Rules, Words, belongs, candidate, repeat_of};
