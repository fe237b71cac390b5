//! Periods, streets, and a small month checked by hand in every format.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use std::sync::Arc;
use uuid::Uuid;

use super::export::Lang;
use super::model::{ClockVerdict, street, summarize};
use super::*;
use crate::domain::mutation::{Ctx, Mutation, NewRequest, Op};
use crate::domain::request::{Channel, Location, Priority};
use crate::domain::{Catalog, ClockPolicy, CloseReason, Request, RequestNumber, Status};
use crate::store::Env;

const MSK: Tz = chrono_tz::Europe::Moscow;

fn msk(mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    MSK.with_ymd_and_hms(2026, mo, d, h, mi, 0)
        .single()
        .expect("test time")
        .to_utc()
}

#[test]
fn a_month_is_whole_local_days() {
    let p = Period::month(MSK, "2026-10").expect("month");
    assert_eq!(
        p.start,
        Utc.with_ymd_and_hms(2026, 9, 30, 21, 0, 0).unwrap()
    );
    assert_eq!(p.end, Utc.with_ymd_and_hms(2026, 10, 31, 21, 0, 0).unwrap());
    assert_eq!(p.title(), "2026-10-01 – 2026-10-31");
    let dec = Period::month(MSK, "2026-12").expect("december");
    assert_eq!(dec.last_day, NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
}

#[test]
fn bad_periods_are_refused_with_a_reason() {
    for bad in ["2026-13", "2026-1", "26-10", "октябрь", "", "2026-10-01"] {
        assert!(
            matches!(Period::month(MSK, bad), Err(PeriodError::BadMonth(_))),
            "{bad}"
        );
    }
    let now = msk(11, 15, 12, 0);
    let e = Period::from_args(MSK, None, Some("2026-10-10"), Some("2026-10-01"), now)
        .expect_err("reversed");
    assert!(matches!(e, PeriodError::Reversed(..)));
    assert!(e.ru().contains("позже"), "{}", e.ru());
    assert!(matches!(
        Period::from_args(MSK, None, Some("2026-02-30"), None, now),
        Err(PeriodError::BadDate(_))
    ));
    assert_eq!(
        Period::from_args(MSK, None, None, None, now),
        Err(PeriodError::Missing)
    );
    // --from alone runs to today, inclusive.
    let p = Period::from_args(MSK, None, Some("2026-11-01"), None, now).expect("to today");
    assert_eq!(p.end, msk(11, 16, 0, 0));
}

#[test]
fn streets_drop_the_house_number() {
    assert_eq!(street("ул. Красная, 122").as_deref(), Some("ул. Красная"));
    assert_eq!(
        street("ул.  Красная ,  7/1").as_deref(),
        Some("ул. Красная")
    );
    assert_eq!(street("мкр. Юбилейный").as_deref(), Some("мкр. Юбилейный"));
    assert_eq!(
        street("ул. Мира, у школы").as_deref(),
        Some("ул. Мира, у школы")
    );
    assert_eq!(street("  , "), None);
}

fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(Utc::now),
    }
}

struct Spec {
    channel: Channel,
    topic: &'static str,
    address: Option<&'static str>,
    received: DateTime<Utc>,
    answered_after_min: Option<i64>,
    closed: Option<CloseReason>,
    status: Status,
    assignee: Option<&'static str>,
    text: &'static str,
}

fn request(env: &Env, seq: u32, s: Spec) -> Request {
    let new = NewRequest {
        channel: s.channel,
        external_id: None,
        channel_ref: Default::default(),
        citizen: None,
        phone: None,
        text: s.text.into(),
        attachments: vec![],
        location: s.address.map(|a| Location {
            lat: None,
            lon: None,
            address: Some(a.into()),
        }),
        received_at: s.received,
        topic: Some(s.topic.into()),
        department: None,
        priority: Priority::Normal,
        status: Some(s.status),
        close_reason: s.closed,
        closed_at: s.closed.map(|_| s.received + Duration::hours(6)),
        first_response_at: s
            .answered_after_min
            .map(|m| s.received + Duration::minutes(m)),
        incident: false,
    };
    let ctx = Ctx {
        catalog: &env.catalog,
        policy: &env.policy,
        now: s.received,
        new_number: Some(RequestNumber::new(2026, seq)),
    };
    let m = Mutation::new(Uuid::now_v7(), "t", s.received, Op::Create(Box::new(new)));
    let mut r = crate::domain::apply(None, &m, &ctx)
        .expect("create")
        .request;
    r.assignee = s.assignee.map(str::to_string);
    r
}

