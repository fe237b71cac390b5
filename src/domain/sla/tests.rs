//! Unit tests of the response clock, apart from the clock so each file reads on its own.

use super::*;
use chrono::{NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

const MSK: Tz = Tz::Europe__Moscow;

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
}

fn slot(s: &str) -> Slot {
    s.parse().expect("valid test slot")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// Wall-clock time in `tz`, as an instant.
fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("unambiguous test time")
        .to_utc()
}

fn msk(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    at(MSK, y, mo, d, h, mi)
}

fn office_week() -> [Vec<Slot>; 7] {
    let day = || vec![slot("09:00-13:00"), slot("14:00-18:00")];
    [day(), day(), day(), day(), day(), vec![], vec![]]
}

fn office(holidays: &[NaiveDate]) -> Calendar {
    Calendar::working_hours(MSK, office_week(), holidays.iter().copied()).expect("valid calendar")
}

fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

#[test]
fn always_adds_real_time_exactly() {
    let cal = Calendar::always(MSK);
    let s = msk(2026, 3, 6, 23, 59);
    assert_eq!(cal.add_working(s, hours(4)), s + hours(4));
    assert_eq!(
        cal.add_working(s, Duration::seconds(-90)),
        s - Duration::seconds(90)
    );
    assert_eq!(cal.working_between(s, s + hours(30)), hours(30));
    assert_eq!(cal.working_between(s + hours(30), s), -hours(30));
    assert!(cal.is_always());
}

#[test]
fn friday_afternoon_request_is_due_monday_noon() {
    // 2026-03-06 is a Friday.
    let cal = office(&[]);
    let due = cal.add_working(msk(2026, 3, 6, 17, 0), hours(4));
    assert_eq!(due, msk(2026, 3, 9, 12, 0));
}

#[test]
fn a_monday_holiday_pushes_the_due_date_to_tuesday() {
    let cal = office(&[date(2026, 3, 9)]);
    let due = cal.add_working(msk(2026, 3, 6, 17, 0), hours(4));
    assert_eq!(due, msk(2026, 3, 10, 12, 0));
}

#[test]
fn start_before_the_first_slot_counts_from_the_slot_start() {
    let cal = office(&[]);
    let due = cal.add_working(msk(2026, 3, 4, 7, 12), hours(4));
    assert_eq!(due, msk(2026, 3, 4, 13, 0));
    let due = cal.add_working(msk(2026, 3, 4, 7, 12), hours(5));
    assert_eq!(due, msk(2026, 3, 4, 15, 0), "the lunch gap is skipped");
}

#[test]
fn start_in_the_lunch_gap_counts_from_the_afternoon() {
    let cal = office(&[]);
    let due = cal.add_working(msk(2026, 3, 4, 13, 20), hours(4));
    assert_eq!(
        due,
        msk(2026, 3, 4, 18, 0),
        "due exactly at the end of the slot"
    );
    let due = cal.add_working(msk(2026, 3, 4, 13, 20), hours(4) + Duration::minutes(1));
    assert_eq!(due, msk(2026, 3, 5, 9, 1));
}

#[test]
fn zero_work_lands_on_the_next_working_instant() {
    let cal = office(&[]);
    let inside = msk(2026, 3, 4, 10, 30);
    assert_eq!(cal.add_working(inside, Duration::zero()), inside);
    // 13:00 is the open end of the morning slot, so it is not working time.
    assert_eq!(
        cal.add_working(msk(2026, 3, 4, 13, 0), Duration::zero()),
        msk(2026, 3, 4, 14, 0)
    );
    assert_eq!(
        cal.add_working(msk(2026, 3, 7, 10, 0), Duration::zero()),
        msk(2026, 3, 9, 9, 0)
    );
}

#[test]
fn negative_work_counts_backwards() {
    let cal = office(&[]);
    let monday_10 = msk(2026, 3, 9, 10, 0);
    assert_eq!(
        cal.add_working(monday_10, -hours(2)),
        msk(2026, 3, 6, 17, 0)
    );
    assert_eq!(
        cal.working_between(monday_10, msk(2026, 3, 6, 17, 0)),
        -hours(2)
    );
}

