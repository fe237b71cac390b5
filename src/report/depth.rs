//! What a shift lead reads past the totals: the period against the one before it, the days of
//! the period, why requests were closed, how long they took to be resolved, and which still
//! wait on a department. Computed from the same lines as the totals, so the two can't disagree.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::BTreeMap;

use super::Period;
use super::model::{ClockVerdict, Line, Report, Stats};
use crate::domain::sla::Calendar;
use crate::domain::{CloseReason, Status};

/// One local day of the period, by the day requests were received.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Day {
    pub date: Option<NaiveDate>,
    pub received: u64,
    /// First response in time.
    pub met: u64,
    /// First response late, or still none and overdue.
    pub late: u64,
    pub open: u64,
}

/// The period before, in the figures a lead compares.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    pub period: Period,
    pub requests: u64,
    pub within_share: Option<f64>,
    pub first_response_median_ms: Option<i64>,
    pub resolution_median_ms: Option<i64>,
}

impl Compared {
    pub fn of(r: &Report) -> Compared {
        Compared {
            period: r.period.clone(),
            requests: r.total.requests,
            within_share: r.total.within_share(),
            first_response_median_ms: r.total.stats.median_ms,
            resolution_median_ms: r.resolution.median_ms,
        }
    }
}

/// The days of `lines`, in order, each local day of the period present (a quiet day is a
/// row of zeros, not a gap).
pub fn days(lines: &[Line], period: &Period, cal: &Calendar) -> Vec<Day> {
    let tz = cal.tz();
    let mut by: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let mut d = period.first_day;
    while d <= period.last_day {
        by.insert(
            d,
            Day {
                date: Some(d),
                ..Day::default()
            },
        );
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    for l in lines {
        let date = l.request.received_at.with_timezone(&tz).date_naive();
        let day = by.entry(date).or_insert_with(|| Day {
            date: Some(date),
            ..Day::default()
        });
        day.received += 1;
        match l.outcome {
            ClockVerdict::Met(_) => day.met += 1,
            ClockVerdict::Late(_) | ClockVerdict::Overdue => day.late += 1,
            ClockVerdict::Running | ClockVerdict::NoReply => {}
        }
        if l.request.status.is_open() {
            day.open += 1;
        }
    }
    by.into_values().collect()
}

/// How many of `lines` were closed for each reason, most first; ties in the reasons' order.
pub fn close_reasons(lines: &[Line]) -> Vec<(CloseReason, u64)> {
    let mut out: Vec<(CloseReason, u64)> = CloseReason::ALL
        .iter()
        .map(|&reason| {
            let n = lines
                .iter()
                .filter(|l| l.request.close_reason == Some(reason))
                .count() as u64;
            (reason, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    out.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    out
}

/// Working time from receipt to closing of the requests closed as resolved.
pub fn resolution(lines: &[Line], cal: &Calendar) -> Stats {
    Stats::of(
        lines
            .iter()
            .filter(|l| l.request.close_reason == Some(CloseReason::Resolved))
            .filter_map(|l| {
                let closed = l.request.closed_at?;
                Some(
                    cal.working_between(l.request.received_at, closed)
                        .max(Duration::zero())
                        .num_milliseconds(),
                )
            })
            .collect(),
    )
}

/// The open requests waiting on a department, the longest waiting first.
pub fn waiting_department(lines: &[Line]) -> Vec<&Line> {
    let mut out: Vec<&Line> = lines
        .iter()
        .filter(|l| l.request.status == Status::WaitingDepartment)
        .collect();
    let since = |l: &Line| -> DateTime<Utc> {
        l.request
            .department_clock
            .as_ref()
            .map_or(l.request.received_at, |c| c.started)
    };
    out.sort_by_key(|l| (since(l), l.request.number.to_string()));
    out
}
