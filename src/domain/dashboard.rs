//! The shift lead's dashboard: the queue by time left, what breaches within the hour, load per
//! operator and department, today's intake and the first-response figures, all computed from
//! compact per-request facts.
//!
//! Pure: the facts, `now` and the time zone are parameters. The facts carry each request's
//! active clock as the store keeps it (`due_key`/`risk_key`), so "at risk" and "breached" here
//! are exactly the inbox's At-risk view. Definitions callers can observe:
//!
//! - Time left is wall-clock time to the active clock's due, as the inbox's column shows it.
//! - A held clock (the request waits for its department) neither warns nor breaches.
//! - "Within target" for a period: first-response clocks decided in it. A reply at or before
//!   due is met at the reply; a clock that ran past due unanswered is missed at due, whether
//!   the reply came later or not yet. A request closed unanswered before its due (spam, a
//!   duplicate) was never owed a reply and is not counted.
//! - First-response times are wall-clock (what the citizen waited), over replies given in the
//!   period; median and p90 are nearest-rank.
//! - Periods are local calendar days in the zone: today, the week from Monday, the month.
//!
//! Times are whole seconds since the epoch (`u32`, to 2106): deadlines and `now` rounded down,
//! replies and closings rounded up, so a clock due at a whole second (every clock the channels
//! start) is judged exactly as the inbox judges it; one due mid-second may turn a second early.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::request::{Channel, RequestNumber};
use super::status::Status;

/// No such instant (not answered, not closed, no running clock).
pub const NEVER: u32 = u32::MAX;
/// No topic, department or assignee.
pub const NOBODY: u16 = u16::MAX;

/// Which clock of an open request runs now (`Request::active_clock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Running {
    /// Closed: no clock runs.
    #[default]
    None,
    FirstResponse,
    Department,
    Resolution,
    /// The active clock is held; it shows neither risk nor breach.
    Held,
}

/// One request, as much as the dashboard needs of it: 52 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// The store's row id, to find the request again.
    pub key: u32,
    pub seq: u32,
    pub received: u32,
    /// The first response (reply), or `NEVER`.
    pub answered: u32,
    pub first_due: u32,
    /// The active clock's due and warning instants (`NEVER` when none runs).
    pub due: u32,
    pub risk: u32,
    /// The department's own clock while it runs (`NEVER` otherwise): it runs beside the
    /// citizen's first-response clock until the citizen is answered.
    pub dep_due: u32,
    pub dep_risk: u32,
    pub closed: u32,
    pub year: u16,
    /// Indexes into [`Names`], or `NOBODY`.
    pub topic: u16,
    pub department: u16,
    pub assignee: u16,
    pub status: Status,
    pub channel: Channel,
    pub running: Running,
}

/// What the ids in facts stand for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub topics: Vec<String>,
    pub departments: Vec<String>,
    pub operators: Vec<String>,
}

/// Seconds since the epoch, clamped into `u32`.
pub fn secs(t: DateTime<Utc>) -> u32 {
    t.timestamp().clamp(0, (NEVER - 1) as i64) as u32
}

/// Upper bounds (seconds of time left) of the queue's buckets after "breached"; the last
/// bucket is everything beyond.
pub const QUEUE_BOUNDS: [u32; 6] = [15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 24 * 3600];
/// Breached, the six bounded buckets, and "more than a day".
pub const QUEUE_BUCKETS: usize = QUEUE_BOUNDS.len() + 2;

/// A request on the at-risk or breached list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: u32,
    pub number: RequestNumber,
    pub due: u32,
    pub status: Status,
    pub running: Running,
    pub topic: Option<String>,
    pub assignee: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperatorLoad {
    pub name: String,
    /// Open requests assigned to them.
    pub claimed: u32,
    /// First responses today on requests assigned to them.
    pub replied_today: u32,
    /// Of those responses, in seconds.
    pub median_first_response: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DepartmentLoad {
    pub name: String,
    pub waiting: u32,
    pub at_risk: u32,
    /// Past due on the department clock.
    pub overdue: u32,
}

/// Met and missed first-response targets in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Share {
    pub met: u32,
    pub missed: u32,
}

