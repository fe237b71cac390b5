//! The report's numbers, computed from request rows of one period.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use super::Period;
use crate::domain::sla::{Calendar, ClockState};
use crate::domain::{Request, Status};
use crate::store::{Env, Store, StoreError};

/// How a request's first-response clock ended or stands, judged as the console judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockVerdict {
    /// Answered by the due time; the working time it took.
    Met(Duration),
    /// Answered after the due time.
    Late(Duration),
    /// Still unanswered, open, and past its due time.
    Overdue,
    /// Still unanswered, open, and not yet due.
    Running,
    /// Closed without any reply (spam, a duplicate, no reply needed): no clock to judge.
    NoReply,
}

impl ClockVerdict {
    pub fn of(r: &Request, cal: &Calendar, now: DateTime<Utc>) -> ClockVerdict {
        let c = &r.first_response;
        match c.stopped {
            Some(at) => {
                let took = cal.working_between(c.started, at).max(Duration::zero());
                if c.state(now) == ClockState::Breached {
                    ClockVerdict::Late(took)
                } else {
                    ClockVerdict::Met(took)
                }
            }
            None if r.status == Status::Closed => ClockVerdict::NoReply,
            None if c.state(now) == ClockState::Breached => ClockVerdict::Overdue,
            None => ClockVerdict::Running,
        }
    }

    pub fn took(self) -> Option<Duration> {
        match self {
            ClockVerdict::Met(d) | ClockVerdict::Late(d) => Some(d),
            _ => None,
        }
    }

    /// Yes / no / not judged (running or closed without a reply).
    pub fn within_target(self) -> Option<bool> {
        match self {
            ClockVerdict::Met(_) => Some(true),
            ClockVerdict::Late(_) | ClockVerdict::Overdue => Some(false),
            ClockVerdict::Running | ClockVerdict::NoReply => None,
        }
    }
}

/// First-response times of the answered requests, in working milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub answered: u64,
    pub mean_ms: Option<f64>,
    /// Nearest-rank percentiles: the smallest time that at least p % of answers took.
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl Stats {
    pub(super) fn of(mut times: Vec<i64>) -> Stats {
        if times.is_empty() {
            return Stats::default();
        }
        times.sort_unstable();
        let n = times.len();
        let rank = |p: f64| times[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        Stats {
            answered: n as u64,
            mean_ms: Some(times.iter().map(|&t| t as f64).sum::<f64>() / n as f64),
            median_ms: Some(rank(0.5)),
            p90_ms: Some(rank(0.9)),
        }
    }
}

/// Totals of one channel, topic, department or operator (or of the whole period).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    /// The id (`roads`, `telegram`, an operator's name); None: without one.
    pub key: Option<String>,
    pub requests: u64,
    pub met: u64,
    pub late: u64,
    pub overdue: u64,
    pub running: u64,
    pub no_reply: u64,
    pub open: u64,
    pub out_of_scope: u64,
    pub stats: Stats,
}

impl Group {
    /// Judged in time or not: met + late + overdue.
    pub fn judged(&self) -> u64 {
        self.met + self.late + self.overdue
    }

    /// Share answered within target of those judged, 0..1; None when none was judged.
    pub fn within_share(&self) -> Option<f64> {
        let j = self.judged();
        (j > 0).then(|| self.met as f64 / j as f64)
    }
}

/// One request as the report lists it (open requests, the per-request sheet).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub request: Request,
    pub outcome: ClockVerdict,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub period: Period,
    pub generated_at: DateTime<Utc>,
    pub tz: chrono_tz::Tz,
    /// Working hours (not round the clock): times are working time.
    pub working_hours: bool,
    pub total: Group,
    pub by_channel: Vec<Group>,
    pub by_topic: Vec<Group>,
    pub by_department: Vec<Group>,
    pub by_operator: Vec<Group>,
    /// Streets (an address without its house number), most requests first; ties by name.
    pub streets: Vec<(String, u64)>,
    /// Every request of the period, in order of receipt; `open()` picks the open ones.
    pub lines: Vec<Line>,
    /// Mass incidents opened in the period (kept apart: an incident is no citizen's request).
    pub incidents: u64,
    /// Requests of the period that are members of an incident, and their distinct citizens.
    pub incident_members: u64,
    pub incident_citizens: u64,
    /// Every local day of the period (`depth::days`).
    pub days: Vec<super::depth::Day>,
    pub close_reasons: Vec<(crate::domain::CloseReason, u64)>,
    /// The departments by their own clock, returns included (`departments`).
    pub departments: Vec<super::departments::DepartmentRow>,
    /// Working time from receipt to closing of the resolved ones.
    pub resolution: Stats,
    /// The period before, when it was read (`build` reads it; `summarize` alone does not).
    pub previous: Option<super::depth::Compared>,
}

impl Report {
    pub fn open(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.request.status.is_open())
    }
}

/// The street of an address: `ул. Красная, 122` → `ул. Красная`; an address without a house
/// number after its last comma is its own street. Spaces are folded so spellings meet.
pub fn street(address: &str) -> Option<String> {
    let a = address.split_whitespace().collect::<Vec<_>>().join(" ");
    let a = a.trim_matches(|c: char| c == ',' || c == '.' || c.is_whitespace());
    if a.is_empty() {
        return None;
    }
    let s = match a.rsplit_once(',') {
        Some((street, house)) if house.trim_start().starts_with(|c: char| c.is_ascii_digit()) => {
            street.trim_end()
        }
        _ => a,
    };
    (!s.is_empty()).then(|| s.to_string())
}

