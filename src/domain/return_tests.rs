//! A department giving a request back as not theirs (#21), and the operator's sign that a
//! department's answer waits to be sent on.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::catalog::Catalog;
use super::mutation::*;
use super::request::{Channel, NoteKind, Request, RequestNumber};
use super::status::Status;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
}

fn step(cur: Option<&Request>, actor: &str, op: Op, minutes: i64) -> Result<Outcome, Rejection> {
    let now = t0() + Duration::minutes(minutes);
    let id = cur.map_or_else(Uuid::now_v7, |r| r.id);
    let catalog = Catalog::krasnodar();
    let ctx = Ctx {
        catalog: &catalog,
        policy: &ClockPolicy::default(),
        now,
        new_number: Some(RequestNumber::new(2026, 7)),
    };
    apply(cur, &Mutation::new(id, actor, now, op), &ctx)
}

fn forwarded() -> Request {
    let new = NewRequest::new(Channel::Telegram, "Бродячие собаки у школы", t0());
    let r = step(None, "gw", Op::Create(Box::new(new)), 0)
        .unwrap()
        .request;
    let op = Op::Forward {
        department: Some("city_economy".into()),
        note_id: Uuid::now_v7(),
        note: Some("Проверьте, пожалуйста".into()),
    };
    step(Some(&r), "anna", op, 10).unwrap().request
}

fn returned(r: &Request, reason: &str) -> Result<Outcome, Rejection> {
    let op = Op::Return {
        note_id: Uuid::now_v7(),
        reason: reason.into(),
    };
    step(Some(r), "economy", op, 70)
}

#[test]
fn a_return_puts_it_back_in_work_without_a_department_and_stops_its_clock() {
    let r = forwarded();
    assert_eq!(r.status, Status::WaitingDepartment);
    let out = returned(&r, "Это ветеринарная служба, не наше").unwrap();
    let back = &out.request;
    assert_eq!(back.status, Status::InWork);
    assert_eq!(back.department, None);
    let clock = back.department_clock.as_ref().expect("the clock is kept");
    assert_eq!(clock.stopped, Some(t0() + Duration::minutes(70)));
    let [note] = &out.notes[..] else {
        panic!("one note: {:?}", out.notes)
    };
    assert_eq!(note.kind, NoteKind::Returned);
    assert_eq!(note.body, "Это ветеринарная служба, не наше");
    let event = out.events.iter().find(|e| e.field == "returned").unwrap();
    assert_eq!(event.old.as_deref(), Some("city_economy"));
    assert!(!back.department_answer_waiting(), "nothing to send on");
}

#[test]
fn only_a_request_with_the_department_can_be_returned_and_only_with_a_reason() {
    let r = forwarded();
    assert_eq!(returned(&r, "  "), Err(Rejection::Empty("reason")));
    let back = returned(&r, "не наше").unwrap().request;
    assert!(matches!(
        returned(&back, "ещё раз"),
        Err(Rejection::InvalidTransition(_))
    ));
}

#[test]
fn a_department_s_answer_waits_to_be_sent_on_until_the_reply() {
    let r = forwarded();
    assert!(!r.department_answer_waiting());
    let op = Op::DepartmentAnswer {
        note_id: Uuid::now_v7(),
        body: "Отлов назначен на среду".into(),
        attachments: vec![],
    };
    let answered = step(Some(&r), "economy", op, 60).unwrap().request;
    assert!(answered.department_answer_waiting());
    let op = Op::Reply {
        message_id: Uuid::now_v7(),
        body: "Отлов назначен на среду".into(),
    };
    let told = step(Some(&answered), "anna", op, 65).unwrap().request;
    assert!(!told.department_answer_waiting());
}