impl Share {
    /// Percent met, None when nothing was decided.
    pub fn percent(&self) -> Option<f64> {
        let all = self.met + self.missed;
        (all > 0).then(|| 100.0 * self.met as f64 / all as f64)
    }
}

/// First-response times in a period, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseTimes {
    pub count: u32,
    pub mean: Option<u32>,
    pub median: Option<u32>,
    pub p90: Option<u32>,
}

/// Today, this week, this month.
pub const PERIODS: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub now: DateTime<Utc>,
    /// Requests by status, in `Status::ALL` order (closed: those among the facts).
    pub by_status: [u32; 6],
    pub closed_today: u32,
    /// Running clocks by time left: breached, then `QUEUE_BOUNDS`, then more than a day.
    pub queue: [u32; QUEUE_BUCKETS],
    pub held: u32,
    /// Running clocks that will breach within the next hour if nobody acts.
    pub forecast_hour: u32,
    pub at_risk: u32,
    pub breached: u32,
    /// Most urgent first (least time left), at most `list_len` each.
    pub at_risk_list: Vec<Item>,
    pub breached_list: Vec<Item>,
    /// Busiest first.
    pub operators: Vec<OperatorLoad>,
    /// Departments with requests waiting, most overdue first.
    pub departments: Vec<DepartmentLoad>,
    /// Requests received today by local hour, and on the same weekday a week ago.
    pub intake_today: [u32; 24],
    pub intake_week_ago: [u32; 24],
    /// Today's intake by topic (None: no topic yet), largest first.
    pub topics: Vec<(Option<String>, u32)>,
    /// Today's intake by channel, largest first, channels with none left out.
    pub channels: Vec<(Channel, u32)>,
    /// Today, this week, this month.
    pub within_target: [Share; PERIODS],
    pub first_response: [ResponseTimes; PERIODS],
}

impl Dashboard {
    pub fn open(&self) -> u32 {
        Status::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| self.count(*s))
            .sum()
    }

    pub fn count(&self, status: Status) -> u32 {
        self.by_status[status_index(status)]
    }

    pub fn intake_total(&self) -> u32 {
        self.intake_today.iter().sum()
    }
}

/// The first instant of local `date` at `hour` (after a clock jump skips it, the instant the
/// clocks jump to).
fn local_start(tz: Tz, date: NaiveDate, hour: u32) -> DateTime<Utc> {
    let wall = date.and_hms_opt(hour, 0, 0).unwrap_or_default();
    (0..=3)
        .find_map(|h| {
            tz.from_local_datetime(&(wall + Duration::hours(h)))
                .earliest()
        })
        .map_or_else(|| wall.and_utc(), |t| t.with_timezone(&Utc))
}

/// The 25 instants that start each local hour of `date` and the next day.
fn hours_of(tz: Tz, date: NaiveDate) -> [u32; 25] {
    let mut b = [0u32; 25];
    for (h, slot) in b.iter_mut().take(24).enumerate() {
        *slot = secs(local_start(tz, date, h as u32));
    }
    b[24] = secs(local_start(tz, date + Duration::days(1), 0));
    b
}

fn hour_of(bounds: &[u32; 25], t: u32) -> Option<usize> {
    if t < bounds[0] || t >= bounds[24] {
        return None;
    }
    Some(bounds.partition_point(|b| *b <= t) - 1)
}

/// The value at nearest rank `ceil(p · n)` (1-based), reordering `v`; None when empty.
pub fn percentile(v: &mut [u32], p: f64) -> Option<u32> {
    if v.is_empty() {
        return None;
    }
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    let (_, x, _) = v.select_nth_unstable(rank - 1);
    Some(*x)
}