#[test]
fn slots_are_local_moscow_time() {
    let cal = office(&[]);
    let s = Utc
        .with_ymd_and_hms(2026, 3, 4, 6, 30, 0)
        .single()
        .expect("valid");
    assert_eq!(s.with_timezone(&MSK).time(), t(9, 30));
    assert!(cal.is_working_at(s));
    assert!(!cal.is_working_at(s - hours(1)), "05:30Z is 08:30 MSK");
    assert_eq!(
        cal.add_working(s, Duration::minutes(30)),
        Utc.with_ymd_and_hms(2026, 3, 4, 7, 0, 0).unwrap()
    );
}

#[test]
fn working_between_spans_nights_weekends_and_holidays() {
    let cal = office(&[date(2026, 3, 9)]);
    assert_eq!(
        cal.working_between(msk(2026, 3, 6, 17, 0), msk(2026, 3, 10, 12, 0)),
        hours(4)
    );
    assert_eq!(
        cal.working_between(msk(2026, 3, 7, 0, 0), msk(2026, 3, 9, 23, 0)),
        Duration::zero()
    );
    assert_eq!(
        cal.working_between(msk(2026, 3, 2, 0, 0), msk(2026, 3, 9, 0, 0)),
        hours(40)
    );
}

#[test]
fn a_slot_may_end_at_midnight_and_join_the_next_day() {
    let mut week: [Vec<Slot>; 7] = Default::default();
    week[4] = vec![slot("20:00-24:00")];
    week[5] = vec![slot("00:00-02:00")];
    let cal = Calendar::working_hours(MSK, week, []).expect("valid calendar");
    let fri_23 = msk(2026, 3, 6, 23, 0);
    assert_eq!(cal.add_working(fri_23, hours(1)), msk(2026, 3, 7, 0, 0));
    assert_eq!(cal.add_working(fri_23, hours(2)), msk(2026, 3, 7, 1, 0));
    assert_eq!(cal.add_working(fri_23, hours(4)), msk(2026, 3, 13, 21, 0));
}

#[test]
fn touching_slots_are_allowed_and_unsorted_input_is_sorted() {
    let mut week: [Vec<Slot>; 7] = Default::default();
    week[0] = vec![slot("13:00-18:00"), slot("09:00-13:00")];
    let cal = Calendar::working_hours(MSK, week, []).expect("valid calendar");
    assert_eq!(cal.week().map(|w| w[0][0]), Some(slot("09:00-13:00")));
    assert_eq!(
        cal.add_working(msk(2026, 3, 9, 12, 0), hours(2)),
        msk(2026, 3, 9, 14, 0)
    );
}

