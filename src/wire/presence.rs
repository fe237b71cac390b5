//! Who is on which request, as consoles and the server say it (`/v1/presence`). Not synced
//! state, but the same words on both sides, so they live with the other wire shapes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What an operator is doing on a request, for presence (`/v1/presence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// The request's card is on the operator's screen.
    Viewing,
    /// The reply composer is open on it: a second reply would reach the citizen twice.
    Composing,
}

/// `POST /v1/presence`: where this console is now, on every change and as a heartbeat. The
/// user is the token's; a console only says where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceReport {
    pub scope_id: String,
    /// One per running console, so an operator with two consoles open is on both requests
    /// instead of flickering between them.
    pub session: Uuid,
    /// `None`: on no request (the card is hidden, the console is closing).
    #[serde(default)]
    pub request_id: Option<Uuid>,
    #[serde(default = "viewing")]
    pub activity: Activity,
}

fn viewing() -> Activity {
    Activity::Viewing
}

/// One operator on one request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Presence {
    pub request_id: Uuid,
    pub user: String,
    pub activity: Activity,
}

/// `GET /v1/presence` and each `presence` event of `GET /v1/presence/stream`: everyone in the
/// scope except the one asking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PresenceSnapshot {
    pub presence: Vec<Presence>,
}
