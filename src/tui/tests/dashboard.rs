//! The dashboard: keys as plain `update` calls, and the screen at 80×24 and 160×48 over a
//! seeded store whose numbers are counted again here, another way: the inbox's own filters,
//! SQL, and loops over whole requests with their clocks.

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::KeyCode;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

use super::super::app::{App, Mode, View};
use super::super::strings::Lang;
use super::super::update::{Cmd, Msg, update};
use super::{app, code, key, render, screen};
use crate::domain::dashboard::Dashboard;
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::sla::ClockState;
use crate::domain::{Catalog, Channel, ClockPolicy, CloseReason, Request, Status};
use crate::store::dashboard::Board;
use crate::store::{Env, Filter, Sort};
use crate::testkit::raw_file::RawFile;

const MSK: chrono_tz::Tz = chrono_tz::Europe::Moscow;

/// Wednesday 25 Nov 2026, 12:00 in Moscow.
fn now() -> DateTime<Utc> {
    MSK.with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .unwrap()
        .to_utc()
}

fn local(d: u32, h: u32) -> DateTime<Utc> {
    MSK.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap().to_utc()
}

struct Seeded {
    _dir: tempfile::TempDir,
    conn: RawFile,
}

/// A month of requests (denser today and a week ago) worked by three operators: replies early
/// and late, some never, forwards to departments with and without answers, closings.
fn seed() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = RawFile::open(&dir.path().join("d.sqlite3"));
    let clock = Arc::new(Mutex::new(now()));
    let c = clock.clone();
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(move || *c.lock().unwrap()),
    };
    let mut x: u64 = 7;
    let mut rnd = move |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    let topics = [
        "utilities",
        "roads",
        "urban",
        "transport",
        "waste",
        "animals",
    ];
    let channels = [Channel::Telegram, Channel::Vk, Channel::Pos, Channel::Phone];
    let actors = ["anna", "boris", "vera"];
    let mut received: Vec<DateTime<Utc>> = vec![];
    // Forty days back, a few a day.
    for i in 0..120 {
        received.push(now() - Duration::minutes(40 * 24 * 60 * (i + 1) / 121));
    }
    // A week ago: a working day's spread.
    for i in 0..18 {
        received.push(local(18, 8) + Duration::minutes(37 * i + rnd(30) as i64));
    }
    // Today since midnight.
    for i in 0..26 {
        received.push(local(25, 0) + Duration::minutes(27 * i + rnd(20) as i64));
    }
    received.retain(|r| *r <= now());
    received.sort();
    for at in received {
        let at_clock = |t: DateTime<Utc>| *clock.lock().unwrap() = t;
        at_clock(at);
        let topic = (rnd(10) > 0).then(|| topics[rnd(topics.len() as u64) as usize].to_string());
        let new = NewRequest {
            topic,
            citizen: Some("Жительница".into()),
            ..NewRequest::new(channels[rnd(4) as usize], "Обращение", at)
        };
        let id = Uuid::now_v7();
        let m = Mutation::new(id, "tg", at, Op::Create(Box::new(new)));
        conn.apply(&env, &m).unwrap();
        let actor = actors[rnd(3) as usize];
        let mut t = at;
        let mut run = |t: DateTime<Utc>, op: Op| -> bool {
            if t > now() {
                return false;
            }
            at_clock(t);
            let m = Mutation::new(id, actor, t, op);
            conn.apply(&env, &m).is_ok()
        };
        let fate = rnd(10);
        if fate == 0 {
            // Spam, closed unanswered within the hour.
            run(
                t + Duration::minutes(40),
                Op::Close {
                    reason: CloseReason::Spam,
                },
            );
            continue;
        }
        let recent = now() - at < Duration::hours(5);
        if (fate == 1 && now() - at < Duration::days(1)) || (recent && rnd(3) == 0) {
            // Nobody took it yet.
            continue;
        }
        t += Duration::minutes(1 + rnd(20) as i64);
        if !run(t, Op::Claim) {
            continue;
        }
        t += Duration::minutes(rnd(330) as i64);
        let message_id = Uuid::now_v7();
        let replied = run(
            t,
            Op::Reply {
                message_id,
                body: "Принято".into(),
            },
        );
        // The channel takes it at once: the reply counts from then.
        if !replied
            || !run(
                t,
                Op::Delivery {
                    message_id,
                    state: crate::domain::request::DeliveryState::Sent,
                },
            )
        {
            continue;
        }
        if rnd(10) < 4 {
            t += Duration::minutes(5 + rnd(30) as i64);
            if !run(
                t,
                Op::Forward {
                    department: None,
                    note_id: Uuid::now_v7(),
                    note: None,
                },
            ) {
                continue;
            }
            t += Duration::minutes(rnd(48 * 60) as i64);
            if !run(
                t,
                Op::DepartmentAnswer {
                    note_id: Uuid::now_v7(),
                    body: "Сделано".into(),
                    attachments: vec![],
                },
            ) {
                continue;
            }
        }
        // The archive is closed; the last days partly.
        if now() - at > Duration::days(3) || rnd(10) < 5 {
            t += Duration::minutes(rnd(30 * 60) as i64);
            run(
                t,
                Op::Close {
                    reason: CloseReason::Resolved,
                },
            );
        }
    }
    Seeded { _dir: dir, conn }
}

