//! The departments' figures added up by hand: in time, late, overdue, running, closed before
//! an answer, and returned, with the answer times of the answered ones.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::rows;
use crate::domain::Catalog;
use crate::domain::mutation::{ClockPolicy, Ctx, Mutation, NewRequest, Op, apply};
use crate::domain::request::{Channel, Request, RequestNumber};
use crate::domain::sla::{Calendar, Clock};
use crate::domain::status::Status;
use crate::report::model::{ClockVerdict, Line};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 5, 7, 0, 0).unwrap()
}

fn cal() -> Calendar {
    Calendar::always(chrono_tz::Europe::Moscow)
}

/// A request given to `dep` at t0 with a 24 h clock, stopped `answered` hours later (if).
fn given(dep: &str, answered: Option<i64>, status: Status) -> Line {
    let catalog = Catalog::krasnodar();
    let ctx = Ctx {
        catalog: &catalog,
        policy: &ClockPolicy::default(),
        now: t0(),
        new_number: Some(RequestNumber::new(2026, 1)),
    };
    let new = NewRequest::new(Channel::Telegram, "Яма", t0());
    let m = Mutation::new(Uuid::now_v7(), "gw", t0(), Op::Create(Box::new(new)));
    let mut r: Request = apply(None, &m, &ctx).unwrap().request;
    r.department = Some(dep.into());
    let mut c = Clock::start(&cal(), t0(), Duration::hours(24), 0.75);
    if let Some(h) = answered {
        c.stop(t0() + Duration::hours(h));
    }
    r.department_clock = Some(c);
    r.status = status;
    Line {
        request: r,
        outcome: ClockVerdict::Running,
    }
}

#[test]
fn a_department_s_month_adds_up_by_hand() {
    let now = t0() + Duration::hours(30);
    let mut closed = given("roads", Some(5), Status::Closed);
    closed.request.closed_at = Some(t0() + Duration::hours(5));
    let lines = vec![
        given("roads", Some(2), Status::InWork),
        given("roads", Some(10), Status::Answered),
        given("roads", Some(26), Status::InWork),
        given("roads", None, Status::WaitingDepartment),
        closed,
        given("city_economy", None, Status::WaitingDepartment),
    ];
    let returns = vec![
        (Uuid::now_v7(), "roads".to_string()),
        (Uuid::now_v7(), "veterinary".to_string()),
    ];
    let out = rows(&lines, &returns, &cal(), now);
    let roads = out.iter().find(|d| d.department == "roads").unwrap();
    assert_eq!(roads.forwarded, 6, "five given and one returned");
    assert_eq!(roads.in_time, 2);
    assert_eq!(roads.late, 2, "one answered late, one past due unanswered");
    assert_eq!(roads.running, 0);
    assert_eq!(roads.closed, 1);
    assert_eq!(roads.returned, 1);
    assert_eq!(roads.answer.answered, 3);
    assert_eq!(roads.answer.median_ms, Some(10 * 3_600_000));
    assert_eq!(roads.answer.p90_ms, Some(26 * 3_600_000));
    assert_eq!(out[0].department, "roads", "most forwarded first");
    let vet = out.iter().find(|d| d.department == "veterinary").unwrap();
    assert_eq!((vet.forwarded, vet.returned), (1, 1));
    let economy = out.iter().find(|d| d.department == "city_economy").unwrap();
    assert_eq!((economy.late, economy.running), (1, 0), "past due at 30 h");
    let early = rows(&lines, &[], &cal(), t0() + Duration::hours(1));
    let economy = early
        .iter()
        .find(|d| d.department == "city_economy")
        .unwrap();
    assert_eq!(economy.running, 1, "within its time");
}
