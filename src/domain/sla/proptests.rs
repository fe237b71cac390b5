//! Property tests for the working-time arithmetic, including a brute-force oracle
//! that knows nothing of the slot walk.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::{Calendar, Slot};

const QUARTER: i64 = 15 * 60;

fn zone() -> impl Strategy<Value = Tz> {
    prop_oneof![
        Just(Tz::Europe__Moscow),
        Just(Tz::Europe__Berlin),
        Just(Tz::Asia__Vladivostok),
        Just(Tz::UTC),
    ]
}

/// Quarter-hours since midnight; 96 is 24:00.
fn quarter_time(q: u32) -> Option<NaiveTime> {
    (q < 96)
        .then(|| NaiveTime::from_hms_opt(q / 4, (q % 4) * 15, 0))
        .flatten()
}

/// 1–3 slots on quarter-hour boundaries, with edges drawn often from 02:00–03:00
/// where the clocks change in Europe and from midnight.
fn open_day() -> impl Strategy<Value = Vec<Slot>> {
    let edge =
        prop_oneof![3 => 0u32..=96, 1 => 8u32..=12, 1 => prop_oneof![Just(0u32), Just(96u32)]];
    (1usize..=3)
        .prop_flat_map(move |n| prop::collection::btree_set(edge.clone(), 2 * n))
        .prop_map(|points| {
            let points: Vec<u32> = points.into_iter().collect();
            points
                .chunks(2)
                .filter_map(|pair| {
                    Some(Slot {
                        start: quarter_time(pair[0])?,
                        end: quarter_time(pair[1]),
                    })
                })
                .collect()
        })
}

fn week() -> impl Strategy<Value = [Vec<Slot>; 7]> {
    let day = prop_oneof![3 => open_day(), 1 => Just(Vec::new())];
    prop::array::uniform7(day).prop_filter("some working time", |w| w.iter().any(|d| !d.is_empty()))
}

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

/// Any instant in 2024–2026, often on a quarter-hour so it meets slot edges exactly.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let span = 3 * 365 * 86_400_i64;
    prop_oneof![
        (0..span * 1000).prop_map(|ms| epoch() + Duration::milliseconds(ms)),
        (0..span / QUARTER).prop_map(|q| epoch() + Duration::seconds(q * QUARTER)),
    ]
}

/// Up to ten days, often in whole quarter-hours.
fn work() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0..=10 * 86_400_000_i64).prop_map(Duration::milliseconds),
        (0..=10 * 96_i64).prop_map(|q| Duration::seconds(q * QUARTER)),
    ]
}

/// A working-hours calendar and an instant, with holidays both scattered over the
/// years and packed into the fortnight after the instant, where they matter.
fn calendar_and_instant() -> impl Strategy<Value = (Calendar, DateTime<Utc>)> {
    (
        zone(),
        week(),
        instant(),
        prop::collection::vec(0u64..3 * 366, 0..30),
        prop::collection::vec(0u64..16, 0..6),
    )
        .prop_map(|(tz, week, start, far, near)| {
            let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
            let local = start.with_timezone(&tz).date_naive();
            let holidays = far
                .into_iter()
                .map(|d| first + chrono::Days::new(d))
                .chain(near.into_iter().map(|d| local + chrono::Days::new(d)));
            let cal = Calendar::working_hours(tz, week, holidays).unwrap();
            (cal, start)
        })
}

fn is_holiday(cal: &Calendar, date: NaiveDate) -> bool {
    cal.holidays().any(|h| h == date)
}

fn wall_clock_in_slot(slots: &[Slot], time: NaiveTime) -> bool {
    slots
        .iter()
        .any(|s| s.start <= time && s.end.is_none_or(|end| time < end))
}

