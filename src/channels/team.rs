//! How a gateway works in team mode: the lease, the cursor and each send are settled on the
//! server, so two servers never poll one token or send one reply (docs/sync-protocol.md §7). The
//! gateway keeps its own working file as in standalone mode; this link is what it asks the
//! server before it acts. `server::gateway_link` implements it.

use futures::future::BoxFuture;
use std::time::Duration;
use uuid::Uuid;

use crate::wire::fence::{Claim, Fence, PartState};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The lease moved to another gateway: stop, and let that one work.
    #[error("lease `{0}` is held by another gateway")]
    Fenced(String),
    /// The server's store did not answer: try again later.
    #[error("server unavailable: {0}")]
    Unavailable(String),
}

pub trait TeamLink: Send + Sync {
    /// The lease's new epoch, or who holds it.
    fn acquire<'a>(
        &'a self,
        lease: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Result<i64, String>, LinkError>>;
    fn renew<'a>(
        &'a self,
        fence: &'a Fence,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, LinkError>>;
    fn release<'a>(&'a self, fence: &'a Fence) -> BoxFuture<'a, Result<(), LinkError>>;
    /// The cursor the server last confirmed for this lease's account.
    fn cursor<'a>(&'a self, lease: &'a str) -> BoxFuture<'a, Result<Option<String>, LinkError>>;
    /// Pushes everything the gateway stored, then moves the server's cursor to `cursor`:
    /// only after this may the channel be told the updates are taken.
    fn flush<'a>(
        &'a self,
        fence: &'a Fence,
        cursor: Option<String>,
    ) -> BoxFuture<'a, Result<(), LinkError>>;
    fn claim<'a>(
        &'a self,
        fence: &'a Fence,
        message_id: Uuid,
        part_no: i64,
    ) -> BoxFuture<'a, Result<Claim, LinkError>>;
    #[allow(clippy::too_many_arguments)]
    fn finish<'a>(
        &'a self,
        fence: &'a Fence,
        message_id: Uuid,
        part_no: i64,
        parts: i64,
        state: PartState,
        external_id: Option<String>,
        tracked: bool,
    ) -> BoxFuture<'a, Result<(), LinkError>>;
}
