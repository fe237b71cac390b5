//! Requests whose clock crossed a line between two instants: turned at risk, came within the
//! last warning before due, or breached; and replies the citizen did not get. The console asks
//! for the span since its last look, so each crossing is found once however often it looks,
//! and a look costs a few index ranges (`risk_key`, `due_key`, `reply_at`), not a scan of the
//! queue.

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use uuid::Uuid;

use super::StoreError;
use super::rows::{ms, time};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    AtRisk,
    DueSoon,
    Breached,
    /// A reply failed, or the channel can't say whether the citizen got it.
    Undelivered,
    /// The sync server refused an action taken at this console (team mode); the console adds
    /// these itself, the store never finds them.
    Refused,
}

/// Which crossings are worth telling (config `[alerts]`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRules {
    pub at_risk: bool,
    /// The last warning this long before due; None: none.
    pub due_within: Option<Duration>,
    pub breached: bool,
    pub undelivered: bool,
    /// Only requests assigned to this operator or to no one.
    pub only_for: Option<String>,
}

/// A delivery's outcome is known where the gateway runs and reaches a team console with its
/// next pull: a look reaches this far back for them, and the console drops what it already
/// listed (same request, kind and instant).
pub const UNDELIVERED_LOOKBACK: Duration = Duration::minutes(5);

#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    pub id: Uuid,
    pub number: String,
    pub kind: AlertKind,
    /// When the line was crossed (not when it was noticed).
    pub at: DateTime<Utc>,
    pub assignee: Option<String>,
    pub topic: Option<String>,
    /// The start of the citizen's text, for a line in the list.
    pub text: String,
}

/// At most this many per look: after a long sleep the list says "and more" rather than
/// holding the store's thread to read the whole queue.
pub const LIMIT: usize = 200;