fn weekday_slots(week: &[Vec<Slot>; 7], date: NaiveDate) -> &[Slot] {
    &week[date.weekday().num_days_from_monday() as usize]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A held clock counts exactly its target of working time outside the hold, whatever the
    /// calendar, the zone's DST and the holidays; and it shows what it showed when held.
    #[test]
    fn a_held_clock_counts_its_target_outside_the_hold(
        (cal, s) in calendar_and_instant(),
        target in work(),
        to_hold in work(),
        held_for in 0i64..(30 * 24 * 60),
    ) {
        let target = target.abs();
        let mut c = super::Clock::start(&cal, s, target, 0.75);
        let p = s + to_hold.abs();
        let r = p + chrono::Duration::minutes(held_for);
        let before = c.clone();
        c.pause(p);
        prop_assert_eq!(c.state(r), before.state(p));
        prop_assert_eq!(c.time_left(&cal, r), before.time_left(&cal, p));
        c.resume(&cal, r);
        prop_assert!(c.paused.is_none());
        if p < before.due {
            let counted = cal.working_between(s, p) + cal.working_between(r, c.due);
            prop_assert_eq!(counted, target);
            prop_assert!(c.at_risk_at <= c.due);
        } else {
            // Already late when held: the breach stands.
            prop_assert_eq!(c.due, before.due);
        }
        // Holding and running again at once changes nothing.
        let mut same = before.clone();
        same.pause(p);
        same.resume(&cal, p);
        prop_assert_eq!(same, before);
    }

    #[test]
    fn add_then_measure_gives_back_the_work((cal, s) in calendar_and_instant(), d in work()) {
        let due = cal.add_working(s, d);
        prop_assert!(due >= s);
        prop_assert_eq!(cal.working_between(s, due), d);
    }

    #[test]
    fn add_working_is_monotonic_in_work_and_start(
        (cal, s) in calendar_and_instant(),
        d1 in work(),
        d2 in work(),
        shift in 0..3 * 86_400_000_i64,
    ) {
        let (lo, hi) = (d1.min(d2), d1.max(d2));
        prop_assert!(cal.add_working(s, lo) <= cal.add_working(s, hi));
        let later = s + Duration::milliseconds(shift);
        prop_assert!(cal.add_working(s, lo) <= cal.add_working(later, lo));
    }

    #[test]
    fn positive_work_ends_in_a_slot_on_a_working_day((cal, s) in calendar_and_instant(), d in work()) {
        prop_assume!(d > Duration::zero());
        let due = cal.add_working(s, d);
        let last_worked = due - Duration::nanoseconds(1);
        prop_assert!(cal.is_working_at(last_worked));
        // Checked on the wall clock too, away from DST changes where the wall clock repeats or skips.
        let tz = cal.tz();
        let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        if offset(due - Duration::hours(3)) == offset(due + Duration::hours(3)) {
            let wall = last_worked.with_timezone(&tz).naive_local();
            prop_assert!(!is_holiday(&cal, wall.date()), "due {} on holiday {}", due, wall.date());
            let week = cal.week().unwrap();
            prop_assert!(wall_clock_in_slot(weekday_slots(week, wall.date()), wall.time()), "{} outside slots", wall);
        }
    }

    #[test]
    fn zero_work_waits_for_working_time((cal, s) in calendar_and_instant()) {
        let begin = cal.add_working(s, Duration::zero());
        prop_assert!(begin >= s);
        prop_assert!(cal.is_working_at(begin));
        prop_assert_eq!(begin == s, cal.is_working_at(s));
        prop_assert_eq!(cal.working_between(s, begin), Duration::zero());
    }

    #[test]
    fn negative_work_counts_back((cal, s) in calendar_and_instant(), d in work()) {
        // Minus zero is zero, which waits forward for working time instead.
        prop_assume!(d > Duration::zero());
        let earlier = cal.add_working(s, -d);
        prop_assert!(earlier <= s);
        prop_assert_eq!(cal.working_between(s, earlier), -d);
    }

    #[test]
    fn working_between_is_antisymmetric_and_additive(
        (cal, a) in calendar_and_instant(),
        to_b in -5 * 86_400_000_i64..5 * 86_400_000,
        to_c in -5 * 86_400_000_i64..5 * 86_400_000,
    ) {
        let b = a + Duration::milliseconds(to_b);
        let c = b + Duration::milliseconds(to_c);
        let ab = cal.working_between(a, b);
        prop_assert_eq!(ab, -cal.working_between(b, a));
        prop_assert_eq!(cal.working_between(a, c), ab + cal.working_between(b, c));
        prop_assert!(ab.abs() <= (b - a).abs());
        prop_assert_eq!(ab < Duration::zero(), to_b < 0 && ab != Duration::zero());
    }

    #[test]
    fn always_is_plain_arithmetic(tz in zone(), s in instant(), d in work(), back in any::<bool>()) {
        let cal = Calendar::always(tz);
        let d = if back { -d } else { d };
        prop_assert_eq!(cal.add_working(s, d), s + d);
        prop_assert_eq!(cal.working_between(s, s + d), d);
    }

    /// Brute force over quarter-hour cells across the DST changes of 2010–2016
    /// (Moscow and Vladivostok still had them then) and of recent years.
    #[test]
    fn slot_walk_matches_a_wall_clock_oracle(
        tz in zone(),
        week in week(),
        year in prop_oneof![2010..=2016, 2024..=2026],
        month in prop_oneof![2 => prop_oneof![Just(3u32), Just(10u32)], 1 => 1..=12u32],
        quarters_before in 0..3 * 96_i64,
        holidays in prop::collection::btree_set(0u64..40, 0..8),
        quarters in 0..=3 * 96_usize,
    ) {
        // Clocks changed on the last Sunday of March and October in all these zones.
        let base = last_sunday(year, month) - chrono::Days::new(7);
        let start = last_sunday(year, month).and_time(NaiveTime::MIN).and_utc() - Duration::seconds(quarters_before * QUARTER);
        let holidays: BTreeSet<NaiveDate> = holidays.into_iter().map(|d| base + chrono::Days::new(d)).collect();
        let cal = Calendar::working_hours(tz, week.clone(), holidays.iter().copied()).unwrap();
        let cells = oracle_cells(tz, &week, &holidays, start, 45 * 96);

        let measured = cal.working_between(start, start + Duration::seconds(quarters as i64 * QUARTER));
        let expected = cells[..quarters].iter().filter(|w| **w).count() as i64;
        prop_assert_eq!(measured, Duration::seconds(expected * QUARTER));

        // The cell that completes the work ends at the due instant; zero work waits for the first working cell.
        let completing = if quarters == 0 {
            cells.iter().position(|w| *w)
        } else {
            cells.iter().enumerate().filter(|(_, w)| **w).nth(quarters - 1).map(|(i, _)| i + 1)
        };
        prop_assume!(completing.is_some());
        let expected_due = start + Duration::seconds(completing.unwrap_or(0) as i64 * QUARTER);
        prop_assert_eq!(cal.add_working(start, Duration::seconds(quarters as i64 * QUARTER)), expected_due);
    }
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let last = NaiveDate::from_ymd_opt(year, month + 1, 1)
        .or_else(|| NaiveDate::from_ymd_opt(year + 1, 1, 1))
        .and_then(|d| d.pred_opt())
        .unwrap();
    last - chrono::Days::new(u64::from(last.weekday().num_days_from_sunday()))
}

/// Whether each quarter-hour from `from` is working time, judged from the wall clock
/// only. Through a fall-back the wall clock is held at its high-water mark, which is
/// the documented policy: the repeated hour works iff a slot was running when the
/// clocks went back.
fn oracle_cells(
    tz: Tz,
    week: &[Vec<Slot>; 7],
    holidays: &BTreeSet<NaiveDate>,
    from: DateTime<Utc>,
    count: usize,
) -> Vec<bool> {
    let wall = |t: DateTime<Utc>| t.with_timezone(&tz).naive_local();
    // Start the high-water mark early enough to have seen any fold before `from`.
    let mut high: NaiveDateTime = (1..=12)
        .map(|k| wall(from - Duration::seconds(k * QUARTER)))
        .fold(NaiveDateTime::MIN, NaiveDateTime::max);
    (0..count as i64)
        .map(|k| {
            high = high.max(wall(from + Duration::seconds(k * QUARTER)));
            !holidays.contains(&high.date())
                && wall_clock_in_slot(weekday_slots(week, high.date()), high.time())
        })
        .collect()
}