fn all_requests(conn: &RawFile) -> Vec<Request> {
    conn.inbox(&Filter::default(), Sort::Received, 10_000, now())
}

fn inbox_numbers(conn: &RawFile, state: ClockState) -> Vec<String> {
    let f = Filter {
        clock: Some(state),
        ..Default::default()
    };
    conn.inbox(&f, Sort::TimeLeft, 10_000, now())
        .iter()
        .map(|r| r.number.to_string())
        .collect()
}

/// Nearest rank, by sorting.
fn rank(mut v: Vec<i64>, p: f64) -> Option<u32> {
    v.sort();
    let n = v.len();
    (n > 0).then(|| v[((p * n as f64).ceil() as usize).clamp(1, n) - 1] as u32)
}

/// Every number on the dashboard, counted again over whole requests and the inbox's filters.
fn check(s: &Seeded, d: &Dashboard) {
    let all = all_requests(&s.conn);
    let n = now();
    // At risk and breached are the inbox's, request for request, in the inbox's order.
    let breached = inbox_numbers(&s.conn, ClockState::Breached);
    let at_risk = inbox_numbers(&s.conn, ClockState::AtRisk);
    assert_eq!(d.breached as usize, breached.len());
    assert_eq!(d.at_risk as usize, at_risk.len());
    let listed = |v: &[crate::domain::dashboard::Item]| {
        v.iter().map(|i| i.number.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(listed(&d.breached_list), breached[..breached.len().min(20)]);
    assert_eq!(listed(&d.at_risk_list), at_risk[..at_risk.len().min(20)]);
    assert!(d.breached > 0 && d.at_risk > 0, "the seed has both");

    for (i, st) in Status::ALL.iter().take(4).enumerate() {
        let c = all.iter().filter(|r| r.status == *st).count();
        assert_eq!(d.by_status[i] as usize, c, "{st:?}");
    }
    let day = local(25, 0);
    let week = local(23, 0);
    let month = local(1, 0);
    let closed_today = all
        .iter()
        .filter(|r| r.closed_at.is_some_and(|c| c >= day))
        .count();
    assert_eq!(d.closed_today as usize, closed_today);

    // The queue: wall-clock time left on the running clock; a held one is on its own.
    let running: Vec<&Request> = all
        .iter()
        .filter(|r| r.active_clock().is_some_and(|(_, c)| c.paused.is_none()))
        .collect();
    let within = |lo: i64, hi: i64| {
        running
            .iter()
            .filter(|r| {
                let left = (r.active_clock().unwrap().1.due - n).num_seconds();
                left > lo && left <= hi
            })
            .count() as u32
    };
    assert_eq!(d.queue[0], within(i64::MIN, 0));
    assert_eq!(d.forecast_hour, within(0, 3600));
    assert_eq!(d.queue[1..4].iter().sum::<u32>(), d.forecast_hour);
    assert_eq!(d.queue.iter().sum::<u32>() as usize, running.len());
    assert_eq!(d.queue[7], within(86_400, i64::MAX));

    // First-response clocks decided in each period, and response times of replies given in it.
    for (p, start) in [day, week, month].into_iter().enumerate() {
        let (mut met, mut missed) = (0, 0);
        let mut waits = vec![];
        for r in &all {
            let fr = &r.first_response;
            if let Some(s) = fr.stopped
                && s >= start
                && s <= n
            {
                waits.push((s - r.received_at).num_seconds());
            }
            let owed = fr.stopped.is_some() || r.closed_at.is_none_or(|c| c > fr.due);
            let decided = match fr.state(n) {
                ClockState::Ok => fr.stopped,
                ClockState::Breached if owed => Some(fr.due),
                _ => None,
            };
            if decided.is_some_and(|t| t >= start && t <= n) {
                if fr.state(n) == ClockState::Ok {
                    met += 1;
                } else {
                    missed += 1;
                }
            }
        }
        let share = d.within_target[p];
        assert_eq!((share.met, share.missed), (met, missed), "period {p}");
        let times = d.first_response[p];
        assert_eq!(times.count as usize, waits.len(), "period {p}");
        let mean =
            (!waits.is_empty()).then(|| (waits.iter().sum::<i64>() / waits.len() as i64) as u32);
        assert_eq!(times.mean, mean, "period {p}");
        assert_eq!(times.median, rank(waits.clone(), 0.5), "period {p}");
        assert_eq!(times.p90, rank(waits, 0.9), "period {p}");
    }
    assert!(d.within_target[0].missed > 0 && d.within_target[0].met > 0);

    // Intake by hour, in SQL.
    for (h, got) in d.intake_today.iter().enumerate() {
        let from = day + Duration::hours(h as i64);
        let to = (from + Duration::hours(1)).min(n + Duration::milliseconds(1));
        let c = s.conn.received_between(from, to);
        assert_eq!(*got, c, "today {h:02}");
    }
    for (h, got) in d.intake_week_ago.iter().enumerate() {
        let from = local(18, 0) + Duration::hours(h as i64);
        let c = s.conn.received_between(from, from + Duration::hours(1));
        assert_eq!(*got, c, "a week ago {h:02}");
    }
    let today: Vec<&Request> = all.iter().filter(|r| r.received_at >= day).collect();
    for (topic, c) in &d.topics {
        let direct = today.iter().filter(|r| r.topic == *topic).count() as u32;
        assert_eq!(*c, direct, "{topic:?}");
    }
    for (ch, c) in &d.channels {
        assert_eq!(*c, today.iter().filter(|r| r.channel == *ch).count() as u32);
    }
    assert_eq!(d.intake_total() as usize, today.len());

    // Operators: open requests they hold, first responses today on them.
    for o in &d.operators {
        let mine = |r: &&Request| r.assignee.as_deref() == Some(o.name.as_str());
        let claimed = all
            .iter()
            .filter(mine)
            .filter(|r| r.status.is_open())
            .count();
        let waits: Vec<i64> = all
            .iter()
            .filter(mine)
            .filter_map(|r| r.first_response.stopped.map(|s| (s, r.received_at)))
            .filter(|(s, _)| *s >= day)
            .map(|(s, rec)| (s - rec).num_seconds())
            .collect();
        assert_eq!(o.claimed as usize, claimed, "{}", o.name);
        assert_eq!(o.replied_today as usize, waits.len(), "{}", o.name);
        assert_eq!(o.median_first_response, rank(waits, 0.5), "{}", o.name);
    }
    assert_eq!(d.operators.len(), 3);
    // Departments: waiting, and late on the department's own clock.
    for dep in &d.departments {
        let waiting: Vec<&Request> = all
            .iter()
            .filter(|r| {
                r.status == Status::WaitingDepartment && r.department.as_deref() == Some(&dep.name)
            })
            .collect();
        let late = waiting
            .iter()
            .filter(|r| {
                r.department_clock
                    .as_ref()
                    .is_some_and(|c| c.state(n) == ClockState::Breached)
            })
            .count();
        assert_eq!(dep.waiting as usize, waiting.len(), "{}", dep.name);
        assert_eq!(dep.overdue as usize, late, "{}", dep.name);
    }
    let waiting = all
        .iter()
        .filter(|r| r.status == Status::WaitingDepartment)
        .count();
    assert_eq!(
        d.departments
            .iter()
            .map(|d| d.waiting as usize)
            .sum::<usize>(),
        waiting
    );
}

fn shown(lang: Lang, b: &Board) -> App {
    let mut a = app(lang, false);
    a.now = now();
    update(&mut a, key('b'));
    update(&mut a, Msg::Dashboard(Ok(Box::new(b.clone()))));
    a
}

#[test]
fn the_dashboard_agrees_with_an_independent_count_and_fits_both_sizes() {
    let s = seed();
    let b = s.conn.board(now(), MSK);
    check(&s, &b.dashboard);
    let d = &b.dashboard;

    let a = shown(Lang::Ru, &b);
    let small = screen(&render(&a, 80, 24));
    insta::assert_snapshot!("dashboard_80x24", small);
    // The essentials are on the small screen, with the numbers counted above.
    let pct = |i: usize| format!("{:.0}%", d.within_target[i].percent().unwrap());
    for needle in [
        format!("просрочено {}", d.breached),
        format!("под угрозой {}", d.at_risk),
        format!("нарушится за час: {}", d.forecast_hour),
        format!("новые {}", d.by_status[0]),
        format!("закрыто сегодня {}", d.closed_today),
        pct(0),
        pct(1),
        pct(2),
        d.breached_list[0].number.to_string(),
        d.at_risk_list[0].number.to_string(),
        "p90".to_string(),
    ] {
        assert!(small.contains(&needle), "80×24 shows `{needle}`:\n{small}");
    }

    let a = shown(Lang::En, &b);
    let big = screen(&render(&a, 160, 48));
    insta::assert_snapshot!("dashboard_160x48_in_english", big);
    for needle in [
        "Operators".to_string(),
        "Departments".to_string(),
        format!("today {}", d.intake_total()),
        d.operators[0].name.clone(),
        "Roads".to_string(),
        "breach within 1 h".to_string(),
    ] {
        assert!(big.contains(&needle), "160×48 shows `{needle}`:\n{big}");
    }
    let ru = screen(&render(&shown(Lang::Ru, &b), 160, 48));
    insta::assert_snapshot!("dashboard_160x48", ru);
}

#[test]
fn b_shows_the_dashboard_and_b_or_esc_returns() {
    let mut a = super::loaded(Lang::Ru);
    let cmds = update(&mut a, key('b'));
    assert!(a.dash.shown);
    assert_eq!(cmds, vec![Cmd::LoadDashboard]);
    // The Russian layout's и is the same key.
    update(&mut a, key('и'));
    assert!(!a.dash.shown);
    update(&mut a, code(KeyCode::F(2)));
    assert!(a.dash.shown);
    update(&mut a, code(KeyCode::Esc));
    assert!(!a.dash.shown);
    assert!(
        screen(&render(&a, 80, 24)).contains("b панель"),
        "the status line points to it"
    );
}

#[test]
fn the_dashboard_refreshes_on_the_tick_when_due_and_never_twice_at_once() {
    let mut a = super::loaded(Lang::Ru);
    let t0 = a.now;
    assert_eq!(update(&mut a, key('b')), vec![Cmd::LoadDashboard]);
    let tick = |a: &mut App, s: i64| update(a, Msg::Tick(t0 + Duration::seconds(s)));
    let loads = |c: &[Cmd]| c.iter().filter(|c| **c == Cmd::LoadDashboard).count();
    assert_eq!(loads(&tick(&mut a, 6)), 0, "still loading the first");
    update(&mut a, Msg::Dashboard(Err("busy".into())));
    assert!(a.flash.as_ref().is_some_and(|f| f.error));
    assert_eq!(loads(&tick(&mut a, 7)), 1, "five seconds passed");
    update(&mut a, Msg::Dashboard(Err("busy".into())));
    assert_eq!(loads(&tick(&mut a, 8)), 0);
    // A change here brings it sooner.
    update(&mut a, Msg::Applied(None, Ok("2026-000001".into())));
    assert_eq!(loads(&tick(&mut a, 9)), 1);
    update(&mut a, Msg::Dashboard(Err("busy".into())));
    // Hidden, it is not loaded at all.
    update(&mut a, key('b'));
    assert_eq!(loads(&tick(&mut a, 60)), 0);
}

#[test]
fn request_keys_are_refused_on_the_dashboard_and_readonly_says_so() {
    let s = seed();
    let b = s.conn.board(now(), MSK);
    let mut a = shown(Lang::Ru, &b);
    assert!(
        update(&mut a, key('c')).is_empty(),
        "no claim of an unseen row"
    );
    assert!(matches!(a.mode, Mode::Normal));
    assert!(
        a.flash
            .as_ref()
            .is_some_and(|f| f.error && f.text.contains("Enter"))
    );
    let mut ro = shown(Lang::Ru, &b);
    ro.readonly = true;
    assert!(update(&mut ro, key('r')).is_empty());
    assert!(
        ro.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("только просмотр"))
    );
    assert!(matches!(ro.mode, Mode::Normal), "no composer opened");
    // Help and quit still work.
    update(&mut ro, key('?'));
    assert!(matches!(ro.mode, Mode::Help));
}

#[test]
fn enter_opens_the_selected_request_in_the_at_risk_view() {
    let s = seed();
    let b = s.conn.board(now(), MSK);
    let mut a = shown(Lang::Ru, &b);
    let d = &b.dashboard;
    // Down past the breached list onto the first request at risk.
    for _ in 0..d.breached_list.len() {
        update(&mut a, key('j'));
    }
    let want = &d.at_risk_list[0];
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert!(!a.dash.shown);
    assert_eq!(a.view, View::AtRisk);
    assert_eq!(a.keep, b.ids.get(&want.key).copied());
    assert!(a.keep.is_some());
    match cmds.as_slice() {
        [Cmd::LoadPage { filter, append, .. }] => {
            assert!(filter.urgent && !append);
        }
        other => panic!("{other:?}"),
    }
    // The wheel moves along the lists too, within them.
    update(&mut a, key('b'));
    update(&mut a, Msg::Dashboard(Ok(Box::new(b.clone()))));
    update(&mut a, Msg::Scroll(-1000));
    assert_eq!(a.dash.selected, 0);
}