pub fn is_out_of_scope(r: &Request) -> bool {
    r.topic.as_deref() == Some("out_of_scope")
        || r.close_reason == Some(crate::domain::CloseReason::OutOfScope)
}

#[derive(Default)]
struct Acc {
    group: Group,
    times: Vec<i64>,
}

impl Acc {
    fn add(&mut self, r: &Request, o: ClockVerdict) {
        let g = &mut self.group;
        g.requests += 1;
        match o {
            ClockVerdict::Met(_) => g.met += 1,
            ClockVerdict::Late(_) => g.late += 1,
            ClockVerdict::Overdue => g.overdue += 1,
            ClockVerdict::Running => g.running += 1,
            ClockVerdict::NoReply => g.no_reply += 1,
        }
        if r.status.is_open() {
            g.open += 1;
        }
        if is_out_of_scope(r) {
            g.out_of_scope += 1;
        }
        if let Some(t) = o.took() {
            self.times.push(t.num_milliseconds());
        }
    }

    fn finish(self, key: Option<String>) -> Group {
        Group {
            key,
            stats: Stats::of(self.times),
            ..self.group
        }
    }
}

fn groups(map: BTreeMap<Option<String>, Acc>) -> Vec<Group> {
    let mut v: Vec<Group> = map.into_iter().map(|(k, a)| a.finish(k)).collect();
    // Most requests first; "without one" after the named with as many; then by id.
    v.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then(a.key.is_none().cmp(&b.key.is_none()))
            .then(a.key.cmp(&b.key))
    });
    v
}

/// The period's requests, read by the store, added up here.
pub async fn build(
    store: &Store,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    build_for(store, period, now, None).await
}

/// The report of one department's requests (`only`): those given to it, and those it gave
/// back — a department's own monthly report. None: the whole center's.
pub async fn build_for(
    store: &Store,
    period: &Period,
    now: DateTime<Utc>,
    only: Option<&str>,
) -> Result<Report, StoreError> {
    let read = |from, to| async move {
        let mut requests = store.received_between(from, to).await?;
        let mut returns = store.returns_between(from, to).await?;
        if let Some(dep) = only {
            returns.retain(|(_, d)| d == dep);
            let gave_back: std::collections::BTreeSet<_> =
                returns.iter().map(|(id, _)| *id).collect();
            requests.retain(|r| r.department.as_deref() == Some(dep) || gave_back.contains(&r.id));
        }
        Ok::<_, StoreError>((requests, returns))
    };
    let (requests, returns) = read(period.start, period.end).await?;
    let mut report = summarize(requests, store.env(), period, now);
    report.departments =
        super::departments::rows(&report.lines, &returns, &store.env().policy.calendar, now);
    if let Some(before) = period.previous(store.env().policy.calendar.tz()) {
        let (requests, _) = read(before.start, before.end).await?;
        let earlier = summarize(requests, store.env(), &before, now);
        report.previous = Some(super::depth::Compared::of(&earlier));
    }
    Ok(report)
}

pub fn summarize(requests: Vec<Request>, env: &Env, period: &Period, now: DateTime<Utc>) -> Report {
    let cal = &env.policy.calendar;
    let mut total = Acc::default();
    let mut channel: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    let mut topic: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    let mut department: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    let mut operator: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    let mut streets: BTreeMap<String, u64> = BTreeMap::new();
    let mut lines = Vec::with_capacity(requests.len());
    let (mut incidents, mut incident_members) = (0, 0);
    let mut incident_citizens = std::collections::BTreeSet::new();
    for r in requests {
        if r.is_incident {
            incidents += 1;
            continue;
        }
        if r.incident_id.is_some() {
            incident_members += 1;
            incident_citizens.insert(
                r.channel_ref
                    .chat
                    .as_ref()
                    .map(|c| format!("{}:{c}", r.channel))
                    .or(r.citizen.clone())
                    .unwrap_or_else(|| r.id.to_string()),
            );
        }
        let o = ClockVerdict::of(&r, cal, now);
        total.add(&r, o);
        channel
            .entry(Some(r.channel.as_str().to_string()))
            .or_default()
            .add(&r, o);
        topic.entry(r.topic.clone()).or_default().add(&r, o);
        department
            .entry(r.department.clone())
            .or_default()
            .add(&r, o);
        operator.entry(r.assignee.clone()).or_default().add(&r, o);
        if let Some(s) = r
            .location
            .as_ref()
            .and_then(|l| l.address.as_deref())
            .and_then(street)
        {
            *streets.entry(s).or_default() += 1;
        }
        lines.push(Line {
            request: r,
            outcome: o,
        });
    }
    let mut streets: Vec<(String, u64)> = streets.into_iter().collect();
    streets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let days = super::depth::days(&lines, period, cal);
    let close_reasons = super::depth::close_reasons(&lines);
    let resolution = super::depth::resolution(&lines, cal);
    let departments = super::departments::rows(&lines, &[], cal, now);
    Report {
        departments,
        days,
        close_reasons,
        resolution,
        previous: None,
        period: period.clone(),
        generated_at: now,
        tz: cal.tz(),
        working_hours: !cal.is_always(),
        total: total.finish(None),
        by_channel: groups(channel),
        by_topic: groups(topic),
        by_department: groups(department),
        by_operator: groups(operator),
        streets,
        lines,
        incidents,
        incident_members,
        incident_citizens: incident_citizens.len() as u64,
    }
}