const HOSTILE: &str = "=HYPERLINK(\"x\")\x1b[2J, \"кавычки\" | труба\nвторая строка\u{202E}";

/// Five requests of October 2026 (Moscow), the report made on 1 November at 01:00.
fn fixture() -> Report {
    let env = env();
    let base = |received| Spec {
        channel: Channel::Vk,
        topic: "roads",
        address: None,
        received,
        answered_after_min: None,
        closed: None,
        status: Status::New,
        assignee: None,
        text: "Яма на дороге",
    };
    let requests = vec![
        request(
            &env,
            1,
            Spec {
                address: Some("ул. Красная, 122"),
                answered_after_min: Some(30),
                closed: Some(CloseReason::Resolved),
                status: Status::Closed,
                assignee: Some("Иванова"),
                ..base(msk(10, 5, 10, 0))
            },
        ),
        request(
            &env,
            2,
            Spec {
                channel: Channel::Telegram,
                address: Some("ул. Красная, 7"),
                answered_after_min: Some(300),
                closed: Some(CloseReason::Resolved),
                status: Status::Closed,
                assignee: Some("Петров"),
                ..base(msk(10, 6, 10, 0))
            },
        ),
        request(
            &env,
            3,
            Spec {
                topic: "out_of_scope",
                closed: Some(CloseReason::OutOfScope),
                status: Status::Closed,
                text: HOSTILE,
                ..base(msk(10, 7, 10, 0))
            },
        ),
        request(
            &env,
            4,
            Spec {
                channel: Channel::Pos,
                topic: "utilities",
                address: Some("мкр. Юбилейный"),
                assignee: Some("Иванова"),
                ..base(msk(10, 31, 23, 0))
            },
        ),
        request(
            &env,
            5,
            Spec {
                channel: Channel::Telegram,
                topic: "utilities",
                status: Status::InWork,
                assignee: Some("Петров"),
                ..base(msk(10, 20, 9, 0))
            },
        ),
    ];
    let period = Period::month(MSK, "2026-10").expect("month");
    summarize(requests, &env, &period, msk(11, 1, 1, 0))
}

#[test]
fn a_small_month_adds_up_by_hand() {
    let r = fixture();
    let outcomes: Vec<ClockVerdict> = r.lines.iter().map(|l| l.outcome).collect();
    assert_eq!(
        outcomes,
        [
            ClockVerdict::Met(Duration::minutes(30)),
            ClockVerdict::Late(Duration::minutes(300)),
            ClockVerdict::NoReply,
            ClockVerdict::Running,
            ClockVerdict::Overdue,
        ]
    );
    let t = &r.total;
    assert_eq!((t.requests, t.met, t.late, t.overdue), (5, 1, 1, 1));
    assert_eq!(
        (t.running, t.no_reply, t.open, t.out_of_scope),
        (1, 1, 2, 1)
    );
    assert_eq!(t.within_share(), Some(1.0 / 3.0));
    assert_eq!(t.stats.mean_ms, Some(165.0 * 60_000.0));
    assert_eq!(t.stats.median_ms, Some(30 * 60_000));
    assert_eq!(t.stats.p90_ms, Some(300 * 60_000));
    assert_eq!(
        r.streets,
        [
            ("ул. Красная".to_string(), 2),
            ("мкр. Юбилейный".to_string(), 1)
        ]
    );
    let ops: Vec<(Option<&str>, u64)> = r
        .by_operator
        .iter()
        .map(|g| (g.key.as_deref(), g.requests))
        .collect();
    assert_eq!(ops, [(Some("Иванова"), 2), (Some("Петров"), 2), (None, 1)]);
}

