//! The channels' sections of the config: `[channels.telegram]`, `[channels.vk]` and
//! `[channels.platform]` (the regional platform over Open311), with their defaults.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    pub telegram: TelegramConfig,
    pub vk: VkConfig,
    /// The regional feedback platform, read over Open311 GeoReport v2.
    pub platform: PlatformConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformConfig {
    /// The platform's GeoReport v2 base URL (ending in `/v2`). Empty: the channel is off.
    pub url: String,
    /// The key the platform gave this center (sent as `api_key`).
    pub api_key: String,
    /// Sent as `jurisdiction_id` when the platform serves several cities.
    pub jurisdiction_id: String,
    /// How often to look for new requests once caught up.
    pub poll_secs: u64,
    /// On the very first look, how many days back to take requests from.
    pub backfill_days: u32,
    /// How replies reach the citizen: `none` (operators answer in the platform's cabinet)
    /// or `updates` (`POST servicerequestupdates.json`).
    pub publish: crate::channels::open311::Publish,
    /// The platform's categories (`service_code`) → catalog topics. A code that is a catalog
    /// topic's own id needs no line; an unmapped one arrives without a topic.
    pub topics: std::collections::BTreeMap<String, String>,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            url: String::new(),
            api_key: String::new(),
            jurisdiction_id: String::new(),
            poll_secs: 60,
            backfill_days: 1,
            publish: crate::channels::open311::Publish::None,
            topics: Default::default(),
        }
    }
}

impl PlatformConfig {
    /// The channel, or why it cannot run; None when it is off.
    pub fn client(&self) -> Option<Result<crate::channels::open311::Open311Client, String>> {
        if self.url.trim().is_empty() {
            return None;
        }
        Some(crate::channels::open311::Open311Client::new(
            crate::channels::open311::Options {
                url: self.url.clone(),
                api_key: self.api_key.clone(),
                jurisdiction: self.jurisdiction_id.clone(),
                publish: self.publish,
                every: std::time::Duration::from_secs(self.poll_secs.clamp(5, 3600)),
                backfill: chrono::Duration::days(self.backfill_days.min(90).into()),
            },
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    /// The bot token from @BotFather. Empty: the Telegram channel is off.
    pub token: String,
    pub api_url: String,
    pub poll_timeout_secs: u64,
    pub send_timeout_secs: u64,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            token: String::new(),
            api_url: "https://api.telegram.org".into(),
            poll_timeout_secs: 25,
            send_timeout_secs: 10,
        }
    }
}

// --- VK (issue #7) ---

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VkConfig {
    /// The community token (community → Manage → API usage). Empty, and no `token_env`: VK is off.
    pub token: String,
    /// The name of an environment variable holding the token, so the file need not.
    pub token_env: String,
    /// The community's id (positive, as in `club123456`).
    pub group_id: i64,
    pub api_url: String,
    /// Long-poll `wait`: 25 s, as VK advises (proxies drop at 30); at most 90.
    pub wait_secs: u64,
    /// How long a call may take before it is retried (sends carry `random_id`: never twice).
    pub send_timeout_secs: u64,
    /// How far back a backfill after a lost long-poll history looks when this process has not
    /// polled yet (at start after a long stop).
    pub backfill_hours: f64,
}

impl Default for VkConfig {
    fn default() -> Self {
        VkConfig {
            token: String::new(),
            token_env: String::new(),
            group_id: 0,
            api_url: "https://api.vk.com/method".into(),
            wait_secs: 25,
            send_timeout_secs: 10,
            backfill_hours: 24.0,
        }
    }
}

impl VkConfig {
    /// The token from the file, else from the variable `token_env` names; None: VK is off.
    pub fn token(&self) -> Option<String> {
        let t = self.token.trim();
        if !t.is_empty() {
            return Some(t.to_string());
        }
        let var = self.token_env.trim();
        (!var.is_empty())
            .then(|| std::env::var(var).ok())
            .flatten()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}
