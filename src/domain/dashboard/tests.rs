use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

const MSK: Tz = chrono_tz::Europe::Moscow;

/// Wednesday 25 Nov 2026, 12:00 in Moscow: the week began on Monday the 23rd, the month on
/// the 1st, and a week ago was Wednesday the 18th.
fn now() -> DateTime<Utc> {
    MSK.with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .unwrap()
        .to_utc()
}

fn msk(d: u32, h: u32, m: u32) -> u32 {
    secs(MSK.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap().to_utc())
}

fn names() -> Names {
    Names {
        topics: vec!["roads".into(), "utilities".into()],
        departments: vec!["city_economy".into(), "transport_roads".into()],
        operators: vec!["anna".into(), "boris".into()],
    }
}

/// An open request received at `received`, its first response due four hours later.
fn open(key: u32, received: u32) -> Fact {
    Fact {
        key,
        seq: key,
        received,
        answered: NEVER,
        first_due: received + 4 * 3600,
        due: received + 4 * 3600,
        risk: received + 3 * 3600,
        dep_due: NEVER,
        dep_risk: NEVER,
        closed: NEVER,
        year: 2026,
        topic: 0,
        department: 0,
        assignee: NOBODY,
        status: Status::New,
        channel: Channel::Telegram,
        running: Running::FirstResponse,
    }
}

fn answered(key: u32, received: u32, after_min: u32) -> Fact {
    let at = received + after_min * 60;
    Fact {
        answered: at,
        status: Status::InWork,
        running: Running::Resolution,
        due: received + 72 * 3600,
        risk: received + 54 * 3600,
        ..open(key, received)
    }
}

fn closed(f: Fact, at: u32) -> Fact {
    Fact {
        status: Status::Closed,
        closed: at,
        running: Running::None,
        due: NEVER,
        risk: NEVER,
        ..f
    }
}

#[test]
fn the_queue_is_bucketed_by_time_left_and_the_hour_ahead_is_forecast() {
    let now_s = secs(now());
    let facts = [
        open(1, now_s - 5 * 3600),       // breached an hour ago
        open(2, now_s - 4 * 3600),       // breached exactly now
        open(3, now_s - 4 * 3600 + 600), // 10 min left, at risk
        open(4, now_s - 3 * 3600 - 1),   // 59:59 left, at risk (warned at 3 h)
        open(5, now_s - 2 * 3600),       // 2 h left: ok, bucket 1–2 h
        open(6, now_s),                  // 4 h left
        Fact {
            running: Running::Held,
            due: NEVER,
            risk: NEVER,
            ..open(7, now_s - 10 * 3600)
        },
        closed(open(8, now_s - 9 * 3600), now_s - 8 * 3600),
    ];
    let d = compute(&facts, &names(), now(), MSK, 10);
    assert_eq!(d.queue, [2, 1, 0, 1, 1, 1, 0, 0]);
    assert_eq!((d.breached, d.at_risk, d.held), (2, 2, 1));
    assert_eq!(d.forecast_hour, 2, "10 min and 59:59 left");
    let keys = |v: &[Item]| v.iter().map(|i| i.key).collect::<Vec<_>>();
    assert_eq!(keys(&d.breached_list), vec![1, 2], "most overdue first");
    assert_eq!(keys(&d.at_risk_list), vec![3, 4]);
    assert_eq!(d.by_status, [7, 0, 0, 0, 0, 1]);
    assert_eq!(d.open(), 7);
    // The lists are capped, keeping the most urgent.
    let d = compute(&facts, &names(), now(), MSK, 1);
    assert_eq!(keys(&d.breached_list), vec![1]);
    assert_eq!(d.breached, 2, "the count is not capped");
}

#[test]
fn within_target_counts_each_clock_once_when_it_is_decided() {
    let today_9 = msk(25, 9, 0);
    let monday_9 = msk(23, 9, 0);
    let nov_2 = msk(2, 9, 0);
    let facts = [
        answered(1, today_9, 30),                            // met today
        answered(2, today_9 - 6 * 3600, 5 * 60), // replied late: missed at due (07:00 today)
        open(3, today_9 - 5 * 3600),             // unanswered and past due 08:00: missed
        open(4, today_9),                        // due 13:00: not decided yet
        closed(open(5, today_9 - 2 * 3600), today_9 - 3600), // closed unanswered before due
        closed(open(6, today_9 - 6 * 3600), today_9), // closed unanswered after due: missed
        answered(7, monday_9, 60),               // met this week
        answered(8, nov_2, 300),                 // missed this month (5 h)
        answered(9, msk(20, 9, 0), 10),          // met on 20 Nov: this month, not this week
    ];
    let d = compute(&facts, &names(), now(), MSK, 10);
    let [day, week, month] = d.within_target;
    assert_eq!((day.met, day.missed), (1, 3));
    assert_eq!((week.met, week.missed), (2, 3));
    assert_eq!((month.met, month.missed), (3, 4));
    assert_eq!(day.percent(), Some(25.0));
    assert_eq!(Share::default().percent(), None);
    // Response times are over replies given in the period, wall-clock.
    let [rd, rw, rm] = d.first_response;
    assert_eq!(
        rd.count, 2,
        "the 30-minute reply and the 5-hour one, both today"
    );
    assert_eq!(rd.mean, Some((30 * 60 + 300 * 60) / 2));
    assert_eq!((rd.median, rd.p90), (Some(30 * 60), Some(300 * 60)));
    assert_eq!(rw.count, 3);
    assert_eq!(rw.median, Some(60 * 60));
    assert_eq!(rm.count, 5);
    assert_eq!(
        rm.p90,
        Some(300 * 60),
        "rank ceil(0.9 × 5) = 5 of 10, 30, 60, 300, 300 min"
    );
}