fn times(v: &mut [u32]) -> ResponseTimes {
    let count = v.len() as u32;
    let mean =
        (count > 0).then(|| (v.iter().map(|x| *x as u64).sum::<u64>() / count as u64) as u32);
    ResponseTimes {
        count,
        mean,
        median: percentile(v, 0.5),
        p90: percentile(v, 0.9),
    }
}

/// The `n` smallest by due (then key), sorted.
fn most_urgent(mut v: Vec<(u32, u32, usize)>, n: usize) -> Vec<(u32, u32, usize)> {
    if v.len() > n && n > 0 {
        v.select_nth_unstable(n - 1);
    }
    v.truncate(n);
    v.sort_unstable();
    v
}

#[derive(Default, Clone)]
struct OpAcc {
    claimed: u32,
    replied_today: u32,
    today: Vec<u32>,
}

fn name(list: &[String], id: u16) -> Option<String> {
    if id == NOBODY {
        None
    } else {
        list.get(id as usize).cloned()
    }
}

fn status_index(s: Status) -> usize {
    Status::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

fn channel_index(c: Channel) -> usize {
    Channel::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

/// Everything on the dashboard, from the facts. `list_len` caps the at-risk and breached lists.
pub fn compute(
    facts: &[Fact],
    names: &Names,
    now: DateTime<Utc>,
    tz: Tz,
    list_len: usize,
) -> Dashboard {
    let now_s = secs(now);
    let today = now.with_timezone(&tz).date_naive();
    let day = hours_of(tz, today);
    let week_ago = hours_of(tz, today - Duration::days(7));
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let first = today.with_day(1).unwrap_or(today);
    let starts = [
        day[0],
        secs(local_start(tz, monday, 0)),
        secs(local_start(tz, first, 0)),
    ];
    let in_period = |p: usize, t: u32| t >= starts[p] && t <= now_s;

    let mut by_status = [0u32; 6];
    let mut closed_today = 0;
    let mut queue = [0u32; QUEUE_BUCKETS];
    let mut held = 0;
    let mut forecast_hour = 0;
    let mut risky = vec![];
    let mut late = vec![];
    let mut ops = vec![OpAcc::default(); names.operators.len()];
    let mut deps = vec![DepartmentLoad::default(); names.departments.len()];
    let mut intake_today = [0u32; 24];
    let mut intake_week_ago = [0u32; 24];
    let mut topics = vec![0u32; names.topics.len() + 1];
    let mut channels = [0u32; Channel::ALL.len()];
    let mut within = [Share::default(); PERIODS];
    let mut frt: [Vec<u32>; PERIODS] = Default::default();

    for (i, f) in facts.iter().enumerate() {
        by_status[status_index(f.status)] += 1;
        if f.closed != NEVER && in_period(0, f.closed) {
            closed_today += 1;
        }
        match f.running {
            Running::None => {}
            Running::Held => held += 1,
            _ => {
                if now_s >= f.due {
                    queue[0] += 1;
                    late.push((f.due, f.key, i));
                } else {
                    let left = f.due - now_s;
                    let b = QUEUE_BOUNDS.partition_point(|x| *x < left);
                    queue[b + 1] += 1;
                    if left <= 3600 {
                        forecast_hour += 1;
                    }
                    if now_s >= f.risk {
                        risky.push((f.due, f.key, i));
                    }
                }
            }
        }
        let open = f.status != Status::Closed;
        if let Some(op) = ops.get_mut(f.assignee as usize) {
            if open {
                op.claimed += 1;
            }
            if f.answered != NEVER && in_period(0, f.answered) {
                op.replied_today += 1;
                op.today.push(f.answered.saturating_sub(f.received));
            }
        }
        if f.status == Status::WaitingDepartment
            && let Some(d) = deps.get_mut(f.department as usize)
        {
            d.waiting += 1;
            if f.dep_due != NEVER {
                if now_s >= f.dep_due {
                    d.overdue += 1;
                } else if now_s >= f.dep_risk {
                    d.at_risk += 1;
                }
            }
        }
        if f.received >= day[0] {
            if let Some(h) = hour_of(&day, f.received).filter(|_| f.received <= now_s) {
                intake_today[h] += 1;
                let t = (f.topic as usize).min(names.topics.len());
                topics[t] += 1;
                channels[channel_index(f.channel)] += 1;
            }
        } else if let Some(h) = hour_of(&week_ago, f.received) {
            intake_week_ago[h] += 1;
        }
        // When the first-response clock was decided, and how.
        let decided = if f.answered != NEVER && f.answered <= f.first_due {
            Some((f.answered, true))
        } else if f.answered != NEVER
            || (now_s >= f.first_due && (f.closed == NEVER || f.closed > f.first_due))
        {
            Some((f.first_due, false))
        } else {
            None
        };
        if let Some((at, met)) = decided {
            for (p, share) in within.iter_mut().enumerate() {
                if in_period(p, at) {
                    if met {
                        share.met += 1;
                    } else {
                        share.missed += 1;
                    }
                }
            }
        }
        if f.answered != NEVER {
            let wait = f.answered.saturating_sub(f.received);
            for (p, v) in frt.iter_mut().enumerate() {
                if in_period(p, f.answered) {
                    v.push(wait);
                }
            }
        }
    }

    let item = |(_, _, i): (u32, u32, usize)| {
        let f = &facts[i];
        Item {
            key: f.key,
            number: RequestNumber::new(f.year as i32, f.seq),
            due: f.due,
            status: f.status,
            running: f.running,
            topic: name(&names.topics, f.topic),
            assignee: name(&names.operators, f.assignee),
        }
    };
    let at_risk = risky.len() as u32;
    let breached = late.len() as u32;
    let at_risk_list = most_urgent(risky, list_len).into_iter().map(item).collect();
    let breached_list = most_urgent(late, list_len).into_iter().map(item).collect();

    let mut operators: Vec<OperatorLoad> = ops
        .into_iter()
        .zip(&names.operators)
        .filter(|(o, _)| o.claimed > 0 || o.replied_today > 0)
        .map(|(mut o, n)| OperatorLoad {
            name: n.clone(),
            claimed: o.claimed,
            replied_today: o.replied_today,
            median_first_response: percentile(&mut o.today, 0.5),
        })
        .collect();
    operators.sort_by(|a, b| {
        (b.claimed, b.replied_today)
            .cmp(&(a.claimed, a.replied_today))
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut departments: Vec<DepartmentLoad> = deps
        .into_iter()
        .zip(&names.departments)
        .filter(|(d, _)| d.waiting > 0)
        .map(|(d, n)| DepartmentLoad {
            name: n.clone(),
            ..d
        })
        .collect();
    departments.sort_by(|a, b| {
        (b.overdue, b.at_risk, b.waiting)
            .cmp(&(a.overdue, a.at_risk, a.waiting))
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut topics: Vec<(Option<String>, u32)> = topics
        .into_iter()
        .enumerate()
        .filter(|(_, n)| *n > 0)
        .map(|(i, n)| (names.topics.get(i).cloned(), n))
        .collect();
    topics.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut channels: Vec<(Channel, u32)> = Channel::ALL
        .into_iter()
        .zip(channels)
        .filter(|(_, n)| *n > 0)
        .collect();
    channels.sort_by_key(|c| std::cmp::Reverse(c.1));
    let [mut d, mut w, mut m] = frt;

    Dashboard {
        now,
        by_status,
        closed_today,
        queue,
        held,
        forecast_hour,
        at_risk,
        breached,
        at_risk_list,
        breached_list,
        operators,
        departments,
        intake_today,
        intake_week_ago,
        topics,
        channels,
        within_target: within,
        first_response: [times(&mut d), times(&mut w), times(&mut m)],
    }
}

#[cfg(test)]
mod tests;