#[test]
fn markdown_reads_right_and_carries_no_escape_sequences() {
    let r = fixture();
    let c = Catalog::krasnodar();
    let mut t = tables::tables(&r, &c, Lang::Ru);
    t.push(tables::requests_table(&r, &c, Lang::Ru));
    let mut out = vec![];
    write::markdown(&mut out, &t, Lang::Ru).expect("md");
    let md = String::from_utf8(out).expect("utf-8");
    for line in [
        "# Отчёт МЦУ за 2026-10-01 – 2026-10-31",
        "| Всего заявок | 5 |",
        "| Доля в срок | 33.3 % |",
        "| Первый ответ: среднее, мин | 165 (2 ч 45 мин) |",
        "| Первый ответ: медиана, мин | 30 |",
        "| Первый ответ: 90-й перцентиль, мин | 300 (5 ч 00 мин) |",
        "| Доля вне компетенции | 20.0 % |",
        "| Ещё открыто | 2 |",
        "| ул. Красная | 2 | 40.0 % |",
        "| Дороги | 2 | 40.0 % | 1 | 1 | 0 | 50.0 % | 30 | 0 | 0 |",
        "| (не назначено) | 1 | 20.0 % | 0 | 0 | 0 | — | — | 0 | 1 |",
    ] {
        assert!(md.lines().any(|l| l == line), "no line {line:?} in\n{md}");
    }
    assert!(!md.chars().any(|c| c.is_control() && c != '\n'), "{md}");
    assert!(!md.contains('\u{202E}'));
    // A `|` in a citizen's text can't split the table's row.
    assert!(md.contains("\\| труба"), "{md}");
}

#[test]
fn csv_quotes_russian_text_and_defuses_formulas() {
    let r = fixture();
    let c = Catalog::krasnodar();
    let mut out = vec![];
    let mut rows = export::CsvRows::new(&mut out, Lang::En).expect("csv");
    for l in &r.lines {
        rows.row(&export::cells(&l.request, l.outcome, &c, r.tz, Lang::En))
            .expect("row");
    }
    rows.finish().expect("flush");
    let mut rd = csv::Reader::from_reader(&out[..]);
    let header = rd.headers().expect("header").clone();
    assert_eq!(header.len(), 11);
    assert_eq!(&header[0], "Number");
    let recs: Vec<csv::StringRecord> = rd.records().map(|r| r.expect("record")).collect();
    assert_eq!(recs.len(), 5);
    assert_eq!(&recs[0][0], "2026-000001");
    assert_eq!(&recs[0][1], "2026-10-05 10:00");
    assert_eq!(&recs[0][7], "30.0");
    assert_eq!(&recs[0][8], "yes");
    assert_eq!(&recs[1][8], "no");
    assert_eq!(&recs[2][8], "");
    assert_eq!(&recs[0][9], "ул. Красная, 122");
    assert_eq!(
        &recs[2][10],
        "'=HYPERLINK(\"x\")[2J, \"кавычки\" | труба вторая строка"
    );
}

#[test]
fn the_summary_csv_and_xlsx_hold_every_table() {
    let r = fixture();
    let c = Catalog::krasnodar();
    let t = tables::tables(&r, &c, Lang::En);
    let mut out = vec![];
    write::csv(&mut out, &t).expect("csv");
    let text = String::from_utf8(out).expect("utf-8");
    assert!(text.contains("Share within target,33.3\n"), "{text}");
    assert!(text.contains("By channel\n"), "{text}");
    let bytes = write::xlsx(&t).expect("xlsx");
    assert!(bytes.starts_with(b"PK"), "an XLSX file is a zip");
}

/// Issue #15 item 13: a citizen's long text reaches the per-request rows whole.
#[test]
fn a_long_text_reaches_the_row_whole() {
    let env = env();
    let long: String = "Во дворе дома 5 по ул. Северной третью неделю течёт труба. ".repeat(40);
    assert!(long.chars().count() > 2_000);
    let text: &'static str = Box::leak(long.clone().into_boxed_str());
    let r = request(
        &env,
        1,
        Spec {
            channel: Channel::Telegram,
            topic: "utilities",
            address: None,
            received: msk(10, 5, 10, 0),
            answered_after_min: None,
            closed: None,
            status: Status::New,
            assignee: None,
            text,
        },
    );
    let cells = export::cells(
        &r,
        ClockVerdict::Running,
        &env.catalog,
        Tz::Europe__Moscow,
        Lang::Ru,
    );
    match cells.last() {
        Some(tables::Cell::Text(t)) => assert_eq!(t, long.trim()),
        other => panic!("the text cell: {other:?}"),
    }
}

