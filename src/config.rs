//! The config file, its defaults, and `MCU_`-prefixed environment overrides.
//!
//! Every key has a default, so a missing file is fine; a broken one is refused with the file,
//! line and key named, because a console that silently runs on defaults would mislead a shift.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::domain::ClockPolicy;
use crate::domain::catalog::{self, Catalog};
use crate::domain::sla::CalendarConfig;

pub use channels::{ChannelsConfig, PlatformConfig, TelegramConfig, VkConfig};
pub use gateway::{EscalationConfig, FeedbackConfig, GatewayConfig};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub operator: OperatorConfig,
    pub store: StoreConfig,
    /// `[sla]` is read as `[clocks]`: the word a helpdesk's admin looks for first.
    #[serde(alias = "sla")]
    pub clocks: ClocksConfig,
    pub calendar: CalendarConfig,
    pub catalog: CatalogConfig,
    pub ui: UiConfig,
    /// What makes the console flash and list an alert.
    pub alerts: AlertsConfig,
    pub channels: ChannelsConfig,
    pub gateway: GatewayConfig,
    /// Team mode: the sync server. Empty url: standalone.
    pub server: ServerConfig,
    /// `mcu serve`'s Open311 GeoReport v2 endpoint: limits and read access.
    pub open311: crate::server::open311::Open311Config,
    /// Suggested topics and departments (docs/triage.md).
    pub triage: crate::triage::Settings,
    /// When reports are one incident (docs/incidents.md).
    pub incidents: crate::incidents::Rules,
    /// Telling the shift leads of breaches outside the console.
    pub escalation: EscalationConfig,
    /// «Вопрос решён?» after a resolved close (`domain::feedback`).
    pub feedback: FeedbackConfig,
    /// What department accounts see, and how departments without mcu-desk are reached
    /// (`[departments.<id>]`).
    pub departments: departments::Departments,
    /// Mail to and from departments reached by e-mail (`[departments.<id>] email`).
    pub smtp: smtp::SmtpConfig,
    /// Round-robin assignment at intake, on `mcu serve` (`server::assign`).
    pub assign: crate::server::assign::AssignConfig,
    /// Console key overrides: action = ["key", ...] (see docs/console.md, "Keys").
    pub keys: std::collections::BTreeMap<crate::tui::keymap::Action, Vec<String>>,
    /// The center's own ready replies, `[[templates]]`; one with a shipped shortcut replaces it.
    pub templates: Vec<crate::templates::ReplyTemplate>,
    /// The center's own macros, `[[macros]]`; one with a shipped id replaces it (src/macros).
    pub macros: Vec<crate::macros::Macro>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct OperatorConfig {
    /// Recorded on every mutation and audit event. Empty: the system user.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The SQLite file. Empty: `mcu.sqlite3` in the XDG data directory.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClocksConfig {
    pub first_response_hours: f64,
    pub department_answer_hours: f64,
    pub resolution_hours: f64,
    pub at_risk_ratio: f64,
    /// Hold the resolution clock while a request waits for its department.
    pub pause_resolution_while_waiting: bool,
    /// First-response targets by channel (`vk = 2.0`): a topic's own target still wins.
    pub channels: std::collections::BTreeMap<String, f64>,
    /// A question to the citizen unanswered this long gets one reminder (wall-clock hours).
    pub waiting_reminder_hours: f64,
    /// Unanswered this long, the request closes politely as «заявитель не ответил».
    pub waiting_close_days: f64,
}

impl Default for ClocksConfig {
    fn default() -> Self {
        ClocksConfig {
            first_response_hours: 4.0,
            department_answer_hours: 24.0,
            resolution_hours: 72.0,
            at_risk_ratio: 0.75,
            pause_resolution_while_waiting: true,
            channels: std::collections::BTreeMap::new(),
            waiting_reminder_hours: 24.0,
            waiting_close_days: 3.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `http://host:port` of `mcu serve`; empty: this console works alone.
    #[serde(deserialize_with = "server_url")]
    pub url: String,
    /// The operator's token from `mcu user add` (prefer MCU_SERVER_TOKEN).
    pub token: String,
    /// The city this console belongs to; one server keeps several apart.
    pub scope: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            url: String::new(),
            token: String::new(),
            scope: "city".into(),
        }
    }
}

impl ServerConfig {
    pub fn team(&self) -> bool {
        !self.url.trim().is_empty()
    }
}

/// `[server] url` checked as it is read, so a mistyped address is refused with its line (the
/// parser knows where the value sits) instead of surfacing at the first sync as "server
/// unreachable", which sends the operator to check the network.
fn server_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let url = String::deserialize(d)?;
    check_server_url(&url).map_err(serde::de::Error::custom)?;
    Ok(url)
}

