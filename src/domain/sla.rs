//! The response clock: when a citizen's request is due and whether it is at risk.
//!
//! Pure: `now` is always a parameter. Working time comes from a [`Calendar`]: 24/7,
//! or weekly slots in local time of a zone minus holiday dates. Decisions that
//! callers can observe:
//!
//! - Counting starts at `started` if that is working time, else at the next slot
//!   start; so a zero target is due at that next slot start, and its `at_risk_at`
//!   equals `due`.
//! - Slots are closed at the start and open at the end (09:00–13:00 works at 09:00,
//!   not at 13:00), but a due date may fall exactly at a slot's end.
//! - Across DST changes working time is real elapsed time: a slot loses the hour the
//!   clocks skip inside it, and the hour repeated when clocks go back counts only if
//!   a slot was running at the moment they went back. No local time panics.

mod calendar;
mod config;
#[cfg(test)]
mod proptests;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub use calendar::{Calendar, CalendarError, Slot, SlotError};
pub use config::{CalendarConfig, CalendarMode, WeekConfig, parse_time_zone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Ok,
    AtRisk,
    Breached,
}

/// A response clock: started at `started`, due after `target` of working time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub started: DateTime<Utc>,
    #[serde(with = "seconds")]
    pub target: Duration,
    pub due: DateTime<Utc>,
    pub at_risk_at: DateTime<Utc>,
    pub stopped: Option<DateTime<Utc>>,
    /// Set while the clock is held (the request waits for a third party): time since does
    /// not count, and `due` moves on by as much when it runs again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<DateTime<Utc>>,
}

/// A working-time target as whole seconds on the wire.
mod seconds {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::seconds(i64::deserialize(d)?))
    }
}

/// For validating a configured ratio up front; [`Clock::start`] itself never fails.
pub fn check_at_risk_ratio(ratio: f64) -> Result<f64, CalendarError> {
    if ratio > 0.0 && ratio <= 1.0 {
        Ok(ratio)
    } else {
        Err(CalendarError::BadAtRiskRatio(ratio))
    }
}

impl Clock {
    /// `at_risk_ratio` in (0, 1], e.g. 0.75: the clock turns at risk when that share
    /// of the target has elapsed. A clock must always start, so a ratio outside the
    /// range is clamped into [0, 1] (NaN counts as 1: no early warning) and a negative
    /// target as zero; use [`check_at_risk_ratio`] to reject bad config instead.
    pub fn start(
        cal: &Calendar,
        started: DateTime<Utc>,
        target: Duration,
        at_risk_ratio: f64,
    ) -> Clock {
        let target = target.max(Duration::zero());
        let ratio = if at_risk_ratio.is_nan() {
            1.0
        } else {
            at_risk_ratio.clamp(0.0, 1.0)
        };
        Clock {
            started,
            target,
            due: cal.add_working(started, target),
            at_risk_at: cal.add_working(started, share(target, ratio)),
            stopped: None,
            paused: None,
        }
    }

    /// Holds a running clock at `at`; a stopped or already held one is left as it is.
    pub fn pause(&mut self, at: DateTime<Utc>) {
        if self.stopped.is_none() && self.paused.is_none() {
            self.paused = Some(at);
        }
    }

    /// Runs a held clock again at `at`: the working time that was left when it was held is
    /// left now. A warning or breach already reached when it was held stays reached.
    pub fn resume(&mut self, cal: &Calendar, at: DateTime<Utc>) {
        let Some(held) = self.paused.take() else {
            return;
        };
        let at = at.max(held);
        if self.due > held {
            self.due = cal.add_working(at, cal.working_between(held, self.due));
        }
        if self.at_risk_at > held {
            self.at_risk_at = cal.add_working(at, cal.working_between(held, self.at_risk_at));
        }
    }

    /// The first stop wins: a request answered once stays answered at that time.
    pub fn stop(&mut self, at: DateTime<Utc>) {
        self.stopped.get_or_insert(at);
    }

    /// Running: Breached if `now >= due`, AtRisk if `now >= at_risk_at`, else Ok.
    /// Stopped: Breached if stopped after `due`, else Ok, whatever `now` is.
    pub fn state(&self, now: DateTime<Utc>) -> ClockState {
        // A held clock shows what it showed when it was held.
        let now = self.paused.map_or(now, |p| now.min(p));
        match self.stopped {
            Some(stopped) if stopped > self.due => ClockState::Breached,
            Some(_) => ClockState::Ok,
            None if now >= self.due => ClockState::Breached,
            None if now >= self.at_risk_at => ClockState::AtRisk,
            None => ClockState::Ok,
        }
    }

    /// Working time left until due, negative when overdue; frozen at `stopped` once stopped.
    pub fn time_left(&self, cal: &Calendar, now: DateTime<Utc>) -> Duration {
        let now = self.paused.map_or(now, |p| now.min(p));
        cal.working_between(self.stopped.unwrap_or(now), self.due)
    }
}

/// `target * ratio` for a ratio in [0, 1], never more than `target`.
fn share(target: Duration, ratio: f64) -> Duration {
    // Nanoseconds fit any target under 292 years; beyond that milliseconds are precise enough.
    let scaled = match target.num_nanoseconds() {
        Some(ns) => Duration::nanoseconds((ns as f64 * ratio).round() as i64),
        None => Duration::milliseconds((target.num_milliseconds() as f64 * ratio).round() as i64),
    };
    scaled.min(target)
}

#[cfg(test)]
mod tests;
