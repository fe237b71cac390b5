//! Team mode on the console's own file: the journal of actions waiting for the server and
//! its refusals (`journal`), and the server's changes written over the local rows with the
//! actions not yet taken by the server applied again on top (`pulled`;
//! docs/sync-protocol.md §5, rebase).

mod journal;
mod pulled;

pub use journal::{
    Journaled, Rejected, ack, forget, last_local_id, pending_count, reject, take_rejections,
    unacked, undo,
};
pub use pulled::{Pulled, Row, Step, apply_patch, parse_patch};