/// Beyond what one spreadsheet cell holds (32,767 UTF-16 units), the XLSX cell keeps as much
/// as fits and ends with «…»; the CSV keeps it all.
#[test]
fn a_cell_keeps_what_excel_holds_and_marks_the_cut() {
    let short = "яма";
    assert_eq!(write::fit_cell(short), short);
    let at_limit = "я".repeat(32_767);
    assert_eq!(write::fit_cell(&at_limit), at_limit);
    // Emoji are two UTF-16 units each: the cut counts units, as Excel does, and never splits one.
    let over = format!("{}{}", "🚰".repeat(16_383), "хвост");
    let fit = write::fit_cell(&over);
    assert!(fit.ends_with('…'));
    assert!(
        fit.encode_utf16().count() <= 32_767,
        "{}",
        fit.encode_utf16().count()
    );
    assert_eq!(fit.chars().filter(|c| *c == '🚰').count(), 16_383);
    assert!(!fit.contains("хвост"));
}

/// An incident is no citizen's request: counted apart, with its members and their citizens,
/// while each member stays a request of its own in every other number.
#[test]
fn incidents_are_counted_apart_with_their_citizens() {
    let env = env();
    let spec = |text| Spec {
        channel: Channel::Telegram,
        topic: "utilities",
        address: Some("ул. Красная, 122"),
        received: msk(10, 20, 9, 0),
        answered_after_min: Some(30),
        closed: None,
        status: Status::New,
        assignee: None,
        text,
    };
    let mut incident = request(&env, 1, spec("Прорыв водовода"));
    incident.is_incident = true;
    let mut members: Vec<Request> = (2..=4)
        .map(|i| request(&env, i, spec("Прорвало трубу")))
        .collect();
    for (m, chat) in members.iter_mut().zip(["1", "2", "2"]) {
        m.incident_id = Some(incident.id);
        m.channel_ref.chat = Some(chat.into());
    }
    let mut all = vec![incident];
    all.extend(members);
    all.push(request(&env, 5, spec("Яма")));
    let period = Period::month(MSK, "2026-10").expect("month");
    let r = summarize(all, &env, &period, msk(11, 1, 1, 0));
    assert_eq!(r.total.requests, 4, "the incident is not a request");
    assert_eq!(
        (r.incidents, r.incident_members, r.incident_citizens),
        (1, 3, 2)
    );
    let rows = super::tables::tables(&r, &env.catalog, Lang::Ru);
    let text = format!("{:?}", rows[0]);
    assert!(text.contains("Заявителей в инцидентах"), "{text}");
}