#[test]
fn calendars_without_working_time_or_with_bad_slots_are_rejected() {
    let empty: [Vec<Slot>; 7] = Default::default();
    let err = Calendar::working_hours(MSK, empty, []).unwrap_err();
    assert_eq!(err, CalendarError::NoWorkingTime);

    let mut week: [Vec<Slot>; 7] = Default::default();
    week[2] = vec![slot("09:00-13:00"), slot("12:00-18:00")];
    let err = Calendar::working_hours(MSK, week, []).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"week.wed: slots "09:00-13:00" and "12:00-18:00" overlap"#
    );

    let mut week: [Vec<Slot>; 7] = Default::default();
    week[6] = vec![Slot {
        start: t(18, 0),
        end: Some(t(9, 0)),
    }];
    let err = Calendar::working_hours(MSK, week, []).unwrap_err();
    assert!(
        matches!(
            err,
            CalendarError::BadSlot {
                day: Weekday::Sun,
                problem: SlotError::EndNotAfterStart,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn slot_strings_round_trip_and_reject_garbage() {
    assert_eq!(
        slot("9:05-24:00"),
        Slot {
            start: t(9, 5),
            end: None
        }
    );
    assert_eq!(slot(" 09:00 - 13:00 ").to_string(), "09:00-13:00");
    assert_eq!(slot("22:00-24:00").duration(), hours(2));
    assert_eq!("0900-1300".parse::<Slot>(), Err(SlotError::Syntax));
    assert_eq!("09:00".parse::<Slot>(), Err(SlotError::Syntax));
    assert_eq!(
        "24:00-24:00".parse::<Slot>(),
        Err(SlotError::BadTime("24:00".into()))
    );
    assert_eq!(
        "09:60-10:00".parse::<Slot>(),
        Err(SlotError::BadTime("09:60".into()))
    );
    assert_eq!(
        "10:00-10:00".parse::<Slot>(),
        Err(SlotError::EndNotAfterStart)
    );
}

#[test]
fn clock_turns_at_risk_then_breached_at_the_right_instants() {
    let cal = office(&[]);
    let clock = Clock::start(&cal, msk(2026, 3, 6, 17, 0), hours(4), 0.75);
    assert_eq!(clock.due, msk(2026, 3, 9, 12, 0));
    assert_eq!(clock.at_risk_at, msk(2026, 3, 9, 11, 0));
    let one_ns = Duration::nanoseconds(1);
    assert_eq!(clock.state(msk(2026, 3, 6, 17, 0)), ClockState::Ok);
    assert_eq!(clock.state(clock.at_risk_at - one_ns), ClockState::Ok);
    assert_eq!(clock.state(clock.at_risk_at), ClockState::AtRisk);
    assert_eq!(clock.state(clock.due - one_ns), ClockState::AtRisk);
    assert_eq!(clock.state(clock.due), ClockState::Breached);
    assert_eq!(clock.state(clock.due + hours(100)), ClockState::Breached);
}

#[test]
fn stopped_clock_is_judged_by_its_stop_time() {
    let cal = office(&[]);
    let mut clock = Clock::start(&cal, msk(2026, 3, 4, 10, 0), hours(4), 0.75);
    assert_eq!(clock.due, msk(2026, 3, 4, 15, 0));
    let mut late = clock.clone();

    clock.stop(msk(2026, 3, 4, 14, 59));
    clock.stop(msk(2026, 3, 5, 10, 0));
    assert_eq!(
        clock.stopped,
        Some(msk(2026, 3, 4, 14, 59)),
        "the first stop wins"
    );
    assert_eq!(clock.state(msk(2026, 3, 10, 0, 0)), ClockState::Ok);
    assert_eq!(
        clock.time_left(&cal, msk(2026, 3, 10, 0, 0)),
        Duration::minutes(1)
    );

    late.stop(late.due);
    assert_eq!(
        late.state(late.due + hours(1)),
        ClockState::Ok,
        "answering exactly at due is in time"
    );
    let mut late = Clock {
        stopped: None,
        ..late
    };
    late.stop(msk(2026, 3, 4, 15, 1));
    assert_eq!(late.state(msk(2026, 3, 4, 15, 1)), ClockState::Breached);
}

#[test]
fn time_left_counts_working_time_and_goes_negative_when_overdue() {
    let cal = office(&[]);
    let clock = Clock::start(&cal, msk(2026, 3, 6, 17, 0), hours(4), 0.75);
    assert_eq!(clock.time_left(&cal, msk(2026, 3, 6, 17, 0)), hours(4));
    assert_eq!(clock.time_left(&cal, msk(2026, 3, 8, 12, 0)), hours(3));
    assert_eq!(
        clock.time_left(&cal, msk(2026, 3, 9, 15, 30)),
        -hours(2) - Duration::minutes(30)
    );
}

#[test]
fn zero_target_is_due_and_at_risk_at_the_next_slot_start() {
    let cal = office(&[]);
    let clock = Clock::start(&cal, msk(2026, 3, 7, 12, 0), Duration::zero(), 0.75);
    assert_eq!(
        (clock.due, clock.at_risk_at),
        (msk(2026, 3, 9, 9, 0), msk(2026, 3, 9, 9, 0))
    );
    assert_eq!(clock.state(msk(2026, 3, 8, 12, 0)), ClockState::Ok);
    assert_eq!(clock.state(msk(2026, 3, 9, 9, 0)), ClockState::Breached);
}

#[test]
fn bad_ratios_are_clamped_by_the_clock_and_rejected_by_the_check() {
    let cal = Calendar::always(MSK);
    let s = msk(2026, 3, 4, 10, 0);
    assert_eq!(
        Clock::start(&cal, s, hours(4), 7.0).at_risk_at,
        s + hours(4)
    );
    assert_eq!(
        Clock::start(&cal, s, hours(4), f64::NAN).at_risk_at,
        s + hours(4)
    );
    assert_eq!(Clock::start(&cal, s, hours(4), -1.0).at_risk_at, s);
    assert_eq!(Clock::start(&cal, s, -hours(4), 0.5).due, s);
    assert_eq!(check_at_risk_ratio(0.75), Ok(0.75));
    for bad in [0.0, -0.5, 1.5, f64::NAN] {
        assert!(
            check_at_risk_ratio(bad)
                .unwrap_err()
                .to_string()
                .contains("at_risk_ratio")
        );
    }
    assert!(
        check_at_risk_ratio(1.5)
            .unwrap_err()
            .to_string()
            .contains("1.5")
    );
}

#[test]
fn berlin_spring_forward_shortens_a_slot_by_the_skipped_hour() {
    // 2026-03-29 (Sunday): 02:00 CET jumps to 03:00 CEST.
    let berlin = Tz::Europe__Berlin;
    let mut week: [Vec<Slot>; 7] = Default::default();
    week[6] = vec![slot("01:00-05:00")];
    let cal = Calendar::working_hours(berlin, week, []).expect("valid calendar");
    let day = at(berlin, 2026, 3, 29, 0, 0);
    assert_eq!(cal.working_between(day, day + hours(24)), hours(3));
    assert_eq!(
        cal.add_working(day, hours(3)),
        at(berlin, 2026, 3, 29, 5, 0)
    );
    // A slot inside the gap does not exist that day, and skipping it terminates.
    let mut week: [Vec<Slot>; 7] = Default::default();
    week[6] = vec![slot("02:15-02:45")];
    let cal = Calendar::working_hours(berlin, week, []).expect("valid calendar");
    assert_eq!(cal.working_between(day, day + hours(24)), Duration::zero());
    assert_eq!(
        cal.add_working(day, Duration::minutes(10)),
        at(berlin, 2026, 4, 5, 2, 25)
    );
}

#[test]
fn berlin_fall_back_counts_the_repeated_hour_only_inside_a_running_slot() {
    // 2026-10-25 (Sunday): 03:00 CEST goes back to 02:00 CET, at 01:00Z.
    let berlin = Tz::Europe__Berlin;
    let day = at(berlin, 2026, 10, 25, 0, 0);
    let sunday = |slots: Vec<Slot>| {
        let mut week: [Vec<Slot>; 7] = Default::default();
        week[6] = slots;
        Calendar::working_hours(berlin, week, []).expect("valid calendar")
    };
    assert_eq!(
        sunday(vec![slot("01:00-05:00")]).working_between(day, day + hours(25)),
        hours(5)
    );
    // Both slots start or end inside the repeated hour; they meet at its first 02:30.
    let cal = sunday(vec![slot("00:00-02:30"), slot("02:30-04:00")]);
    assert_eq!(cal.working_between(day, day + hours(25)), hours(5));
    assert_eq!(
        cal.add_working(day, Duration::minutes(150)),
        Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap()
    );
    // The repeated hour ends a slot that started in it; only the first 02:00-03:00 begins it.
    let cal = sunday(vec![slot("02:30-03:00")]);
    assert_eq!(
        cal.working_between(day, day + hours(25)),
        Duration::minutes(90)
    );
    let cal = sunday(vec![slot("03:00-04:00")]);
    assert_eq!(cal.working_between(day, day + hours(25)), hours(1));
}

#[test]
fn moscow_2014_fall_back_is_handled() {
    // 2014-10-26: 02:00 MSK (+04) went back to 01:00 (+03) for good.
    let mut week: [Vec<Slot>; 7] = Default::default();
    week[6] = vec![slot("00:00-24:00")];
    let cal = Calendar::working_hours(MSK, week, []).expect("valid calendar");
    let midnight = Utc.with_ymd_and_hms(2014, 10, 25, 20, 0, 0).unwrap();
    assert_eq!(
        cal.working_between(midnight, midnight + hours(48)),
        hours(25)
    );
    assert_eq!(
        cal.add_working(midnight, hours(25)),
        Utc.with_ymd_and_hms(2014, 10, 26, 21, 0, 0).unwrap()
    );
}

#[test]
fn extreme_inputs_saturate_instead_of_panicking() {
    let cal = office(&[]);
    let s = msk(2026, 3, 4, 10, 0);
    assert_eq!(cal.add_working(s, Duration::MAX), DateTime::<Utc>::MAX_UTC);
    assert_eq!(cal.add_working(s, Duration::MIN), DateTime::<Utc>::MIN_UTC);
    assert_eq!(
        Calendar::always(MSK).add_working(s, Duration::MAX),
        DateTime::<Utc>::MAX_UTC
    );
    assert_eq!(
        cal.add_working(DateTime::<Utc>::MAX_UTC, hours(1)),
        DateTime::<Utc>::MAX_UTC
    );
    assert_eq!(
        cal.working_between(
            DateTime::<Utc>::MAX_UTC - hours(1),
            DateTime::<Utc>::MAX_UTC
        ),
        Duration::zero()
    );
    assert!(!cal.is_working_at(DateTime::<Utc>::MIN_UTC));
}

const TOML: &str = r#"
    timezone = "Asia/Vladivostok"
    mode = "working_hours"
    holidays = ["2026-01-01", "2026-01-02"]
    holiday_set = ""

    [week]
    mon = ["08:00-12:00", "13:00-17:00"]
    sat = ["10:00-24:00"]
"#;

#[test]
fn calendar_config_parses_from_toml_with_defaults_for_the_rest() {
    let config: CalendarConfig = toml::from_str(TOML).expect("valid config");
    assert_eq!(config.mode, CalendarMode::WorkingHours);
    assert_eq!(
        config.week.tue,
        vec!["09:00-13:00", "14:00-18:00"],
        "days left out keep the default"
    );
    assert!(config.week.sun.is_empty());
    assert_eq!(config.holidays, vec![date(2026, 1, 1), date(2026, 1, 2)]);

    let cal = config.build().expect("valid calendar");
    assert_eq!(cal.tz(), Tz::Asia__Vladivostok);
    let week = cal.week().expect("working hours");
    assert_eq!(
        week[5],
        vec![Slot {
            start: t(10, 0),
            end: None
        }]
    );
    assert_eq!(cal.holidays().count(), 2);
    // 2026-01-05 is a Monday; 08:00 in Vladivostok is 22:00Z the day before.
    assert_eq!(
        cal.add_working(Utc.with_ymd_and_hms(2026, 1, 4, 0, 0, 0).unwrap(), hours(5)),
        at(Tz::Asia__Vladivostok, 2026, 1, 5, 14, 0)
    );
}

#[test]
fn russias_days_off_are_shipped_and_the_new_year_waits_for_them() {
    let days = super::config::holiday_set("ru").expect("the shipped set parses");
    let mut unique = days.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), days.len(), "no day twice");
    for d in [
        date(2026, 1, 9),
        date(2026, 5, 11),
        date(2026, 12, 31),
        date(2027, 6, 14),
    ] {
        assert!(days.contains(&d), "{d}");
    }
    // Every listed day is a holiday or a day off moved onto a weekday of that year.
    assert!(
        days.iter()
            .all(|d| (2026..=2027).contains(&chrono::Datelike::year(d)))
    );
    let config: CalendarConfig = toml::from_str("mode = \"working_hours\"").unwrap();
    let cal = config.build().expect("valid calendar");
    // 30 Dec 2026 17:00: one hour today; then 31 Dec and 1–8 Jan are off, 9–10 Jan a weekend.
    assert_eq!(
        cal.add_working(at(MSK, 2026, 12, 30, 17, 0), hours(2)),
        at(MSK, 2027, 1, 11, 10, 0)
    );
    let none: CalendarConfig =
        toml::from_str("mode = \"working_hours\"\nholiday_set = \"\"").unwrap();
    assert_eq!(none.build().unwrap().holidays().count(), 0);
    let bad: CalendarConfig =
        toml::from_str("mode = \"working_hours\"\nholiday_set = \"fr\"").unwrap();
    assert!(bad.build().unwrap_err().to_string().contains("\"fr\""));
}

#[test]
fn empty_calendar_config_is_24_7_in_moscow() {
    let config: CalendarConfig = toml::from_str("").expect("valid config");
    assert_eq!(config, CalendarConfig::default());
    assert_eq!(config.timezone, "Europe/Moscow");
    assert_eq!(config.build(), Ok(Calendar::always(MSK)));
    let round_trip: CalendarConfig =
        toml::from_str(&toml::to_string(&config).expect("serializable")).expect("valid");
    assert_eq!(round_trip, config);
}

#[test]
fn holidays_may_be_bare_toml_dates_but_not_date_times() {
    let config: CalendarConfig =
        toml::from_str("holidays = [2026-05-01, \"2026-05-09\"]").expect("valid config");
    assert_eq!(config.holidays, vec![date(2026, 5, 1), date(2026, 5, 9)]);
    let err = toml::from_str::<CalendarConfig>("holidays = [2026-05-01T10:00:00]").unwrap_err();
    assert!(err.to_string().contains("2026-05-01T10:00:00"), "{err}");
    let err = toml::from_str::<CalendarConfig>("holidays = [\"2026-02-30\"]").unwrap_err();
    assert!(err.to_string().contains("\"2026-02-30\""), "{err}");
}

fn build_err(toml: &str) -> String {
    let config: CalendarConfig = toml::from_str(toml).expect("valid TOML");
    config.build().expect_err("invalid calendar").to_string()
}

#[test]
fn calendar_config_errors_name_the_bad_value() {
    let msg = build_err("mode = \"working_hours\"\n[week]\nmon = [\"25:00-26:00\"]");
    assert!(
        msg.contains("week.mon")
            && msg.contains("\"25:00-26:00\"")
            && msg.contains("\"25:00\" is not a time"),
        "{msg}"
    );

    let msg = build_err("mode = \"working_hours\"\n[week]\ntue = [\"18:00-09:00\"]");
    assert!(
        msg.contains("week.tue")
            && msg.contains("\"18:00-09:00\"")
            && msg.contains("ends before it starts"),
        "{msg}"
    );

    let msg = build_err("mode = \"working_hours\"\n[week]\nmon=[]\ntue=[]\nwed=[]\nthu=[]\nfri=[]");
    assert!(
        msg.contains("no working time") && msg.contains("week.mon"),
        "{msg}"
    );

    let msg = build_err("timezone = \"Mars/Olympus\"");
    assert!(
        msg.contains("\"Mars/Olympus\"") && msg.contains("time zone"),
        "{msg}"
    );

    // A typo in the week is reported even while the week is unused.
    let msg = build_err("mode = \"always\"\n[week]\nfri = [\"9-18\"]");
    assert!(
        msg.contains("week.fri") && msg.contains("\"9-18\""),
        "{msg}"
    );
}

#[test]
fn calendar_config_rejects_unknown_keys_and_modes() {
    assert!(toml::from_str::<CalendarConfig>("timezon = \"UTC\"").is_err());
    assert!(toml::from_str::<CalendarConfig>("[week]\nmonday = []").is_err());
    let err = toml::from_str::<CalendarConfig>("mode = \"business\"").unwrap_err();
    assert!(err.to_string().contains("business"), "{err}");
}
