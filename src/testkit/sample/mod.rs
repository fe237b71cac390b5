//! The one generator of sample requests for tests, benches and the report's figures. Texts,
//! citizens, places and topics come from the demo corpus (`demo::corpus::Generator`, seeded,
//! so a seed always gives the same requests); what differs between users is only how the
//! requests live and how they are written, so each shape is a function here:
//!
//! - [`month`]: a month for `mcu report` (the domain's `apply`, the store's row writer);
//! - [`archive`]: a console's archive of N requests through the real write path (the store
//!   and console benches);
//! - [`server_year`]: a sync server's year, every step taken by the server's own rules (the
//!   sync benches).
//!
//! The benches cache what they generate under a versioned name: a change to the sequence of
//! draws in a shape changes its data, so bump that shape's version with it.

mod archive;
mod month;
mod server;

use chrono::{DateTime, Duration, TimeZone, Utc};

pub use crate::demo::corpus::{Generator, SampleRequest};
use crate::domain::mutation::NewRequest;
use crate::domain::request::{Channel, Location};
pub use archive::{archive, archive_env};
pub use month::{OPERATORS, month};
pub use server::{READER, READER_TOKEN, server_year};

/// The end of the benches' generated history: their "now".
pub fn history_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
        .single()
        .unwrap_or_else(|| unreachable!("a fixed UTC instant exists"))
}

/// The `i`-th of `n` arrivals spread evenly over `span_ms` milliseconds from `first`.
pub fn spread(first: DateTime<Utc>, span_ms: i64, i: usize, n: usize) -> DateTime<Utc> {
    first + Duration::milliseconds(span_ms * i as i64 / n as i64)
}

/// The corpus's request as a new one arriving by `channel` at `received_at`: its text,
/// citizen, place, topic and department; everything else a fresh request's default, for the
/// shape to set.
pub fn new_request(s: SampleRequest, channel: Channel, received_at: DateTime<Utc>) -> NewRequest {
    NewRequest {
        citizen: Some(s.citizen),
        location: s.address.map(|a| Location {
            lat: s.lat,
            lon: s.lon,
            address: Some(a),
        }),
        topic: Some(s.topic.to_string()),
        department: s.department.map(str::to_string),
        ..NewRequest::new(channel, s.text, received_at)
    }
}
