//! The words a channel gateway and the server share about leases and outbound parts
//! (docs/sync-protocol.md §7): the fencing token a gateway's writes carry, and what a claim on a part found.
//! The server's rules over them stay in `server::fence`; the gateway only needs the words, so
//! they live here instead of making `channels` import the server.

use serde::{Deserialize, Serialize};

/// A lease name and the epoch its holder got: the fencing token of docs/sync-protocol.md §7.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fence {
    pub lease: String,
    pub epoch: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    Sending,
    Sent,
    /// Given back: a retry later, by whoever holds the lease then.
    Pending,
    Unknown,
    Failed,
}

impl PartState {
    pub fn as_str(self) -> &'static str {
        match self {
            PartState::Sending => "sending",
            PartState::Sent => "sent",
            PartState::Pending => "pending",
            PartState::Unknown => "unknown",
            PartState::Failed => "failed",
        }
    }
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Send it: no one else will.
    Go,
    /// Someone already settled it (or may have sent it): record this state, don't send.
    Settled(PartState),
}
