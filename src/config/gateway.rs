//! What the channel gateway does beside taking requests in: `[gateway]` (joining a citizen's
//! messages, closed requests, files), `[escalation]` (telling the shift leads of breaches) and
//! `[feedback]` (asking «Вопрос решён?»).

use serde::{Deserialize, Serialize};

/// `[escalation]`: where the shift leads are told of breaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationConfig {
    /// The leads' Telegram chat (a group's id is negative, e.g. -1001234567890), reached
    /// through the city's bot, which must be a member of it; 0: nobody is told.
    pub telegram_chat_id: i64,
    /// Also warn the chat when a clock turns at risk (`[clocks] at_risk_ratio` of it gone),
    /// while the promise can still be kept: once per request and clock. Off by default: at a
    /// thousand requests a day that is many messages.
    pub at_risk: bool,
}

/// `[feedback]`: asking the citizen whether a request closed as resolved helped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedbackConfig {
    /// Ask «Вопрос решён?» a minute after a resolved close; «нет» reopens the request.
    pub ask: bool,
    /// How long after the close: a close undone at once is not asked about.
    pub after_minutes: f64,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        FeedbackConfig {
            ask: true,
            after_minutes: 1.0,
        }
    }
}

impl FeedbackConfig {
    /// The gateway's wait after a resolved close; `None` when nobody is asked.
    pub fn after(&self) -> Option<std::time::Duration> {
        self.ask
            .then(|| std::time::Duration::from_secs_f64(self.after_minutes.max(0.0) * 60.0))
    }
}

impl EscalationConfig {
    pub fn chat(&self) -> Option<String> {
        (self.telegram_chat_id != 0).then(|| self.telegram_chat_id.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// A citizen's message joins the chat's open request if it was active this recently.
    pub join_window_hours: f64,
    /// A message on a closed request: "reopen" it (within reopen_window_days) or start a "new" one.
    pub closed_policy: crate::store::ingest::ClosedPolicy,
    pub reopen_window_days: f64,
    /// Where citizens' files are kept. Empty: `files/` in the XDG data directory.
    pub files_dir: String,
    /// Larger files are not downloaded (Telegram bots cannot fetch more than 20 MB).
    pub max_file_mb: u64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            join_window_hours: 24.0,
            closed_policy: crate::store::ingest::ClosedPolicy::Reopen,
            reopen_window_days: 7.0,
            files_dir: String::new(),
            max_file_mb: 20,
        }
    }
}
