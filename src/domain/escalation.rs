//! Telling the shift leads when a clock breaches, even with no console open: which breach is
//! due to be told, and the mutation that tells it. Pure: the Telegram gateway asks this about
//! the breached requests and applies what it says, so the telling is audited on the request
//! and syncs like any other action.
//!
//! The mutations are named by the request and the clock, so a gateway that decides twice — two
//! sweeps, a retried push, a second replica — tells the leads once.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::mutation::{Mutation, Op};
use super::request::{ClockKind, Request};
use super::sla::ClockState;

/// The breach of `r` the leads have not been told of yet, if any. A member of a mass incident
/// is told as its incident, not once per citizen; a held clock does not breach.
pub fn due(r: &Request, now: DateTime<Utc>) -> Option<ClockKind> {
    if r.incident_id.is_some() {
        return None;
    }
    let (kind, clock) = r.active_clock()?;
    (clock.paused.is_none()
        && clock.state(now) == ClockState::Breached
        && !r.escalated.contains(&kind))
    .then_some(kind)
}

/// The mutation that tells the leads' `chat` of `level`'s breach with `body`; `actor` is the
/// gateway.
pub fn mutation(
    r: &Request,
    level: ClockKind,
    chat: &str,
    body: String,
    actor: &str,
    now: DateTime<Utc>,
) -> Mutation {
    let op = Op::Escalate {
        level,
        chat: chat.to_string(),
        message_id: derived(r.id, level, "message"),
        body,
    };
    Mutation {
        id: derived(r.id, level, "mutation"),
        ..Mutation::new(r.id, actor, now, op)
    }
}

fn derived(request: Uuid, level: ClockKind, kind: &str) -> Uuid {
    super::ids::named(&[
        b"mcu-escalation:",
        request.as_bytes(),
        level.as_str().as_bytes(),
        kind.as_bytes(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::Catalog;
    use crate::domain::mutation::{ClockPolicy, Ctx, NewRequest, apply};
    use crate::domain::request::{Channel, RequestNumber};
    use chrono::{Duration, TimeZone};

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap() + Duration::minutes(h * 60)
    }

    fn run(r: Option<&Request>, m: &Mutation, now: DateTime<Utc>) -> crate::domain::Outcome {
        let (catalog, policy) = (Catalog::krasnodar(), ClockPolicy::default());
        let ctx = Ctx {
            catalog: &catalog,
            policy: &policy,
            now,
            new_number: Some(RequestNumber::new(2026, 1)),
        };
        apply(r, m, &ctx).expect("applies")
    }

    fn request() -> Request {
        let new = NewRequest::new(Channel::Telegram, "Яма у школы", at(0));
        let m = Mutation::new(Uuid::now_v7(), "telegram", at(0), Op::Create(Box::new(new)));
        run(None, &m, at(0)).request
    }

    #[test]
    fn a_breach_is_told_once_per_clock() {
        let r = request();
        assert_eq!(due(&r, at(3)), None, "not yet breached");
        assert_eq!(due(&r, at(5)), Some(ClockKind::FirstResponse));
        let m = mutation(
            &r,
            ClockKind::FirstResponse,
            "-100",
            "⚠".into(),
            "telegram",
            at(5),
        );
        let out = run(Some(&r), &m, at(5));
        assert_eq!(out.events.len(), 1);
        assert!(out.messages.is_empty(), "the citizen's thread gets nothing");
        let r = out.request;
        assert_eq!(r.escalated, vec![ClockKind::FirstResponse]);
        assert_eq!(due(&r, at(6)), None);
        // The same decision again (another sweep, a retried push): nothing more.
        let again = mutation(
            &r,
            ClockKind::FirstResponse,
            "-100",
            "⚠".into(),
            "telegram",
            at(6),
        );
        assert_eq!(again.id, m.id);
        assert!(run(Some(&r), &again, at(6)).events.is_empty());
    }

    #[test]
    fn members_of_an_incident_and_held_clocks_are_not_told() {
        let mut r = request();
        r.incident_id = Some(Uuid::now_v7());
        assert_eq!(due(&r, at(5)), None);
        let mut r = request();
        r.first_response.pause(at(1));
        assert_eq!(due(&r, at(9)), None);
    }
}
