//! Telling the shift leads when a clock breaches, even with no console open — and, where the
//! city asks for it (`[escalation] at_risk`), when it turns at risk, while there is still time
//! to keep the promise: which telling is due, and the mutation that tells it. Pure: the
//! Telegram gateway asks this about the requests near or past their due and applies what it
//! says, so the telling is audited on the request and syncs like any other action.
//!
//! The mutations are named by the request, the clock and the stage, so a gateway that decides
//! twice — two sweeps, a retried push, a second replica — tells the leads once.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::mutation::{Mutation, Op};
use super::request::{ClockKind, Request};
use super::sla::ClockState;

/// What the leads are to be told of `r`'s active clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub level: ClockKind,
    /// A warning that the clock is at risk, not yet breached.
    pub at_risk: bool,
}

/// The breach of `r` — or, with `warn`, its clock turning at risk — the leads have not been
/// told of yet, if any. A clock found already breached is told as the breach only: a warning
/// after the fact says nothing. A member of a mass incident is told as its incident, not once
/// per citizen; a held clock neither breaches nor warns.
pub fn due(r: &Request, warn: bool, now: DateTime<Utc>) -> Option<Due> {
    if r.incident_id.is_some() {
        return None;
    }
    let (level, clock) = r.active_clock()?;
    if clock.paused.is_some() {
        return None;
    }
    match clock.state(now) {
        ClockState::Breached if !r.escalated.contains(&level) => Some(Due {
            level,
            at_risk: false,
        }),
        ClockState::AtRisk if warn && !r.warned.contains(&level) => Some(Due {
            level,
            at_risk: true,
        }),
        _ => None,
    }
}

/// The mutation that tells the leads' `chat` of `due` with `body`; `actor` is the gateway.
pub fn mutation(
    r: &Request,
    due: Due,
    chat: &str,
    body: String,
    actor: &str,
    now: DateTime<Utc>,
) -> Mutation {
    // A breach keeps the names it had before warnings existed.
    let stage = if due.at_risk { "at_risk:" } else { "" };
    let op = Op::Escalate {
        level: due.level,
        chat: chat.to_string(),
        message_id: derived(r.id, due.level, &format!("{stage}message")),
        body,
        at_risk: due.at_risk,
    };
    Mutation {
        id: derived(r.id, due.level, &format!("{stage}mutation")),
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

    const BREACH: Due = Due {
        level: ClockKind::FirstResponse,
        at_risk: false,
    };
    const WARNING: Due = Due {
        level: ClockKind::FirstResponse,
        at_risk: true,
    };

    #[test]
    fn a_breach_is_told_once_per_clock() {
        let r = request();
        assert_eq!(due(&r, false, at(3)), None, "not yet breached");
        assert_eq!(due(&r, false, at(5)), Some(BREACH));
        let m = mutation(&r, BREACH, "-100", "⚠".into(), "telegram", at(5));
        let out = run(Some(&r), &m, at(5));
        assert_eq!(out.events.len(), 1);
        assert!(out.messages.is_empty(), "the citizen's thread gets nothing");
        let r = out.request;
        assert_eq!(r.escalated, vec![ClockKind::FirstResponse]);
        assert_eq!(due(&r, false, at(6)), None);
        // The same decision again (another sweep, a retried push): nothing more.
        let again = mutation(&r, BREACH, "-100", "⚠".into(), "telegram", at(6));
        assert_eq!(again.id, m.id);
        assert!(run(Some(&r), &again, at(6)).events.is_empty());
    }

    #[test]
    fn a_city_that_asks_is_warned_at_risk_once_then_told_the_breach() {
        let r = request();
        // The 4-hour clock turns at risk at three quarters of it.
        assert_eq!(due(&r, true, at(2)), None);
        assert_eq!(due(&r, false, at(3)), None, "only where the city asks");
        assert_eq!(due(&r, true, at(3)), Some(WARNING));
        let m = mutation(&r, WARNING, "-100", "⏳".into(), "telegram", at(3));
        assert_ne!(
            m.id,
            mutation(&r, BREACH, "-100", "⚠".into(), "t", at(3)).id
        );
        let out = run(Some(&r), &m, at(3));
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].field, "warned");
        let r = out.request;
        assert_eq!(r.warned, vec![ClockKind::FirstResponse]);
        assert!(r.escalated.is_empty(), "warned is not breached");
        assert_eq!(due(&r, true, at(3)), None, "warned once");
        // The breach is still told when it comes.
        assert_eq!(due(&r, true, at(5)), Some(BREACH));
        // Found breached before any warning (a gateway down for hours): the breach only.
        assert_eq!(due(&request(), true, at(5)), Some(BREACH));
    }

    #[test]
    fn a_mutation_from_before_warnings_reads_as_a_breach() {
        let json = r#"{"name":"escalate","args":{"level":"first_response","chat":"-100","message_id":"0190d5a4-0000-7000-8000-000000000000","body":"⚠"}}"#;
        let op: Op = serde_json::from_str(json).expect("reads");
        assert!(matches!(op, Op::Escalate { at_risk: false, .. }), "{op:?}");
        let back = serde_json::to_string(&op).expect("writes");
        assert!(
            !back.contains("at_risk"),
            "a breach is written as before: {back}"
        );
    }

    #[test]
    fn members_of_an_incident_and_held_clocks_are_not_told() {
        let mut r = request();
        r.incident_id = Some(Uuid::now_v7());
        assert_eq!(due(&r, true, at(5)), None);
        assert_eq!(due(&r, true, at(3)), None);
        let mut r = request();
        r.first_response.pause(at(1));
        assert_eq!(due(&r, true, at(9)), None);
    }
}