/// Empty (standalone) or an http(s) address with a host.
fn check_server_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(());
    }
    let ok = reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "server.url must be the http(s) address of `mcu serve`, such as \
             http://10.0.0.5:8080; got `{url}`"
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// A catalog file replacing the shipped Krasnodar one. Empty: the shipped catalog.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// `ru` or `en`.
    pub language: String,
    /// `dark` or `light`: the terminal's background.
    pub theme: crate::tui::theme::ThemeName,
    /// The program that opens a citizen's photo or document (`o`); empty: `xdg-open`, on
    /// macOS `open`.
    pub open_command: String,
    /// Citizens' photos in the card (kitty/sixel/iTerm2, else halfblocks); false also skips
    /// asking the terminal what it can draw.
    pub photos: bool,
    /// A shift's length in hours: the handover (`h`, `mcu handover`) looks this far back for
    /// notes and this far ahead for deadlines.
    pub shift_hours: f64,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            language: "ru".into(),
            theme: Default::default(),
            open_command: String::new(),
            photos: true,
            shift_hours: 12.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// A request's clock turned at risk (`[clocks] at_risk_ratio` of its target gone).
    pub at_risk: bool,
    /// A last warning this many minutes before due; 0: none.
    pub due_within_minutes: u32,
    /// A request's clock ran out.
    pub breached: bool,
    /// A reply the citizen did not get (failed, or the channel can't say).
    pub undelivered: bool,
    /// Only requests assigned to this operator or to no one (an operator's view); false:
    /// every request (a shift lead's).
    pub only_mine: bool,
    /// The terminal's bell with each new alert.
    pub bell: bool,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            at_risk: true,
            due_within_minutes: 15,
            breached: true,
            undelivered: true,
            only_mine: false,
            bell: false,
        }
    }
}