#[test]
fn intake_by_local_hour_today_against_a_week_ago_with_shares() {
    let facts = [
        open(1, msk(25, 0, 0)),
        open(2, msk(25, 9, 59)),
        Fact {
            topic: NOBODY,
            channel: Channel::Vk,
            ..open(3, msk(25, 9, 0))
        },
        Fact {
            topic: 1,
            ..open(4, msk(25, 11, 59))
        },
        open(5, msk(24, 23, 59)), // yesterday
        open(6, msk(18, 9, 30)),  // a week ago
        open(7, msk(18, 23, 59)),
        open(8, msk(25, 12, 30)), // after now: not yet
    ];
    let d = compute(&facts, &names(), now(), MSK, 10);
    let mut today = [0; 24];
    today[0] = 1;
    today[9] = 2;
    today[11] = 1;
    assert_eq!(d.intake_today, today);
    let mut ago = [0; 24];
    ago[9] = 1;
    ago[23] = 1;
    assert_eq!(d.intake_week_ago, ago);
    assert_eq!(d.intake_total(), 4);
    assert_eq!(
        d.topics,
        vec![
            (Some("roads".to_string()), 2),
            (None, 1),
            (Some("utilities".to_string()), 1)
        ]
    );
    assert_eq!(d.channels, vec![(Channel::Telegram, 3), (Channel::Vk, 1)]);
}

#[test]
fn operators_and_departments_carry_their_load() {
    let now_s = secs(now());
    let today_9 = msk(25, 9, 0);
    let facts = [
        Fact {
            assignee: 0,
            ..answered(1, today_9, 20)
        },
        Fact {
            assignee: 0,
            ..answered(2, today_9, 40)
        },
        Fact {
            assignee: 0,
            ..answered(3, today_9, 90)
        },
        Fact {
            assignee: 1,
            ..open(4, today_9)
        },
        // Yesterday's reply counts as claimed, not as replied today.
        Fact {
            assignee: 1,
            ..answered(5, msk(24, 9, 0), 10)
        },
        Fact {
            status: Status::WaitingDepartment,
            running: Running::Department,
            department: 1,
            dep_due: now_s - 1,
            dep_risk: now_s - 3600,
            ..answered(6, today_9, 10)
        },
        Fact {
            status: Status::WaitingDepartment,
            running: Running::Department,
            department: 1,
            dep_due: now_s + 600,
            dep_risk: now_s - 60,
            ..answered(7, today_9, 10)
        },
        Fact {
            status: Status::WaitingDepartment,
            running: Running::Department,
            department: 0,
            dep_due: now_s + 6000,
            dep_risk: now_s + 3000,
            ..answered(8, today_9, 10)
        },
        // Forwarded unanswered: the citizen's clock is the running one, yet the department's
        // own clock is late and counts against it.
        Fact {
            status: Status::WaitingDepartment,
            running: Running::FirstResponse,
            department: 0,
            dep_due: now_s - 60,
            dep_risk: now_s - 600,
            ..open(9, today_9)
        },
    ];
    let d = compute(&facts, &names(), now(), MSK, 10);
    assert_eq!(
        d.operators,
        vec![
            OperatorLoad {
                name: "anna".into(),
                claimed: 3,
                replied_today: 3,
                median_first_response: Some(40 * 60),
            },
            OperatorLoad {
                name: "boris".into(),
                claimed: 2,
                replied_today: 0,
                median_first_response: None,
            },
        ]
    );
    assert_eq!(
        d.departments,
        vec![
            DepartmentLoad {
                name: "transport_roads".into(),
                waiting: 2,
                at_risk: 1,
                overdue: 1,
            },
            DepartmentLoad {
                name: "city_economy".into(),
                waiting: 2,
                at_risk: 0,
                overdue: 1,
            },
        ]
    );
}

#[test]
fn a_day_with_a_clock_change_has_its_hours_where_the_clocks_say() {
    // 2026-03-29: Berlin jumps from 02:00 to 03:00; the 02 hour is empty, 03 starts at 01:00Z.
    let berlin = chrono_tz::Europe::Berlin;
    let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
    let b = hours_of(berlin, day);
    let at = |h, m| secs(Utc.with_ymd_and_hms(2026, 3, 29, h, m, 0).unwrap());
    assert_eq!(hour_of(&b, at(0, 59)), Some(1), "01:59 CET");
    assert_eq!(hour_of(&b, at(1, 0)), Some(3), "03:00 CEST");
    assert_eq!(b[24] - b[0], 23 * 3600);
}

proptest! {
    #[test]
    fn percentile_is_the_nearest_rank_of_the_sorted_values(
        mut v in proptest::collection::vec(0u32..100_000, 0..200),
        p in 0.0f64..=1.0,
    ) {
        let mut sorted = v.clone();
        sorted.sort_unstable();
        let expected = if sorted.is_empty() {
            None
        } else {
            let rank = ((p * sorted.len() as f64).ceil() as usize).max(1);
            Some(sorted[rank - 1])
        };
        prop_assert_eq!(percentile(&mut v, p), expected);
    }
}
