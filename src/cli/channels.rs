//! The channel adapters a process runs, built from the config (Telegram, VK), and their
//! gateways started side by side on one store: each under its own lease, all reporting into
//! one event stream for the screen or the log.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::Refused;
use crate::channels::gateway::{self, GatewayError, GatewayEvent, GatewayOptions};
use crate::channels::mail::{Mail, MailSettings};
use crate::channels::open311::Open311Client;
use crate::channels::telegram::Telegram;
use crate::channels::vk::{Vk, VkSettings};
use crate::config::Config;
use crate::store::Store;

#[derive(Default, Clone)]
pub struct Adapters {
    pub telegram: Option<Arc<Telegram>>,
    pub vk: Option<Arc<Vk>>,
    /// The regional feedback platform over Open311 (`[channels.platform]`).
    pub platform: Option<Arc<Open311Client>>,
    /// Departments reached by e-mail (`[smtp]`, `[departments.<id>] email`).
    pub mail: Option<Arc<Mail>>,
}

impl Adapters {
    /// Every channel the config turns on (a token given).
    pub fn from_config(config: &Config) -> anyhow::Result<Adapters> {
        let telegram = if config.channels.telegram.token.trim().is_empty() {
            None
        } else {
            Some(Arc::new(super::live::telegram(config, None, None)?))
        };
        let vk = match config.channels.vk.token() {
            None => None,
            Some(_) => Some(Arc::new(vk(config, None, None, None)?)),
        };
        let platform = match config.channels.platform.client() {
            None => None,
            Some(c) => Some(Arc::new(c.map_err(Refused)?)),
        };
        let mail = mail(config)?.map(Arc::new);
        Ok(Adapters {
            telegram,
            vk,
            platform,
            mail,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.telegram.is_none()
            && self.vk.is_none()
            && self.platform.is_none()
            && self.mail.is_none()
    }

    /// One gateway per adapter, all sending their events into `events`.
    pub fn spawn(
        &self,
        store: &Store,
        opts: &GatewayOptions,
        events: &mpsc::UnboundedSender<(crate::domain::Channel, GatewayEvent)>,
        stop: &watch::Receiver<bool>,
    ) -> Vec<JoinHandle<Result<(), GatewayError>>> {
        let mut running = vec![];
        let tagged = |c| crate::channels::tagged::tagged(c, events.clone());
        if let Some(tg) = &self.telegram {
            running.push(tokio::spawn(gateway::run(
                store.clone(),
                tg.clone(),
                opts.clone(),
                tagged(crate::domain::Channel::Telegram),
                stop.clone(),
            )));
        }
        if let Some(vk) = &self.vk {
            running.push(tokio::spawn(gateway::run(
                store.clone(),
                vk.clone(),
                opts.clone(),
                tagged(crate::domain::Channel::Vk),
                stop.clone(),
            )));
        }
        if let Some(p) = &self.platform {
            let mut opts = opts.clone();
            // A platform that takes no replies acknowledges on its own.
            opts.rules.acknowledge = p.publishes();
            running.push(tokio::spawn(gateway::run(
                store.clone(),
                p.clone(),
                opts,
                tagged(crate::domain::Channel::Pos),
                stop.clone(),
            )));
        }
        if let Some(m) = &self.mail {
            running.push(tokio::spawn(gateway::run(
                store.clone(),
                m.clone(),
                opts.clone(),
                tagged(crate::domain::Channel::Email),
                stop.clone(),
            )));
        }
        running
    }
}

/// The mail adapter from `[smtp]`; None when no department has an address.
pub fn mail(config: &Config) -> anyhow::Result<Option<Mail>> {
    if crate::config::departments::email_addresses(&config.departments.each).is_empty() {
        return Ok(None);
    }
    let c = &config.smtp;
    let settings = MailSettings {
        host: c.host.trim().to_string(),
        port: c.port,
        security: c.security,
        username: c.username.trim().to_string(),
        password: c.password().map_err(Refused)?,
        from: crate::domain::email::address(&c.from)
            .map_err(|why| Refused(format!("smtp.from: {why}")))?,
        maildir: c.maildir(),
        timeout: Duration::from_secs(c.timeout_secs.max(1)),
        poll_every: Duration::from_secs_f64(c.poll_secs.clamp(0.05, 3600.0)),
        poll_wait: Duration::from_secs(25),
    };
    Ok(Some(Mail::new(settings).map_err(Refused)?))
}

/// The VK adapter from `[channels.vk]`; the demo passes the simulator's URL, token and group.
pub fn vk(
    config: &Config,
    api_url: Option<&str>,
    token: Option<&str>,
    group_id: Option<i64>,
) -> anyhow::Result<Vk> {
    let v = &config.channels.vk;
    let Some(token) = token.map(str::to_string).or_else(|| v.token()) else {
        return Err(Refused(
            "no VK token: set [channels.vk] token (or token_env), or MCU_CHANNELS_VK_TOKEN".into(),
        )
        .into());
    };
    Vk::new(VkSettings {
        api_url: api_url.unwrap_or(&v.api_url).to_string(),
        token,
        group_id: group_id.unwrap_or(v.group_id),
        wait: Duration::from_secs(v.wait_secs.max(1)),
        send_timeout: Duration::from_secs(v.send_timeout_secs.max(1)),
        backfill: chrono::Duration::minutes((v.backfill_hours * 60.0).round() as i64),
    })
    .map_err(|e| Refused(e).into())
}

/// `mcu demo --channels`: the names it knows, checked before anything starts. `open311` is
/// the regional feedback platform, read over Open311 (the simulator plays it).
pub const DEMO_CHANNELS: [&str; 3] = ["telegram", "vk", "open311"];

pub fn check_demo_channels(list: &[String], en: bool) -> anyhow::Result<()> {
    if list.is_empty() {
        return Err(Refused(if en {
            "--channels: name at least one of telegram, vk, open311".into()
        } else {
            "--channels: укажите хотя бы один канал: telegram, vk, open311".into()
        })
        .into());
    }
    for name in list {
        if !DEMO_CHANNELS.contains(&name.as_str()) {
            let known = DEMO_CHANNELS.join(", ");
            return Err(Refused(if en {
                format!("--channels: unknown channel `{name}` (known: {known})")
            } else {
                format!("--channels: неизвестный канал `{name}` (есть: {known})")
            })
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_channels_are_checked_by_name() {
        let list = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert!(check_demo_channels(&list(&["telegram", "vk"]), false).is_ok());
        let e = check_demo_channels(&list(&["vk", "fax"]), false).unwrap_err();
        assert!(e.to_string().contains("`fax`"), "{e}");
        let e = check_demo_channels(&list(&["fax"]), true).unwrap_err();
        assert!(e.to_string().contains("unknown channel"), "{e}");
        assert!(check_demo_channels(&[], true).is_err());
    }

    #[test]
    fn vk_needs_a_token_and_a_group() {
        let mut config = Config::default();
        assert!(Adapters::from_config(&config).unwrap().is_empty());
        let e = vk(&config, None, None, None).unwrap_err();
        assert!(e.to_string().contains("VK token"), "{e}");
        config.channels.vk.token = "vk1.a.x".into();
        let e = vk(&config, None, None, None).unwrap_err();
        assert!(e.to_string().contains("group_id"), "{e}");
        config.channels.vk.group_id = 42;
        let a = Adapters::from_config(&config).unwrap();
        assert!(a.telegram.is_none());
        assert_eq!(a.vk.as_ref().map(|v| v.group_id()), Some(42));
    }
}
