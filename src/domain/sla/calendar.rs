//! Working calendars: when the response clock runs.
//!
//! Slots are written in local wall-clock time but working time is measured in real
//! (UTC) time, because the 4-hour target is a promise in real hours to a citizen.
//! Every local time is turned into an instant by one rule, [`first_instant`]:
//! the first instant at which the wall clock shows that time or later. The rule is
//! monotonic, so slots that are disjoint on the wall clock stay disjoint in real
//! time and nothing is counted twice across a DST change.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Duration, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::{GapInfo, Tz};

/// Days with working time never reach chrono's representable limits, so every
/// local/UTC conversion inside the walk succeeds; outside these instants nothing is
/// working time and [`Calendar::add_working`] saturates.
const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(-262_000, 1, 1) {
    Some(d) => d,
    None => panic!("FIRST_DAY is a valid date"),
};
const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(262_000, 1, 1) {
    Some(d) => d,
    None => panic!("LAST_DAY is a valid date"),
};
const WINDOW_START: DateTime<Utc> = FIRST_DAY.and_time(NaiveTime::MIN).and_utc();
const WINDOW_END: DateTime<Utc> = LAST_DAY.and_time(NaiveTime::MIN).and_utc();

/// One working interval of a day in local time: `start` inclusive, `end` exclusive.
/// `end: None` means 24:00, the midnight that ends the day, which `NaiveTime` cannot hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    pub start: NaiveTime,
    pub end: Option<NaiveTime>,
}

impl Slot {
    /// A slot checked the same way [`Calendar::working_hours`] checks it.
    pub fn new(start: NaiveTime, end: Option<NaiveTime>) -> Result<Slot, SlotError> {
        let slot = Slot { start, end };
        slot.check()?;
        Ok(slot)
    }

    /// The nominal (wall-clock) length; a DST change inside the slot makes the real length differ.
    pub fn duration(&self) -> Duration {
        match self.end {
            Some(end) => end - self.start,
            None => NaiveTime::MIN - self.start + Duration::days(1),
        }
    }

    fn check(&self) -> Result<(), SlotError> {
        // A leap second would make the wall-clock arithmetic ambiguous for no business value.
        for t in std::iter::once(self.start).chain(self.end) {
            if t.nanosecond() >= 1_000_000_000 {
                return Err(SlotError::BadTime(fmt_time(t)));
            }
        }
        match self.end {
            Some(end) if end <= self.start => Err(SlotError::EndNotAfterStart),
            _ => Ok(()),
        }
    }

    /// Whether `self` ends no later than `next` starts (touching slots are fine).
    fn ends_by(&self, next: &Slot) -> bool {
        self.end.is_some_and(|end| end <= next.start)
    }
}

fn fmt_time(t: NaiveTime) -> String {
    if t.second() == 0 && t.nanosecond() == 0 {
        t.format("%H:%M").to_string()
    } else {
        t.format("%H:%M:%S%.f").to_string()
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.end.map_or_else(|| "24:00".to_owned(), fmt_time);
        write!(f, "{}-{}", fmt_time(self.start), end)
    }
}

impl FromStr for Slot {
    type Err = SlotError;

    /// `"HH:MM-HH:MM"`; `"24:00"` is accepted as an end only.
    fn from_str(s: &str) -> Result<Slot, SlotError> {
        let (start, end) = s.split_once('-').ok_or(SlotError::Syntax)?;
        let start =
            parse_hhmm(start)?.ok_or_else(|| SlotError::BadTime(start.trim().to_owned()))?;
        Slot::new(start, parse_hhmm(end)?)
    }
}

/// `Ok(None)` is 24:00.
fn parse_hhmm(text: &str) -> Result<Option<NaiveTime>, SlotError> {
    let text = text.trim();
    let bad = || SlotError::BadTime(text.to_owned());
    let (h, m) = text.split_once(':').ok_or(SlotError::Syntax)?;
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return Err(SlotError::Syntax);
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if (h, m) == (24, 0) {
        return Ok(None);
    }
    NaiveTime::from_hms_opt(h, m, 0).map(Some).ok_or_else(bad)
}

