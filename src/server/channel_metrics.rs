//! What the gateways inside `mcu serve` report on `/metrics` (whether each channel is worked
//! here, what came in, and how sends ended) and on `/v1/team` to the consoles (the same
//! health a console with its own gateway shows).

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::channels::gateway::GatewayEvent;
use crate::domain::Channel;
use crate::wire::team::ChannelHealth;

#[derive(Debug)]
pub struct ChannelMetrics {
    /// `mcu serve --channels`' name for it (`telegram`, `vk`, `platform`).
    pub channel: String,
    /// The scope whose requests it takes in: `/v1/team` shows it to that scope's consoles.
    pub scope: String,
    health: Mutex<ChannelHealth>,
    /// 1 while this server holds the channel's lease and polls.
    up: AtomicI64,
    epoch: AtomicI64,
    ingested: AtomicU64,
    sent: AtomicU64,
    retried: AtomicU64,
    unknown: AtomicU64,
    failed: AtomicU64,
    alarms: AtomicU64,
    /// Breaches told to the shift leads' chat, and questions reminded or closed unanswered.
    escalated: AtomicU64,
    reminded: AtomicU64,
    closed_unanswered: AtomicU64,
    /// «Вопрос решён?» asked (once per resolved close).
    feedback_asked: AtomicU64,
}

impl ChannelMetrics {
    pub fn new(channel: &str, kind: Channel, scope: &str) -> ChannelMetrics {
        ChannelMetrics {
            channel: channel.into(),
            scope: scope.into(),
            health: Mutex::new(ChannelHealth::new(kind)),
            up: AtomicI64::default(),
            epoch: AtomicI64::default(),
            ingested: AtomicU64::default(),
            sent: AtomicU64::default(),
            retried: AtomicU64::default(),
            unknown: AtomicU64::default(),
            failed: AtomicU64::default(),
            alarms: AtomicU64::default(),
            escalated: AtomicU64::default(),
            reminded: AtomicU64::default(),
            closed_unanswered: AtomicU64::default(),
            feedback_asked: AtomicU64::default(),
        }
    }

    /// The channel as the consoles are shown it.
    pub fn health(&self) -> ChannelHealth {
        // A panic elsewhere while holding it leaves counters that are still worth showing.
        self.health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn observe(&self, e: &GatewayEvent) {
        {
            let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
            crate::channels::health::observe(&mut h, e, chrono::Utc::now());
        }
        let add = |c: &AtomicU64, n: u64| c.fetch_add(n, Ordering::Relaxed);
        match e {
            GatewayEvent::Started { epoch, .. } => {
                self.up.store(1, Ordering::Relaxed);
                self.epoch.store(*epoch, Ordering::Relaxed);
            }
            GatewayEvent::Ingested(r) => {
                add(
                    &self.ingested,
                    (r.created.len() + r.appended + r.edited) as u64,
                );
            }
            GatewayEvent::Sent { .. } => {
                add(&self.sent, 1);
            }
            GatewayEvent::Retry { .. } => {
                add(&self.retried, 1);
            }
            GatewayEvent::Unknown { .. } => {
                add(&self.unknown, 1);
            }
            GatewayEvent::Failed { .. } => {
                add(&self.failed, 1);
            }
            GatewayEvent::Alarm(_) => {
                add(&self.alarms, 1);
            }
            GatewayEvent::Escalated(n) => {
                add(&self.escalated, *n as u64);
            }
            GatewayEvent::FeedbackAsked(n) => {
                add(&self.feedback_asked, *n as u64);
            }
            GatewayEvent::Waiting { reminded, closed } => {
                add(&self.reminded, *reminded as u64);
                add(&self.closed_unanswered, *closed as u64);
            }
            GatewayEvent::Stopped => self.up.store(0, Ordering::Relaxed),
            _ => {}
        }
    }

    /// Prometheus text lines, appended to the recorder's.
    pub fn render(&self, out: &mut String) {
        let ch = &self.channel;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP mcu_channel_up 1 while this server holds the channel's lease and works it.\n\
             # TYPE mcu_channel_up gauge\nmcu_channel_up{{channel=\"{ch}\"}} {}",
            self.up.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP mcu_channel_lease_epoch The fencing epoch of this server's lease.\n\
             # TYPE mcu_channel_lease_epoch gauge\nmcu_channel_lease_epoch{{channel=\"{ch}\"}} {}",
            self.epoch.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP mcu_channel_inbound_total Citizens' messages stored (new requests, follow-ups, edits).\n\
             # TYPE mcu_channel_inbound_total counter\nmcu_channel_inbound_total{{channel=\"{ch}\"}} {}",
            get(&self.ingested)
        );
        let _ = writeln!(
            out,
            "# HELP mcu_outbox_parts_total Outbound parts by how their send ended.\n\
             # TYPE mcu_outbox_parts_total counter"
        );
        for (state, c) in [
            ("sent", &self.sent),
            ("retry", &self.retried),
            ("unknown", &self.unknown),
            ("failed", &self.failed),
        ] {
            let _ = writeln!(
                out,
                "mcu_outbox_parts_total{{channel=\"{ch}\",state=\"{state}\"}} {}",
                get(c)
            );
        }
        let _ = writeln!(
            out,
            "# HELP mcu_channel_alarms_total Alarms raised (409, revoked token, lost lease).\n\
             # TYPE mcu_channel_alarms_total counter\nmcu_channel_alarms_total{{channel=\"{ch}\"}} {}",
            get(&self.alarms)
        );
        let _ = writeln!(
            out,
            "# HELP mcu_escalations_total Breaches (and with [escalation] at_risk, warnings) told to the shift leads' chat (once per request, clock and stage).\n\
             # TYPE mcu_escalations_total counter\nmcu_escalations_total{{channel=\"{ch}\"}} {}",
            get(&self.escalated)
        );
        let _ = writeln!(
            out,
            "# HELP mcu_waiting_citizen_total Unanswered questions to citizens: reminded, closed.\n\
             # TYPE mcu_waiting_citizen_total counter\n\
             mcu_waiting_citizen_total{{channel=\"{ch}\",step=\"reminded\"}} {}\n\
             mcu_waiting_citizen_total{{channel=\"{ch}\",step=\"closed\"}} {}",
            get(&self.reminded),
            get(&self.closed_unanswered)
        );
        let _ = writeln!(
            out,
            "# HELP mcu_feedback_asked_total Citizens asked «Вопрос решён?» after a resolved close.\n\
             # TYPE mcu_feedback_asked_total counter\nmcu_feedback_asked_total{{channel=\"{ch}\"}} {}",
            get(&self.feedback_asked)
        );
    }
}
