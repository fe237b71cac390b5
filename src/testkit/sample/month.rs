//! A generated month of requests for the report's test and benchmark: every request made by the
//! domain's own `apply` (so its clocks are real) and written as the store writes request rows.
//! Search documents and audit lines are left out: the report reads neither, and leaving them
//! out keeps 30,000 requests to a second or two.

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use uuid::Uuid;

use super::{Generator, new_request, spread};
use crate::domain::mutation::{Ctx, Mutation, NewRequest, Op};
use crate::domain::request::Channel;
use crate::domain::{CloseReason, RequestNumber, Status};
use crate::report::Period;
use crate::store::{Env, StoreError, rows};

pub const OPERATORS: [&str; 6] = [
    "Иванова",
    "Петров",
    "Сидорова",
    "Кузнецов",
    "Смирнова",
    "Орлов",
];

/// Writes `n` requests received over `period` (evenly, with jitter), plus a few just outside
/// it; about 8 % stay open, 12 % are never answered, and answers take 5 minutes to 9 hours.
pub fn month(
    conn: &mut Connection,
    env: &Env,
    period: &Period,
    n: usize,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut g = Generator::new(seed);
    let span = (period.end - period.start).num_milliseconds().max(1);
    let tx = conn.transaction()?;
    let channels = [
        Channel::Vk,
        Channel::Vk,
        Channel::Telegram,
        Channel::Pos,
        Channel::Phone,
    ];
    // The edges: the first and last millisecond inside, one on each side outside.
    let mut times: Vec<DateTime<Utc>> = (0..n)
        .map(|i| spread(period.start, span, i, n.max(1)))
        .collect();
    if n >= 2 {
        times[n - 1] = period.end - Duration::milliseconds(1);
    }
    times.push(period.start - Duration::milliseconds(1));
    times.push(period.end);
    times.push(period.end + Duration::hours(30));
    for (i, received) in times.into_iter().enumerate() {
        let s = g.next_request();
        let open = g.chance(0.08);
        let answered = g.chance(0.88);
        let answer_after = Duration::minutes(5 + g.below(540) as i64);
        let topic = (!g.chance(0.03)).then_some(s.topic);
        let close_reason = if topic == Some("out_of_scope") {
            CloseReason::OutOfScope
        } else {
            [
                CloseReason::Resolved,
                CloseReason::Resolved,
                CloseReason::Resolved,
                CloseReason::Duplicate,
                CloseReason::Spam,
                CloseReason::NoReplyNeeded,
            ][g.below(6) as usize]
        };
        let first_response_at =
            (answered && received + answer_after < now).then_some(received + answer_after);
        let closed = !open && received + Duration::hours(12) < now;
        let channel = channels[g.below(channels.len() as u64) as usize];
        let new = NewRequest {
            external_id: Some(format!("report-sample-{seed}-{i}")),
            topic: topic.map(str::to_string),
            department: None,
            status: Some(if closed {
                Status::Closed
            } else if first_response_at.is_some() {
                Status::Answered
            } else {
                [Status::New, Status::InWork, Status::WaitingDepartment][i % 3]
            }),
            close_reason: closed.then_some(close_reason),
            closed_at: closed.then(|| received + Duration::hours(12)),
            first_response_at,
            ..new_request(s, channel, received)
        };
        let year = received.with_timezone(&env.policy.calendar.tz());
        let ctx = Ctx {
            catalog: &env.catalog,
            policy: &env.policy,
            now: received,
            new_number: Some(RequestNumber::new(
                chrono::Datelike::year(&year),
                i as u32 + 1,
            )),
        };
        let m = Mutation::new(
            Uuid::now_v7(),
            "sample",
            received,
            Op::Create(Box::new(new)),
        );
        let mut r = crate::domain::apply(None, &m, &ctx)
            .map_err(StoreError::Rejected)?
            .request;
        // Some requests nobody took; the rest spread over the shift unevenly.
        r.assignee = match g.below(10) {
            0 => None,
            k => Some(OPERATORS[(k as usize * 7 + i) % OPERATORS.len()].to_string()),
        };
        rows::write_request(&tx, &r)?;
    }
    tx.commit()?;
    Ok(())
}