/// What is wrong with one slot, without the day it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("expected \"HH:MM-HH:MM\"")]
    Syntax,
    #[error("{0:?} is not a time of day (00:00 to 23:59, or 24:00 as an end)")]
    BadTime(String),
    #[error("it ends before it starts; split a slot that crosses midnight at 24:00")]
    EndNotAfterStart,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown time zone {0:?}: expected an IANA name such as \"Europe/Moscow\"")]
    UnknownTimeZone(String),
    #[error("week.{}: slot {slot:?}: {problem}", day_key(.day))]
    BadSlot {
        day: Weekday,
        slot: String,
        problem: SlotError,
    },
    #[error("week.{}: slots \"{first}\" and \"{second}\" overlap", day_key(.day))]
    OverlappingSlots {
        day: Weekday,
        first: Slot,
        second: Slot,
    },
    #[error(
        "the week has no working time (week.mon to week.sun are all empty); \
         add slots or use mode = \"always\""
    )]
    NoWorkingTime,
    #[error("at_risk_ratio {0} is outside (0, 1]")]
    BadAtRiskRatio(f64),
    #[error("holiday_set {0:?}: expected \"ru\" or \"\" (none)")]
    UnknownHolidaySet(String),
}

/// The config key of a weekday, so errors point at the line to fix.
pub(super) fn day_key(day: &Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

pub(super) const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// When the response clock runs: always, or during weekly slots in a time zone minus holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    tz: Tz,
    hours: Option<Hours>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Hours {
    /// Monday first; each day sorted by start and non-overlapping.
    week: [Vec<Slot>; 7],
    holidays: BTreeSet<NaiveDate>,
}

impl Default for Calendar {
    fn default() -> Calendar {
        Calendar::always(Tz::Europe__Moscow)
    }
}

impl Calendar {
    /// 24/7: working time is real time; the zone only matters for display.
    pub fn always(tz: Tz) -> Calendar {
        Calendar { tz, hours: None }
    }

    /// Weekly slots (Monday first) in local time of `tz`; holidays are whole local days off.
    /// Slots may come in any order; they are sorted, and rejected if they overlap.
    pub fn working_hours(
        tz: Tz,
        week: [Vec<Slot>; 7],
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Calendar, CalendarError> {
        let week = check_week(week)?;
        // Holidays are finite, so a week with any slot guarantees add_working an answer.
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NoWorkingTime);
        }
        let holidays = holidays.into_iter().collect();
        Ok(Calendar {
            tz,
            hours: Some(Hours { week, holidays }),
        })
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn is_always(&self) -> bool {
        self.hours.is_none()
    }

    /// The weekly slots, Monday first; `None` for a 24/7 calendar.
    pub fn week(&self) -> Option<&[Vec<Slot>; 7]> {
        self.hours.as_ref().map(|h| &h.week)
    }

    /// Holidays; always empty for a 24/7 calendar.
    pub fn holidays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.hours.iter().flat_map(|h| h.holidays.iter().copied())
    }

    /// Whether the clock runs at `at`: slots are closed at their start and open at their end.
    pub fn is_working_at(&self, at: DateTime<Utc>) -> bool {
        let Some(hours) = &self.hours else {
            return true;
        };
        if at < WINDOW_START || at >= WINDOW_END {
            return false;
        }
        self.intervals(hours, self.day_of(at))
            .any(|(s, e)| s <= at && at < e)
    }

    /// The instant when `work` of working time has elapsed after `start`.
    ///
    /// Counting begins at `start` if it is working time, else at the next slot start,
    /// so for `work == 0` the answer is that counting point (the earliest moment a
    /// due date could be met). A positive `work` lands inside a slot or exactly at its
    /// end, never in the gap after it. A negative `work` counts backwards and lands at
    /// a slot start or inside a slot. An answer beyond chrono's range saturates at
    /// `DateTime::<Utc>::MAX_UTC` (or `MIN_UTC`). Cost is linear in the number of local
    /// days walked; days without slots cost no time-zone lookup.
    pub fn add_working(&self, start: DateTime<Utc>, work: Duration) -> DateTime<Utc> {
        let Some(hours) = &self.hours else {
            return start
                .checked_add_signed(work)
                .unwrap_or(if work < Duration::zero() {
                    DateTime::<Utc>::MIN_UTC
                } else {
                    DateTime::<Utc>::MAX_UTC
                });
        };
        if work < Duration::zero() {
            return self.sub_working(hours, start, -work);
        }
        let start = start.clamp(WINDOW_START, WINDOW_END);
        // Working time never exceeds real time, so this bounds the walk for absurd inputs.
        if work > WINDOW_END - start {
            return DateTime::<Utc>::MAX_UTC;
        }
        let mut left = work;
        let mut date = self.day_of(start);
        while date <= LAST_DAY {
            for (s, e) in self.intervals(hours, date) {
                if e <= start {
                    continue;
                }
                let from = s.max(start);
                if left <= e - from {
                    return from.checked_add_signed(left).unwrap_or(e);
                }
                left -= e - from;
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        DateTime::<Utc>::MAX_UTC
    }

    /// `add_working` with a negative amount: the latest instant with `work` of working time before `start`.
    fn sub_working(&self, hours: &Hours, start: DateTime<Utc>, work: Duration) -> DateTime<Utc> {
        let start = start.clamp(WINDOW_START, WINDOW_END);
        if work > start - WINDOW_START {
            return DateTime::<Utc>::MIN_UTC;
        }
        let mut left = work;
        let mut date = self.day_of(start);
        while date >= FIRST_DAY {
            for (s, e) in self.intervals(hours, date).rev() {
                if s >= start {
                    continue;
                }
                let to = e.min(start);
                if left <= to - s {
                    return to.checked_sub_signed(left).unwrap_or(s);
                }
                left -= to - s;
            }
            let Some(prev) = date.pred_opt() else { break };
            date = prev;
        }
        DateTime::<Utc>::MIN_UTC
    }

    /// Working time between `a` and `b`; negative when `b < a`, so "time left" goes
    /// negative once a request is overdue.
    pub fn working_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        if b < a {
            return -self.working_between(b, a);
        }
        let Some(hours) = &self.hours else {
            return b - a;
        };
        let (a, b) = (
            a.clamp(WINDOW_START, WINDOW_END),
            b.clamp(WINDOW_START, WINDOW_END),
        );
        if a == b {
            return Duration::zero();
        }
        let last = self.day_of(b);
        let mut total = Duration::zero();
        let mut date = self.day_of(a);
        while date <= last {
            for (s, e) in self.intervals(hours, date) {
                let (lo, hi) = (s.max(a), e.min(b));
                if hi > lo {
                    total += hi - lo;
                }
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        total
    }

    /// The local day whose slots may contain `at`: the day of the last local midnight
    /// reached at or before `at`.
    fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        let utc = at.naive_utc();
        let offset = self.tz.offset_from_utc_datetime(&utc).fix();
        let date = utc.checked_add_offset(offset).unwrap_or(utc).date();
        // When clocks go back across midnight, the wall date lags behind a midnight
        // that has already been reached once.
        match date.succ_opt() {
            Some(next) if at >= first_instant(self.tz, next.and_time(NaiveTime::MIN)) => next,
            _ => date,
        }
    }

    /// Real-time working intervals of a local day, in order; a slot swallowed whole
    /// by a spring-forward gap is dropped rather than yielded empty.
    fn intervals(
        &self,
        hours: &Hours,
        date: NaiveDate,
    ) -> impl DoubleEndedIterator<Item = (DateTime<Utc>, DateTime<Utc>)> {
        let slots: &[Slot] = if hours.holidays.contains(&date) {
            &[]
        } else {
            &hours.week[date.weekday().num_days_from_monday() as usize]
        };
        let tz = self.tz;
        slots.iter().filter_map(move |slot| {
            let end = match slot.end {
                Some(t) => date.and_time(t),
                None => date.succ_opt().unwrap_or(LAST_DAY).and_time(NaiveTime::MIN),
            };
            let s = first_instant(tz, date.and_time(slot.start)).max(WINDOW_START);
            let e = first_instant(tz, end).min(WINDOW_END);
            (s < e).then_some((s, e))
        })
    }
}

/// Sorts each day and checks every slot and every neighbouring pair.
pub(super) fn check_week(mut week: [Vec<Slot>; 7]) -> Result<[Vec<Slot>; 7], CalendarError> {
    for (day, slots) in WEEK.into_iter().zip(week.iter_mut()) {
        for slot in slots.iter() {
            slot.check().map_err(|problem| CalendarError::BadSlot {
                day,
                slot: slot.to_string(),
                problem,
            })?;
        }
        slots.sort_by_key(|s| s.start);
        if let Some(pair) = slots.windows(2).find(|w| !w[0].ends_by(&w[1])) {
            return Err(CalendarError::OverlappingSlots {
                day,
                first: pair[0],
                second: pair[1],
            });
        }
    }
    Ok(week)
}

/// The first instant at which the wall clock in `tz` shows `local` or later.
///
/// A time skipped when clocks go forward maps to the instant of the change; a time
/// repeated when clocks go back maps to its first occurrence. So the repeated hour
/// counts as working time exactly when a slot was running at the moment the clocks
/// went back, and a slot shrinks by the hour the clocks skip inside it.
fn first_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        MappedLocalTime::Single(t) => t.to_utc(),
        MappedLocalTime::Ambiguous(a, b) => a.to_utc().min(b.to_utc()),
        MappedLocalTime::None => match GapInfo::new(&local, &tz).and_then(|gap| gap.end) {
            Some(after_gap) => after_gap.to_utc(),
            // A real gap always has an end; this arm only keeps the function total.
            None => {
                let offset = tz.offset_from_utc_datetime(&local).fix();
                local.checked_sub_offset(offset).unwrap_or(local).and_utc()
            }
        },
    }
}
