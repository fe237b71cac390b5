//! Summaries for a period (`mcu report`): totals by channel, topic, department and operator,
//! first-response statistics, the share answered within target, out-of-scope share, the
//! streets with most requests and the requests still open; written as Markdown, CSV or XLSX.
//! Also the one-row-per-request export that `mcu report --requests` and `mcu list --csv` share.
//!
//! The report reads request rows and judges every first-response clock with the domain's own
//! `Clock::state`, so "within target" is what the console shows as met or breached.

pub mod departments;
pub mod depth;
mod depth_tables;
pub mod export;
pub mod feedback;
pub mod model;
pub mod tables;
pub mod write;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

pub use model::{ClockVerdict, Group, Report, Stats, build};

/// A half-open range of instants [start, end), chosen as whole local days in the center's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// First and last local day, inclusive, for titles.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("`{0}` is not a month (expected like 2026-10)")]
    BadMonth(String),
    #[error("`{0}` is not a date (expected like 2026-10-01)")]
    BadDate(String),
    #[error("--from {0} is after --to {1}")]
    Reversed(NaiveDate, NaiveDate),
    #[error("give the period: --month YYYY-MM, or --from YYYY-MM-DD [--to YYYY-MM-DD]")]
    Missing,
    #[error("local midnight of {0} does not exist in the time zone")]
    NoMidnight(NaiveDate),
}

impl PeriodError {
    pub fn ru(&self) -> String {
        match self {
            PeriodError::BadMonth(s) => format!("`{s}` — не месяц (нужно вида 2026-10)"),
            PeriodError::BadDate(s) => format!("`{s}` — не дата (нужно вида 2026-10-01)"),
            PeriodError::Reversed(a, b) => format!("--from {a} позже, чем --to {b}"),
            PeriodError::Missing => {
                "укажите период: --month ГГГГ-ММ или --from ГГГГ-ММ-ДД [--to ГГГГ-ММ-ДД]".into()
            }
            PeriodError::NoMidnight(d) => format!("в часовом поясе нет полуночи {d}"),
        }
    }
}

fn midnight(tz: Tz, d: NaiveDate) -> Result<DateTime<Utc>, PeriodError> {
    // A zone that skips midnight (DST at 00:00) starts the day at the first instant it has.
    let local = d.and_hms_opt(0, 0, 0).ok_or(PeriodError::NoMidnight(d))?;
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => Ok(t.to_utc()),
        None => (1..=120)
            .find_map(|m| {
                tz.from_local_datetime(&(local + Duration::minutes(m)))
                    .earliest()
            })
            .map(|t| t.to_utc())
            .ok_or(PeriodError::NoMidnight(d)),
    }
}

fn parse_date(s: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| PeriodError::BadDate(s.into()))
}

impl Period {
    /// Whole local days `first..=last`.
    pub fn days(tz: Tz, first: NaiveDate, last: NaiveDate) -> Result<Period, PeriodError> {
        if first > last {
            return Err(PeriodError::Reversed(first, last));
        }
        let after = last
            .succ_opt()
            .ok_or(PeriodError::BadDate(last.to_string()))?;
        Ok(Period {
            start: midnight(tz, first)?,
            end: midnight(tz, after)?,
            first_day: first,
            last_day: last,
        })
    }

    /// `2026-10`: the calendar month in the center's zone.
    pub fn month(tz: Tz, s: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError::BadMonth(s.into());
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let y: i32 = y.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        let first = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
        let next = if m == 12 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(y, m + 1, 1)
        }
        .ok_or_else(bad)?;
        let last = next.pred_opt().ok_or_else(bad)?;
        Period::days(tz, first, last)
    }

    /// The command line's choice: `--month`, or `--from` with `--to` (default: today).
    pub fn from_args(
        tz: Tz,
        month: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Period, PeriodError> {
        match (month, from, to) {
            (Some(m), None, None) => Period::month(tz, m),
            (None, Some(f), to) => {
                let first = parse_date(f)?;
                let last = match to {
                    Some(t) => parse_date(t)?,
                    None => now.with_timezone(&tz).date_naive(),
                };
                Period::days(tz, first, last)
            }
            _ => Err(PeriodError::Missing),
        }
    }

    /// The period before this one in `tz`: the month before a whole calendar month, else as
    /// many days just before. None before the calendar's start.
    pub fn previous(&self, tz: Tz) -> Option<Period> {
        use chrono::Datelike;
        let days = (self.last_day - self.first_day).num_days() + 1;
        let whole_month =
            self.first_day.day() == 1 && self.last_day.succ_opt().is_some_and(|d| d.day() == 1);
        let last = self.first_day.pred_opt()?;
        let first = if whole_month {
            last.with_day(1)?
        } else {
            self.first_day.checked_sub_signed(Duration::days(days))?
        };
        Period::days(tz, first, last).ok()
    }

    /// `2026-10-01 – 2026-10-31`.
    pub fn title(&self) -> String {
        format!("{} – {}", self.first_day, self.last_day)
    }
}

#[cfg(test)]
mod tests;