/// Crossings with `from < instant <= to`, oldest first.
pub fn crossings(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    rules: &AlertRules,
) -> Result<Vec<Crossing>, StoreError> {
    let mut found = vec![];
    if to <= from {
        return Ok(found);
    }
    let mut look = |kind: AlertKind,
                    column: &str,
                    shift: Duration,
                    back: Duration|
     -> Result<(), StoreError> {
        // `at = column - shift` in (from - back, to]  ⇔  column in (from - back + shift, to + shift].
        let sql = format!(
            "SELECT id, number, {column}, assignee, topic, substr(text, 1, 120) FROM request
              WHERE {column} > ?1 AND {column} <= ?2
                AND (?3 IS NULL OR assignee = ?3 OR assignee IS NULL)
                {extra}
              ORDER BY {column} LIMIT {LIMIT}",
            extra = match kind {
                // A zero target is at risk and due at once: only the breach is news.
                AlertKind::AtRisk => "AND status != 'closed' AND risk_key < due_key",
                // Closed or not: the citizen did not get what they were told.
                AlertKind::Undelivered => "AND reply_state IN ('failed', 'unknown')",
                _ => "AND status != 'closed'",
            }
        );
        let shift_ms = shift.num_milliseconds();
        let mut st = conn.prepare_cached(&sql)?;
        let rows = st.query_map(
            rusqlite::params![
                ms(from) - back.num_milliseconds() + shift_ms,
                ms(to) + shift_ms,
                rules.only_for
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                ))
            },
        )?;
        for row in rows {
            let (id, number, instant, assignee, topic, text) = row?;
            found.push(Crossing {
                id: Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                number,
                kind,
                at: time(instant - shift_ms)?,
                assignee,
                topic,
                text,
            });
        }
        Ok(())
    };
    let none = Duration::zero();
    if rules.at_risk {
        look(AlertKind::AtRisk, "risk_key", none, none)?;
    }
    if let Some(before) = rules.due_within.filter(|d| *d > Duration::zero()) {
        look(AlertKind::DueSoon, "due_key", before, none)?;
    }
    if rules.breached {
        look(AlertKind::Breached, "due_key", none, none)?;
    }
    if rules.undelivered {
        look(
            AlertKind::Undelivered,
            "reply_at",
            none,
            UNDELIVERED_LOOKBACK,
        )?;
    }
    found.sort_by_key(|c| c.at);
    found.truncate(LIMIT);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mutation::{Mutation, NewRequest, Op};
    use crate::domain::request::Channel;
    use crate::domain::{Catalog, ClockPolicy, Request};
    use crate::store::{Env, db};
    use chrono::TimeZone;
    use std::sync::Arc;

    fn rules() -> AlertRules {
        AlertRules {
            at_risk: true,
            due_within: Some(Duration::minutes(15)),
            breached: true,
            undelivered: true,
            only_for: None,
        }
    }

    struct Fx {
        _dir: tempfile::TempDir,
        conn: Connection,
        env: Env,
    }

    impl Fx {
        fn new() -> Fx {
            let dir = tempfile::tempdir().unwrap();
            let conn = db::open(&dir.path().join("a.sqlite3")).unwrap();
            let env = Env {
                catalog: Catalog::krasnodar(),
                policy: ClockPolicy::default(),
                journal: false,
                now: Arc::new(t0),
            };
            Fx {
                _dir: dir,
                conn,
                env,
            }
        }

        fn create(&mut self) -> Request {
            let new = NewRequest::new(Channel::Vk, "Яма во дворе", t0());
            let m = Mutation::new(
                uuid::Uuid::now_v7(),
                "anna",
                t0(),
                Op::Create(Box::new(new)),
            );
            db::apply(&mut self.conn, &self.env, &m).unwrap().request
        }

        fn run(&mut self, r: &Request, actor: &str, op: Op) {
            let m = Mutation::new(r.id, actor, t0(), op);
            db::apply(&mut self.conn, &self.env, &m).unwrap();
        }

        fn look(&self, from: DateTime<Utc>, to: DateTime<Utc>, r: &AlertRules) -> Vec<Crossing> {
            crossings(&self.conn, from, to, r).unwrap()
        }
    }

    /// A Monday morning, inside working hours.
    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 9, 6, 0, 0).unwrap()
    }

    fn kinds(found: &[Crossing]) -> Vec<(AlertKind, DateTime<Utc>)> {
        found.iter().map(|c| (c.kind, c.at)).collect()
    }

    #[test]
    fn each_crossing_is_found_once_in_the_span_it_falls_in() {
        let mut fx = Fx::new();
        let req = fx.create();
        let risk = req.first_response.at_risk_at;
        let due = req.first_response.due;
        let soon = due - Duration::minutes(15);
        assert!(risk < soon && soon < due, "{risk} {soon} {due}");
        let s = Duration::seconds(1);
        let r = rules();
        assert!(fx.look(t0(), risk - s, &r).is_empty());
        assert_eq!(
            kinds(&fx.look(risk - s, risk, &r)),
            [(AlertKind::AtRisk, risk)]
        );
        assert!(fx.look(risk, soon - s, &r).is_empty());
        assert_eq!(
            kinds(&fx.look(risk, soon, &r)),
            [(AlertKind::DueSoon, soon)]
        );
        assert_eq!(kinds(&fx.look(soon, due, &r)), [(AlertKind::Breached, due)]);
        // One long look (a console asleep all morning) finds all three, in order.
        let later = due + Duration::hours(1);
        assert_eq!(
            kinds(&fx.look(t0(), later, &r)),
            [
                (AlertKind::AtRisk, risk),
                (AlertKind::DueSoon, soon),
                (AlertKind::Breached, due)
            ]
        );
        assert!(fx.look(due, later, &r).is_empty());
        assert_eq!(fx.look(t0(), later, &r)[0].number, req.number.to_string());
    }

    /// In a department's own console a forwarded request runs on the department's clock: it
    /// is told once when that clock turns at risk and once when it breaches (#21 item 4).
    #[test]
    fn a_forwarded_request_alerts_on_the_department_clock_once_per_level() {
        let mut fx = Fx::new();
        let req = fx.create();
        fx.run(
            &req,
            "anna",
            Op::Forward {
                department: Some("city_economy".into()),
                note_id: uuid::Uuid::now_v7(),
                note: None,
            },
        );
        let clock = crate::store::read::detail(&fx.conn, &req.id.to_string())
            .unwrap()
            .request
            .department_clock
            .expect("the department's clock runs");
        let (risk, due) = (clock.at_risk_at, clock.due);
        assert_ne!(due, req.first_response.due, "not the operators' clock");
        let only_levels = AlertRules {
            due_within: None,
            undelivered: false,
            ..rules()
        };
        let later = due + Duration::hours(1);
        // An operator's file: the citizen's first answer comes first.
        let fr = &req.first_response;
        assert_eq!(
            kinds(&fx.look(t0(), later, &only_levels)),
            [
                (AlertKind::AtRisk, fr.at_risk_at),
                (AlertKind::Breached, fr.due)
            ]
        );
        // The department's own file.
        assert_eq!(
            crate::store::department_view::mark(&mut fx.conn).unwrap(),
            1
        );
        assert_eq!(
            crate::store::department_view::mark(&mut fx.conn).unwrap(),
            0
        );
        assert_eq!(
            kinds(&fx.look(t0(), later, &only_levels)),
            [(AlertKind::AtRisk, risk), (AlertKind::Breached, due)]
        );
        let s = Duration::seconds(1);
        assert_eq!(fx.look(t0(), risk - s, &only_levels).len(), 0);
        assert_eq!(fx.look(risk - s, due - s, &only_levels).len(), 1);
        assert_eq!(fx.look(due - s, later, &only_levels).len(), 1);
    }

    #[test]
    fn rules_leave_out_what_was_not_asked_for() {
        let mut fx = Fx::new();
        let req = fx.create();
        let later = req.first_response.due + Duration::hours(1);
        let only_breach = AlertRules {
            at_risk: false,
            due_within: None,
            breached: true,
            undelivered: false,
            only_for: None,
        };
        assert_eq!(
            kinds(&fx.look(t0(), later, &only_breach)),
            [(AlertKind::Breached, req.first_response.due)]
        );
        // Unassigned requests are everyone's: "only mine" still shows them; someone else's not.
        let mine = AlertRules {
            only_for: Some("anna".into()),
            ..rules()
        };
        assert_eq!(fx.look(t0(), later, &mine).len(), 3);
        fx.run(&req, "boris", Op::Claim);
        assert!(fx.look(t0(), later, &mine).is_empty());
        fx.run(
            &req,
            "lena",
            Op::Assign {
                assignee: Some("anna".into()),
            },
        );
        assert_eq!(fx.look(t0(), later, &mine).len(), 3);
    }

    #[test]
    fn a_closed_request_never_alerts() {
        let mut fx = Fx::new();
        let req = fx.create();
        let later = req.first_response.due + Duration::hours(1);
        fx.run(
            &req,
            "anna",
            Op::Close {
                reason: crate::domain::CloseReason::Spam,
            },
        );
        assert!(fx.look(t0(), later, &rules()).is_empty());
    }

    #[test]
    fn a_reply_the_citizen_did_not_get_alerts_once_even_when_it_arrives_late() {
        let mut fx = Fx::new();
        // No chat to send to: the reply fails as it is written, at t0.
        let req = fx.create();
        fx.run(
            &req,
            "anna",
            Op::Reply {
                message_id: uuid::Uuid::now_v7(),
                body: "Принято".into(),
            },
        );
        let only = AlertRules {
            at_risk: false,
            due_within: None,
            breached: false,
            undelivered: true,
            only_for: None,
        };
        let found = fx.look(t0() - Duration::seconds(1), t0(), &only);
        assert_eq!(kinds(&found), [(AlertKind::Undelivered, t0())]);
        // A team console may pull it a little after its instant: a later look still finds it.
        let late = fx.look(
            t0() + Duration::minutes(2),
            t0() + Duration::minutes(3),
            &only,
        );
        assert_eq!(kinds(&late), [(AlertKind::Undelivered, t0())]);
        assert!(
            fx.look(t0() + Duration::hours(1), t0() + Duration::hours(2), &only)
                .is_empty()
        );
    }
}
