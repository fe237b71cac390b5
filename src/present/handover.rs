//! The shift handover as data: what the outgoing shift leaves to the next — what is open, what
//! is already late, what breaches within the next shift, and the notes written on open requests
//! during the shift that ends. `mcu handover` prints it, the console shows it (`h`).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use super::RequestView;
use crate::domain::sla::ClockState;
use crate::domain::{ClockPolicy, Request};
use crate::store::handover::ShiftNote;

#[derive(Debug, Serialize)]
pub struct Handover {
    pub at: DateTime<Utc>,
    /// The end of the next shift: what falls due before it is that shift's to keep.
    pub until: DateTime<Utc>,
    /// Open requests by status.
    pub open: BTreeMap<String, usize>,
    pub breached: Vec<RequestView>,
    /// Not late yet, but due before `until`, soonest first.
    pub due_next_shift: Vec<RequestView>,
    pub notes: Vec<ShiftNote>,
}

/// Sorts the open requests into the handover's lists (pure: the clock is `now`).
pub fn build(
    open: &[Request],
    notes: Vec<ShiftNote>,
    policy: &ClockPolicy,
    now: DateTime<Utc>,
    shift: Duration,
) -> Handover {
    let until = now + shift;
    let mut counts = BTreeMap::new();
    let mut breached = vec![];
    let mut due = vec![];
    for r in open.iter().filter(|r| r.status.is_open()) {
        *counts.entry(r.status.as_str().to_string()).or_insert(0) += 1;
        let v = RequestView::new(r, policy, now);
        match (v.clock_state, v.due) {
            (Some(ClockState::Breached), _) => breached.push(v),
            (Some(_), Some(d)) if d <= until => due.push(v),
            _ => {}
        }
    }
    // Longest overdue first; then what falls due soonest.
    breached.sort_by_key(|v| v.minutes_left.unwrap_or(0));
    due.sort_by_key(|v| v.due);
    Handover {
        at: now,
        until,
        open: counts,
        breached,
        due_next_shift: due,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Catalog;
    use crate::domain::Status;
    use crate::domain::mutation::{Ctx, Mutation, NewRequest, Op, apply};
    use crate::domain::request::Channel;
    use chrono::TimeZone;

    fn request(received: DateTime<Utc>, policy: &ClockPolicy) -> Request {
        let id = uuid::Uuid::now_v7();
        let m = Mutation::new(
            id,
            "anna",
            received,
            Op::Create(Box::new(NewRequest::new(Channel::Vk, "Яма", received))),
        );
        let catalog = Catalog::krasnodar();
        let ctx = Ctx {
            catalog: &catalog,
            policy,
            now: received,
            new_number: Some("2026-000001".parse().unwrap()),
        };
        apply(None, &m, &ctx).unwrap().request
    }

    #[test]
    fn late_and_falling_due_are_sorted_out_of_the_open_ones() {
        let policy = ClockPolicy::default();
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 6, 0, 0).unwrap();
        let late = request(now - Duration::days(3), &policy);
        let fresh = request(now, &policy);
        let mut closed = request(now - Duration::days(5), &policy);
        closed.status = Status::Closed;
        let h = build(
            &[late.clone(), fresh.clone(), closed],
            vec![],
            &policy,
            now,
            Duration::days(30),
        );
        assert_eq!(h.open.values().sum::<usize>(), 2);
        assert_eq!(h.breached.len(), 1);
        assert_eq!(h.breached[0].id, late.id.to_string());
        assert_eq!(h.due_next_shift.len(), 1);
        assert_eq!(h.due_next_shift[0].id, fresh.id.to_string());
        // A shift too short for the fresh request's due time leaves it out.
        let short = build(&[fresh], vec![], &policy, now, Duration::minutes(1));
        assert!(short.due_next_shift.is_empty());
    }
}
