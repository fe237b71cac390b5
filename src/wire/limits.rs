//! How much one pull answers with. The server enforces these and a console catching up asks
//! for the largest page, so both read them from here rather than the console from the server.

/// Changes one pull answers with when the console names no limit.
pub const PULL_PAGE: usize = 5_000;
/// Most changes one pull answers with, whatever the console asks: a console catching up asks
/// for this much (`sync::client`). Large pages mean fewer round trips and a request changed
/// several times within a page sent once; 50,000 changes are ~15 MB of JSON.
pub const PULL_PAGE_MAX: usize = 50_000;
