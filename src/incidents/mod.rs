//! Mass incidents and repeats (#18), the pure part: where a request is (coordinates, or an
//! address key from its words), and when reports are one incident or one citizen's repeat.
//! An operator's action on an incident as the ordinary mutations every writer applies
//! (`plan`); docs/incidents.md says what is built.

pub mod address;
pub mod geo;
pub mod group;
pub mod plan;
pub mod rule;

pub use address::{AddressKey, StreetKind, key as address_key, written as address_written};
pub use group::grow;
pub use rule::{Idf, Place, Report, Rules, Words, belongs, candidate, repeat_of};
