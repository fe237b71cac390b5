//! A request as people see it, shared by the CLI and the console: the running clock worked out
//! once, the ids as text. Its field names are a public interface (the CLI's JSON, README
//! "Output shapes"), so it is serialised as it is.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::Request;
use crate::domain::request::ClockKind;
use crate::domain::sla::ClockState;
use crate::store::Detail;

#[derive(Debug, Serialize)]
pub struct RequestView {
    /// `null` in JSON while the number is a team console's provisional one: a number is shown
    /// only when it is the one the server gave (`number_pending` says it will follow).
    #[serde(serialize_with = "final_number")]
    pub number: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub number_pending: bool,
    pub id: String,
    pub status: String,
    pub channel: String,
    pub external_id: Option<String>,
    pub topic: Option<String>,
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub priority: String,
    pub tags: Vec<String>,
    pub citizen: Option<String>,
    /// The citizen's phone, as people read it (`+7 918 111-22-33`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub text: String,
    pub address: Option<String>,
    pub attachments: Vec<crate::domain::request::Attachment>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub received_at: DateTime<Utc>,
    pub first_response_due: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub department_due: Option<DateTime<Utc>>,
    pub resolution_due: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_reason: Option<String>,
    pub parent: Option<String>,
    /// The clock that runs now: first_response | department | resolution; null when closed.
    pub clock: Option<ClockKind>,
    pub clock_state: Option<ClockState>,
    pub due: Option<DateTime<Utc>>,
    /// Working minutes left on the active clock; negative once breached.
    pub minutes_left: Option<i64>,
    /// The active clock holds: the request waits for its department or for the citizen.
    pub clock_paused: bool,
    /// The open question to the citizen (`mcu reply --wait`): since, reminded_at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<crate::domain::request::Waiting>,
    /// The latest reply while it is not the citizen's yet: queued | sending | failed | unknown.
    pub reply_delivery: Option<crate::domain::request::DeliveryState>,
    /// That reply failed or its fate is unknown: the undelivered queue.
    pub undelivered: bool,
}

fn final_number<S: serde::Serializer>(n: &str, s: S) -> Result<S::Ok, S::Error> {
    match n.parse::<crate::domain::RequestNumber>() {
        Ok(n) if n.is_provisional() => s.serialize_none(),
        _ => s.serialize_str(n),
    }
}

impl RequestView {
    /// The number to print: the server's, or a note that it will follow.
    pub fn shown_number(&self, lang: crate::lang::Lang) -> String {
        if self.number_pending {
            lang.pick("номер после синхр.", "number after sync")
                .to_string()
        } else {
            self.number.clone()
        }
    }

    pub fn new(
        r: &Request,
        policy: &crate::domain::ClockPolicy,
        now: DateTime<Utc>,
    ) -> RequestView {
        let active = r.active_clock();
        let loc = r.location.as_ref();
        RequestView {
            number: r.number.to_string(),
            number_pending: r.number.is_provisional(),
            id: r.id.to_string(),
            status: r.status.to_string(),
            channel: r.channel.to_string(),
            external_id: r.external_id.clone(),
            topic: r.topic.clone(),
            department: r.department.clone(),
            assignee: r.assignee.clone(),
            priority: r.priority.to_string(),
            tags: r.tags.iter().cloned().collect(),
            citizen: r.citizen.clone(),
            phone: r.phone.as_deref().map(crate::domain::phone::display),
            text: r.text.clone(),
            address: loc.and_then(|l| l.address.clone()),
            attachments: r.attachments.clone(),
            lat: loc.and_then(|l| l.lat),
            lon: loc.and_then(|l| l.lon),
            received_at: r.received_at,
            first_response_due: r.first_response.due,
            first_response_at: r.first_response.stopped,
            department_due: r.department_clock.as_ref().map(|c| c.due),
            resolution_due: r.resolution.due,
            closed_at: r.closed_at,
            closed_reason: r.close_reason.map(|c| c.to_string()),
            parent: r.parent_id.map(|p| p.to_string()),
            clock: active.map(|(k, _)| k),
            clock_state: active.map(|(_, c)| c.state(now)),
            due: active.map(|(_, c)| c.due),
            minutes_left: active.map(|(_, c)| c.time_left(&policy.calendar, now).num_minutes()),
            clock_paused: active.is_some_and(|(_, c)| c.paused.is_some()),
            waiting: r.waiting,
            reply_delivery: r.reply.as_ref().map(|p| p.state),
            undelivered: r.undelivered(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DetailView<'a> {
    #[serde(flatten)]
    pub request: RequestView,
    #[serde(flatten)]
    pub thread: &'a Detail,
    /// «Вопрос решён?»: null when the citizen was never asked.
    pub feedback: Option<super::feedback::FeedbackView>,
}