impl AlertsConfig {
    pub fn rules(&self, me: &str) -> crate::store::alerts::AlertRules {
        crate::store::alerts::AlertRules {
            at_risk: self.at_risk,
            due_within: (self.due_within_minutes > 0)
                .then(|| chrono::Duration::minutes(self.due_within_minutes.into())),
            breached: self.breached,
            undelivered: self.undelivered,
            only_for: self.only_mine.then(|| me.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {file}: cannot read: {error}")]
    Read { file: String, error: String },
    #[error("config {file}: {detail}")]
    Invalid { file: String, detail: String },
    #[error("environment variable {var}: {detail}")]
    Env { var: String, detail: String },
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("ru", "mcu-desk", "mcu")
}

/// Where the config is read from when `--config` is not given.
pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

impl Config {
    /// Reads `path` (or the default location, where a missing file means defaults) and applies
    /// `MCU_*` overrides from `env`.
    pub fn load(path: Option<&Path>, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let (file, text) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    file: p.display().to_string(),
                    error: e.to_string(),
                })?;
                (p.display().to_string(), text)
            }
            None => match default_config_path() {
                Some(p) if p.exists() => {
                    let text = std::fs::read_to_string(&p).map_err(|e| ConfigError::Read {
                        file: p.display().to_string(),
                        error: e.to_string(),
                    })?;
                    (p.display().to_string(), text)
                }
                _ => ("(defaults)".to_string(), String::new()),
            },
        };
        Config::parse(&file, &text, env)
    }

    pub fn parse(file: &str, text: &str, env: &[(String, String)]) -> Result<Config, ConfigError> {
        // The file alone first, so its errors carry the line they are on.
        let _: Config = toml::from_str(text).map_err(|e| invalid(file, text, &e))?;
        let mut value: toml::Table = toml::from_str(text).map_err(|e| invalid(file, text, &e))?;
        apply_env(&mut value, env)?;
        let config: Config =
            toml::Table::try_into(value).map_err(|e: toml::de::Error| ConfigError::Env {
                var: "MCU_*".into(),
                detail: e.message().trim().to_string(),
            })?;
        config.validate(file)?;
        Ok(config)
    }

    fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let bad = |detail: String| ConfigError::Invalid {
            file: file.to_string(),
            detail,
        };
        let c = &self.clocks;
        for (key, v) in [
            ("clocks.first_response_hours", c.first_response_hours),
            ("clocks.department_answer_hours", c.department_answer_hours),
            ("clocks.resolution_hours", c.resolution_hours),
        ] {
            if !catalog::valid_target_hours(v) {
                return Err(bad(format!(
                    "{key} must be a positive number of hours up to {} (a year), got {v}",
                    catalog::MAX_CLOCK_HOURS
                )));
            }
        }
        for (channel, v) in &c.channels {
            channel
                .parse::<crate::domain::Channel>()
                .map_err(|e| bad(format!("clocks.channels: {e}")))?;
            if !catalog::valid_target_hours(*v) {
                return Err(bad(format!(
                    "clocks.channels.{channel} must be a positive number of hours up to {} \
                     (a year), got {v}",
                    catalog::MAX_CLOCK_HOURS
                )));
            }
        }
        // A reminder after the close would never go: say so rather than drop it silently.
        let close_hours = c.waiting_close_days * 24.0;
        if !catalog::valid_target_hours(c.waiting_reminder_hours)
            || !catalog::valid_target_hours(close_hours)
            || c.waiting_reminder_hours >= close_hours
        {
            return Err(bad(format!(
                "clocks.waiting_reminder_hours ({}) must be positive and shorter than \
                 clocks.waiting_close_days ({} days), up to a year",
                c.waiting_reminder_hours, c.waiting_close_days
            )));
        }
        if let Some(p) = self.triage.problem().or_else(|| self.incidents.problem()) {
            return Err(bad(p));
        }
        if !(c.at_risk_ratio > 0.0 && c.at_risk_ratio <= 1.0) {
            return Err(bad(format!(
                "clocks.at_risk_ratio must be in (0, 1], got {}",
                c.at_risk_ratio
            )));
        }
        let vk = &self.channels.vk;
        if (!vk.token.trim().is_empty() || !vk.token_env.trim().is_empty()) && vk.group_id <= 0 {
            return Err(bad(format!(
                "channels.vk.group_id must be the community's positive id, got {}",
                vk.group_id
            )));
        }
        if !(vk.backfill_hours.is_finite() && vk.backfill_hours > 0.0) {
            return Err(bad(format!(
                "channels.vk.backfill_hours must be a positive number, got {}",
                vk.backfill_hours
            )));
        }
        // Asked later than a day after the close would never be asked (`feedback::ASK_WITHIN`).
        let after = self.feedback.after_minutes;
        if !(after.is_finite() && (0.0..=720.0).contains(&after)) {
            return Err(bad(format!(
                "feedback.after_minutes must be between 0 and 720 (12 hours), got {after}"
            )));
        }
        if !["ru", "en"].contains(&self.ui.language.as_str()) {
            return Err(bad(format!(
                "ui.language must be `ru` or `en`, got `{}`",
                self.ui.language
            )));
        }
        let platform = self.channels.platform.url.trim();
        let web = platform.starts_with("https://") || platform.starts_with("http://");
        if !(platform.is_empty() || web) {
            return Err(bad(format!(
                "channels.platform.url must be an http(s) URL, got `{platform}`"
            )));
        }
        if !self.departments.each.is_empty() {
            let catalog = self.catalog().map_err(|e| bad(e.to_string()))?;
            departments::check(&self.departments.each, &catalog).map_err(bad)?;
        }
        let mailed = self
            .departments
            .each
            .values()
            .any(|d| !d.email.trim().is_empty());
        self.smtp.check(mailed).map_err(bad)?;
        if !self.channels.platform.topics.is_empty() {
            let catalog = self.catalog().map_err(|e| bad(e.to_string()))?;
            for (code, topic) in &self.channels.platform.topics {
                if catalog.topic(topic).is_none() {
                    return Err(bad(format!(
                        "channels.platform.topics.{code}: `{topic}` is no topic of the catalog"
                    )));
                }
            }
        }
        if !(self.ui.shift_hours.is_finite() && (0.5..=72.0).contains(&self.ui.shift_hours)) {
            return Err(bad(format!(
                "ui.shift_hours must be 0.5 to 72, got {}",
                self.ui.shift_hours
            )));
        }
        self.calendar
            .build()
            .map_err(|e| bad(format!("calendar: {e}")))?;
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.templates {
            if t.shortcut.is_empty() || t.shortcut.chars().any(char::is_whitespace) {
                return Err(bad(format!(
                    "templates: shortcut `{}` must be one word (typed as ::{0})",
                    t.shortcut
                )));
            }
            if !seen.insert(t.shortcut.as_str()) {
                return Err(bad(format!(
                    "templates: shortcut `{}` is given twice",
                    t.shortcut
                )));
            }
            if t.text.trim().is_empty() {
                return Err(bad(format!("templates: `{}` has no text", t.shortcut)));
            }
        }
        // The shipped macros fit the shipped catalog and keys (a unit test says so): only the
        // center's own, or keys it moved, can break them.
        if !self.macros.is_empty() || !self.keys.is_empty() {
            let catalog = self.catalog().map_err(|e| bad(e.to_string()))?;
            let templates = crate::templates::merged(&self.templates);
            crate::macros::check_own(&self.macros, &catalog, &templates).map_err(bad)?;
            // A broken [keys] is reported where the console reads it, in its own words.
            let keymap = crate::tui::keymap::Keymap::with_overrides(&self.keys).ok();
            let all = crate::macros::merged(&self.macros, &catalog, &templates);
            crate::tui::keymap::check_macro_keys(keymap.as_ref(), &all).map_err(bad)?;
        }
        Ok(())
    }

    pub fn operator(&self) -> String {
        let name = self.operator.name.trim();
        if !name.is_empty() {
            return name.to_string();
        }
        std::env::var("USER")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "operator".to_string())
    }

    pub fn db_path(&self) -> PathBuf {
        if !self.store.path.trim().is_empty() {
            return PathBuf::from(self.store.path.trim());
        }
        project_dirs()
            .map(|d| d.data_dir().join("mcu.sqlite3"))
            .unwrap_or_else(|| PathBuf::from("mcu.sqlite3"))
    }

    pub fn catalog(&self) -> Result<Catalog, ConfigError> {
        let path = self.catalog.path.trim();
        if path.is_empty() {
            return Catalog::parse(catalog::DEFAULT_CATALOG).map_err(|e| ConfigError::Invalid {
                file: "assets/catalog.toml".into(),
                detail: e.to_string(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: path.to_string(),
            error: e.to_string(),
        })?;
        Catalog::parse(&text).map_err(|e| ConfigError::Invalid {
            file: path.to_string(),
            detail: e.to_string(),
        })
    }

    pub fn files_dir(&self) -> PathBuf {
        if !self.gateway.files_dir.trim().is_empty() {
            return PathBuf::from(self.gateway.files_dir.trim());
        }
        project_dirs()
            .map(|d| d.data_dir().join("files"))
            .unwrap_or_else(|| PathBuf::from("files"))
    }

    pub fn policy(&self) -> Result<ClockPolicy, ConfigError> {
        let calendar = self.calendar.build().map_err(|e| ConfigError::Invalid {
            file: "config".into(),
            detail: format!("calendar: {e}"),
        })?;
        Ok(ClockPolicy {
            calendar,
            first_response: catalog::hours(self.clocks.first_response_hours),
            department_answer: catalog::hours(self.clocks.department_answer_hours),
            resolution: catalog::hours(self.clocks.resolution_hours),
            at_risk_ratio: self.clocks.at_risk_ratio,
            pause_resolution_while_waiting: self.clocks.pause_resolution_while_waiting,
            waiting_reminder: catalog::hours(self.clocks.waiting_reminder_hours),
            waiting_close: catalog::hours(self.clocks.waiting_close_days * 24.0),
            // Names were checked when the file was read.
            channel_first_response: self
                .clocks
                .channels
                .iter()
                .filter_map(|(c, h)| Some((c.parse().ok()?, catalog::hours(*h))))
                .collect(),
        })
    }
}

fn invalid(file: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let detail = match e.span() {
        Some(span) => {
            let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
            format!("line {line_no} (`{line}`): {}", e.message().trim())
        }
        None => e.message().trim().to_string(),
    };
    ConfigError::Invalid {
        file: file.to_string(),
        detail,
    }
}

/// Applies `MCU_<PATH>=value` for every key the config knows, the path's parts joined by `_`:
/// `MCU_OPERATOR_NAME`, `MCU_CLOCKS_FIRST_RESPONSE_HOURS`, `MCU_CHANNELS_TELEGRAM_TOKEN`.
fn apply_env(table: &mut toml::Table, env: &[(String, String)]) -> Result<(), ConfigError> {
    let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
    let mut leaves = vec![];
    collect_leaves(&defaults, &mut vec![], &mut leaves);
    for (path, default) in leaves {
        let var = format!("MCU_{}", path.join("_").to_uppercase());
        let Some((_, raw)) = env.iter().find(|(k, _)| *k == var) else {
            continue;
        };
        let value = match default {
            toml::Value::String(_) => toml::Value::String(raw.clone()),
            // Numbers, booleans and arrays are written as in TOML: `2.5`, `true`, `["x"]`.
            _ => toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .ok_or_else(|| ConfigError::Env {
                    var: var.clone(),
                    detail: format!(
                        "`{raw}` is not a valid value (write it as in the config file)"
                    ),
                })?,
        };
        let mut t = &mut *table;
        let (last, sections) = path.split_last().expect("a leaf has a name");
        for sect in sections {
            let entry = t
                .entry(sect.clone())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            t = entry.as_table_mut().ok_or_else(|| ConfigError::Env {
                var: var.clone(),
                detail: format!("`{sect}` in the config file is not a section"),
            })?;
        }
        t.insert(last.clone(), value);
    }
    Ok(())
}

fn collect_leaves(
    t: &toml::Table,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, toml::Value)>,
) {
    for (k, v) in t {
        path.push(k.clone());
        match v {
            toml::Value::Table(sub) => collect_leaves(sub, path, out),
            leaf => out.push((path.clone(), leaf.clone())),
        }
        path.pop();
    }
}

pub mod channels;
pub mod departments;
pub mod gateway;
pub mod smtp;

#[cfg(test)]
mod tests;
