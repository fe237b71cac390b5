//! The team as a console sees it from the server (`/v1/team`): the channels the server works
//! and how they are doing, who is on shift, and the views a shift lead shared. The console with its own gateway fills the
//! same `ChannelHealth` from its gateway's events, so the status bar and `!` draw one shape
//! whichever process runs the channel.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Channel;

/// One channel's gateway: up or down, when it last took in and sent, and its last trouble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelHealth {
    pub channel: Channel,
    /// The bot or community the gateway works as (`@mcu_bot`, `club123`).
    #[serde(default)]
    pub account: Option<String>,
    pub up: bool,
    /// When it last went up or down.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_in: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_out: Option<DateTime<Utc>>,
    #[serde(default)]
    pub received: u64,
    #[serde(default)]
    pub sent: u64,
    #[serde(default)]
    pub retries: u64,
    #[serde(default)]
    pub unknown: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub malformed: u64,
    #[serde(default)]
    pub last_problem: Option<(DateTime<Utc>, String)>,
}

impl ChannelHealth {
    pub fn new(channel: Channel) -> ChannelHealth {
        ChannelHealth {
            channel,
            account: None,
            up: false,
            since: None,
            last_in: None,
            last_out: None,
            received: 0,
            sent: 0,
            retries: 0,
            unknown: 0,
            failed: 0,
            malformed: 0,
            last_problem: None,
        }
    }
}

/// An operator or shift lead of the server, and whether they are on shift in the scope asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub user: String,
    /// A shift lead (or an admin): assigns, and marks the others on and off shift.
    pub lead: bool,
    /// Everyone is on shift until marked off: a team that doesn't keep shifts loses nothing.
    pub on_shift: bool,
    /// Who last marked them, and when; `None` when nobody has.
    #[serde(default)]
    pub marked_by: Option<String>,
    #[serde(default)]
    pub marked_at: Option<DateTime<Utc>>,
}

/// `GET /v1/team?scope_id=…`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamStatus {
    /// The channels this server works for the scope (empty: it works none).
    pub channels: Vec<ChannelHealth>,
    /// Operators and leads, sorted by name.
    pub staff: Vec<StaffMember>,
    /// The views shift leads shared with the scope, in the order they were shared (absent
    /// from an older server: none).
    #[serde(default)]
    pub views: Vec<crate::domain::views::SavedView>,
    /// Who the token is, as the server knows it: a department account's console opens on
    /// its department's queue (absent from an older server: an operator's console).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub me: Option<Me>,
}

/// The caller of `/v1/team`: its role (`operator`, `lead`, `department`, …) and, for a
/// department account, the catalog departments it works for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub role: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<String>,
}

/// `POST /v1/team/shift`: a lead marks anyone, an operator themself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftChange {
    pub scope_id: String,
    pub user: String,
    pub on_shift: bool,
}

/// `POST /v1/team/views`: a shift lead shares a view with the scope (or shares it again,
/// changed); the server answers with the view as it keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewShare {
    pub scope_id: String,
    pub view: crate::domain::views::SavedView,
}

/// `POST /v1/team/views/unshare`: a shift lead takes a view back from the scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewUnshare {
    pub scope_id: String,
    pub name: String,
}
