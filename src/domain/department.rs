//! What a department account sees and may do (#21): the server enforces it on every pull and
//! push, and the department's console narrows its screen by the same rules, so the two never
//! disagree about which requests are the department's.

use super::mutation::Op;
use super::request::{ChannelRef, ClockKind, Request};
use super::sla::Clock;
use super::status::Status;

/// The request was forwarded to one of `departments` and is still theirs: its department is
/// one of them and its department clock was started by a forward. A return clears the
/// department, so a returned request leaves the department's queue.
pub fn reaches(departments: &[String], r: &Request) -> bool {
    r.department_clock.is_some()
        && r.department
            .as_deref()
            .is_some_and(|d| departments.iter().any(|x| x == d))
}

/// The clock a department's queue follows: its own, from the forward until it answers (the
/// operators' first-response clock may still run meanwhile: that one is theirs). Once it has
/// answered, none: the request is done for the department and goes down its list, whatever
/// the operators still have to do.
pub fn queue_clock(r: &Request) -> Option<(ClockKind, &Clock)> {
    match r.department_clock.as_ref() {
        Some(dep) if r.status == Status::WaitingDepartment && dep.stopped.is_none() => {
            Some((ClockKind::Department, dep))
        }
        Some(_) => None,
        None => r.active_clock(),
    }
}

/// The actions a department takes on its requests: its answer, its progress notes, and the
/// return of a request that is not theirs. Everything else is the operators'.
pub fn may_push(op: &Op) -> bool {
    matches!(
        op,
        Op::DepartmentAnswer { .. } | Op::Return { .. } | Op::AddNote { .. }
    )
}

/// The request without the citizen: who they are, how to reach them, and what is being said
/// to them. What the problem is and where (text, photos, place) stays: that is the
/// department's work.
pub fn without_citizen(mut r: Request) -> Request {
    r.citizen = None;
    r.phone = None;
    r.channel_ref = ChannelRef::default();
    r.external_id = None;
    r.reply = None;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mutation::{Ctx, Mutation, NewRequest};
    use crate::domain::{Catalog, Channel, ClockPolicy, RequestNumber, apply};
    use chrono::{DateTime, Duration, Utc};
    use uuid::Uuid;

    fn t0() -> DateTime<Utc> {
        "2026-12-07T09:00:00Z".parse().unwrap()
    }

    fn step(cur: Option<&Request>, op: Op, minutes: i64) -> Request {
        let catalog = Catalog::krasnodar();
        let policy = ClockPolicy::default();
        let ctx = Ctx {
            catalog: &catalog,
            policy: &policy,
            now: t0() + Duration::minutes(minutes),
            new_number: Some(RequestNumber::new(2026, 7)),
        };
        let id = cur.map_or_else(Uuid::now_v7, |r| r.id);
        apply(cur, &Mutation::new(id, "anna", ctx.now, op), &ctx)
            .unwrap()
            .request
    }

    fn new_request() -> Request {
        let mut new = NewRequest::new(Channel::Telegram, "Яма на дороге у школы", t0());
        new.citizen = Some("Иван Петров".into());
        new.phone = Some("+79161234567".into());
        step(None, Op::Create(Box::new(new)), 0)
    }

    fn economy() -> Vec<String> {
        vec!["city_economy".into()]
    }

    #[test]
    fn only_a_request_forwarded_to_the_department_reaches_it() {
        let r = new_request();
        assert!(!reaches(&economy(), &r), "not forwarded");
        let tagged = step(
            Some(&r),
            Op::SetDepartment {
                department: Some("city_economy".into()),
            },
            1,
        );
        assert!(!reaches(&economy(), &tagged), "tagged, but not forwarded");
        let forwarded = step(
            Some(&r),
            Op::Forward {
                department: Some("city_economy".into()),
                note_id: Uuid::now_v7(),
                note: None,
            },
            2,
        );
        assert!(reaches(&economy(), &forwarded));
        assert!(!reaches(&["transport".to_string()], &forwarded));
        let back = step(
            Some(&forwarded),
            Op::Return {
                note_id: Uuid::now_v7(),
                reason: "не наше".into(),
            },
            3,
        );
        assert!(!reaches(&economy(), &back), "returned: no longer theirs");
    }

    #[test]
    fn the_citizen_is_left_out_but_the_problem_stays() {
        let r = new_request();
        assert!(r.phone.is_some() && r.citizen.is_some());
        let seen = without_citizen(r.clone());
        assert_eq!(seen.citizen, None);
        assert_eq!(seen.phone, None);
        assert_eq!(seen.channel_ref, ChannelRef::default());
        assert_eq!(seen.text, r.text);
        assert_eq!(seen.location, r.location);
        assert_eq!(seen.attachments, r.attachments);
    }

    #[test]
    fn a_department_answers_notes_and_returns_and_nothing_else() {
        let note_id = Uuid::now_v7();
        assert!(may_push(&Op::DepartmentAnswer {
            note_id,
            body: "Сделано".into(),
            attachments: vec![],
        }));
        assert!(may_push(&Op::Return {
            note_id,
            reason: "не наше".into()
        }));
        assert!(!may_push(&Op::Reply {
            message_id: note_id,
            body: "Здравствуйте".into()
        }));
        assert!(!may_push(&Op::Claim));
        assert!(!may_push(&Op::Reopen));
    }
}