/// Past the totals: every day of the period a row (a quiet one of zeros), the reasons for
/// closing most first, the working time to a resolution, the requests waiting on a
/// department, and the period before in the same figures.
#[test]
fn the_days_the_reasons_the_resolution_and_the_period_before() {
    let e = env();
    let period = Period::days(
        MSK,
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 10, 3).unwrap(),
    )
    .unwrap();
    let spec = |day: u32, closed: Option<CloseReason>, status: Status| Spec {
        channel: Channel::Telegram,
        topic: "roads",
        address: None,
        received: msk(10, day, 9, 0),
        answered_after_min: Some(30),
        closed,
        status,
        assignee: None,
        text: "Яма",
    };
    let rs = vec![
        request(&e, 1, spec(1, Some(CloseReason::Spam), Status::Closed)),
        request(&e, 2, spec(1, Some(CloseReason::Resolved), Status::Closed)),
        request(&e, 3, spec(3, Some(CloseReason::Resolved), Status::Closed)),
        request(&e, 4, spec(3, None, Status::WaitingDepartment)),
    ];
    let report = crate::report::model::summarize(rs, &e, &period, msk(10, 5, 0, 0));
    let days: Vec<(u32, u64, u64)> = report
        .days
        .iter()
        .map(|d| (chrono::Datelike::day(&d.date.unwrap()), d.received, d.open))
        .collect();
    assert_eq!(days, [(1, 2, 0), (2, 0, 0), (3, 2, 1)]);
    assert_eq!(
        report.close_reasons,
        [(CloseReason::Resolved, 2), (CloseReason::Spam, 1)]
    );
    // Round the clock by default: six hours from receipt to closing, twice.
    assert_eq!(report.resolution.answered, 2);
    assert_eq!(report.resolution.median_ms, Some(6 * 3_600_000));
    let waiting: Vec<String> = crate::report::depth::waiting_department(&report.lines)
        .iter()
        .map(|l| l.request.number.to_string())
        .collect();
    assert_eq!(waiting, ["2026-000004"]);
    // The tables carry it, the period before included.
    let mut with_before = report.clone();
    with_before.previous = Some(crate::report::depth::Compared {
        period: period.previous(MSK).unwrap(),
        requests: 2,
        within_share: Some(0.5),
        first_response_median_ms: Some(60 * 60_000),
        resolution_median_ms: None,
    });
    let tables = tables::tables(&with_before, &e.catalog, Lang::Ru);
    let titles: Vec<&str> = tables.iter().map(|t| t.title.as_str()).collect();
    for t in [
        "Сравнение с прошлым периодом",
        "По дням",
        "Причины закрытия",
        "Ждут ответа департамента",
    ] {
        assert!(titles.contains(&t), "{t} in {titles:?}");
    }
    let compared = tables
        .iter()
        .find(|t| t.title == "Сравнение с прошлым периодом")
        .unwrap();
    assert_eq!(compared.rows[0][1], tables::Cell::Int(4));
    assert_eq!(compared.rows[0][2], tables::Cell::Int(2));
    assert_eq!(
        period.previous(MSK).unwrap().title(),
        "2026-09-28 – 2026-09-30"
    );
    let october = Period::month(MSK, "2026-10").unwrap();
    assert_eq!(
        october.previous(MSK).unwrap().title(),
        "2026-09-01 – 2026-09-30"
    );
}

#[test]
fn the_share_of_yes_is_per_topic_department_and_operator() {
    use super::feedback::{By, helped};
    use crate::domain::request::Feedback;
    let mut r = fixture();
    let asked = |helped: Option<bool>| {
        Some(Feedback {
            asked_at: msk(10, 10, 12, 0),
            helped,
            answered_at: helped.map(|_| msk(10, 10, 13, 0)),
        })
    };
    // Иванова's roads request: «да»; Петров's: «нет»; an out-of-scope one asked, unanswered.
    r.lines[0].request.feedback = asked(Some(true));
    r.lines[1].request.feedback = asked(Some(false));
    r.lines[2].request.feedback = asked(None);
    let by_topic = helped(&r.lines, By::Topic);
    let roads = by_topic
        .iter()
        .find(|g| g.key.as_deref() == Some("roads"))
        .expect("roads");
    assert_eq!((roads.asked, roads.answered, roads.yes), (2, 2, 1));
    assert_eq!(roads.share(), Some(0.5));
    let out = by_topic
        .iter()
        .find(|g| g.key.as_deref() == Some("out_of_scope"))
        .expect("asked, not answered");
    assert_eq!((out.asked, out.share()), (1, None));
    let by_operator = helped(&r.lines, By::Operator);
    let ops: Vec<(Option<&str>, Option<f64>)> = by_operator
        .iter()
        .map(|g| (g.key.as_deref(), g.share()))
        .collect();
    assert_eq!(
        ops,
        [
            (Some("Иванова"), Some(1.0)),
            (Some("Петров"), Some(0.0)),
            (None, None)
        ]
    );
    assert!(!helped(&r.lines, By::Department).is_empty());
    let c = Catalog::krasnodar();
    let mut md = vec![];
    write::markdown(&mut md, &tables::tables(&r, &c, Lang::Ru), Lang::Ru).expect("md");
    let md = String::from_utf8(md).expect("utf-8");
    assert!(md.contains("Вопрос решён? Ответы заявителей"), "{md}");
    assert!(
        md.lines()
            .any(|l| l == "| Тема | Дороги | 2 | 2 | 1 | 50.0 % |"),
        "{md}"
    );
}
