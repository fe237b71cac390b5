//! The store on real SQLite files: write path, idempotency, search and inbox filters.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

use super::*;
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::Channel;
use crate::domain::sla::ClockState;
use crate::domain::{Catalog, ClockPolicy, Status};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
}

/// A store on a temp file whose clock the test moves.
struct Fixture {
    _dir: tempfile::TempDir,
    conn: rusqlite::Connection,
    env: Env,
    clock: Arc<Mutex<DateTime<Utc>>>,
}

impl Fixture {
    fn new(journal: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let conn = db::open(&dir.path().join("t.sqlite3")).unwrap();
        let clock = Arc::new(Mutex::new(t0()));
        let c = clock.clone();
        let env = Env {
            catalog: Catalog::krasnodar(),
            policy: ClockPolicy::default(),
            journal,
            now: Arc::new(move || *c.lock().unwrap()),
        };
        Fixture {
            _dir: dir,
            conn,
            env,
            clock,
        }
    }

    fn set_now(&self, t: DateTime<Utc>) {
        *self.clock.lock().unwrap() = t;
    }

    fn create(&mut self, text: &str, received: DateTime<Utc>) -> crate::domain::Request {
        let new = NewRequest {
            citizen: Some("Пётр".into()),
            ..NewRequest::new(Channel::Vk, text, received)
        };
        let m = Mutation::new(Uuid::now_v7(), "anna", received, Op::Create(Box::new(new)));
        db::apply(&mut self.conn, &self.env, &m).unwrap().request
    }

    fn run(&mut self, r: &crate::domain::Request, op: Op) -> Result<Applied, StoreError> {
        let m = Mutation::new(r.id, "anna", *self.clock.lock().unwrap(), op);
        db::apply(&mut self.conn, &self.env, &m)
    }

    fn search(&self, q: &str) -> Vec<String> {
        let f = Filter {
            text: Some(q.into()),
            ..Default::default()
        };
        let page = read::inbox(&self.conn, &f, Sort::Received, None, 100, t0()).unwrap();
        page.rows.into_iter().map(|r| r.text).collect()
    }
}

#[test]
fn numbers_are_sequential_per_year_and_never_reused() {
    let mut f = Fixture::new(false);
    let a = f.create("раз", t0());
    let b = f.create("два", t0());
    let c = f.create(
        "старое",
        Utc.with_ymd_and_hms(2025, 12, 31, 22, 0, 0).unwrap(),
    );
    assert_eq!(a.number.to_string(), "2026-000001");
    assert_eq!(b.number.to_string(), "2026-000002");
    // 22:00 UTC on Dec 31 is already January 1 in Moscow: numbered by the local year.
    assert_eq!(c.number.to_string(), "2026-000003");
    let d = f.create("новое", Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap());
    assert_eq!(d.number.to_string(), "2025-000001");
}

#[test]
fn request_round_trips_through_the_row() {
    let mut f = Fixture::new(false);
    let r = f.create("Яма у дома", t0());
    let r = f
        .run(
            &r,
            Op::Tag {
                tag: "дети".into()
            },
        )
        .unwrap()
        .request;
    let r = f
        .run(
            &r,
            Op::Forward {
                department: Some("transport_roads".into()),
                note_id: Uuid::now_v7(),
                note: None,
            },
        )
        .unwrap()
        .request;
    let (_, loaded) = read::resolve(&f.conn, &r.number.to_string()).unwrap();
    assert_eq!(loaded, r);
}

#[test]
fn search_finds_word_forms_in_text_messages_and_notes() {
    let mut f = Fixture::new(false);
    let r = f.create("Огромная яма на дороге", t0());
    f.create("Ямы во дворе не засыпаны", t0());
    f.create("Прорвало трубу, течёт вода", t0());
    for q in ["ямой", "ям", "ЯМА", "яма дорога"] {
        assert!(!f.search(q).is_empty(), "{q}");
    }
    assert_eq!(f.search("ямой").len(), 2);
    assert_eq!(
        f.search("трубы"),
        vec!["Прорвало трубу, течёт вода".to_string()]
    );
    assert_eq!(
        f.search("течет").len(),
        1,
        "ё and е are one letter for search"
    );
    assert!(f.search("кабан").is_empty());
    f.run(
        &r,
        Op::AddNote {
            note_id: Uuid::now_v7(),
            body: "Передано подрядчику асфальтирования".into(),
        },
    )
    .unwrap();
    assert_eq!(
        f.search("подрядчик"),
        vec!["Огромная яма на дороге".to_string()]
    );
    f.run(
        &r,
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: "Бригада выехала".into(),
        },
    )
    .unwrap();
    assert_eq!(f.search("бригады").len(), 1);
    assert_eq!(
        f.search("подрядчик").len(),
        1,
        "reindexing keeps earlier notes"
    );
}

#[test]
fn clock_filters_follow_the_time() {
    let mut f = Fixture::new(false);
    let old = f.create("давно", t0() - Duration::hours(5));
    let risky = f.create("скоро", t0() - Duration::hours(3) - Duration::minutes(30));
    let fresh = f.create("только что", t0());
    let closed = f.create("закрыто", t0() - Duration::hours(9));
    f.run(
        &closed,
        Op::Close {
            reason: crate::domain::CloseReason::Spam,
        },
    )
    .unwrap();
    let by = |state| {
        let filter = Filter {
            clock: Some(state),
            ..Default::default()
        };
        read::inbox(&f.conn, &filter, Sort::TimeLeft, None, 10, t0())
            .unwrap()
            .rows
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(by(ClockState::Breached), vec![old.id]);
    assert_eq!(by(ClockState::AtRisk), vec![risky.id]);
    assert_eq!(by(ClockState::Ok), vec![fresh.id]);
    let all = read::inbox(&f.conn, &Filter::default(), Sort::TimeLeft, None, 10, t0()).unwrap();
    let order: Vec<_> = all.rows.iter().map(|r| r.id).collect();
    assert_eq!(
        order,
        vec![old.id, risky.id, fresh.id, closed.id],
        "least time left first, closed last"
    );
}

#[test]
fn filters_combine() {
    let mut f = Fixture::new(false);
    let a = f.create("Яма", t0());
    f.create("Ямы", t0());
    f.run(
        &a,
        Op::SetTopic {
            topic: Some("roads".into()),
            department_follows: true,
        },
    )
    .unwrap();
    f.run(&a, Op::Claim).unwrap();
    let filter = Filter {
        topic: Some("roads".into()),
        department: Some("transport_roads".into()),
        statuses: vec![Status::InWork],
        assignee: Some(Assignee::Is("anna".into())),
        channel: Some(Channel::Vk),
        text: Some("ямы".into()),
        ..Default::default()
    };
    let rows = read::inbox(&f.conn, &filter, Sort::TimeLeft, None, 10, t0())
        .unwrap()
        .rows;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, a.id);
    let unassigned = Filter {
        assignee: Some(Assignee::Unassigned),
        ..Default::default()
    };
    assert_eq!(
        read::inbox(&f.conn, &unassigned, Sort::TimeLeft, None, 10, t0())
            .unwrap()
            .rows
            .len(),
        1
    );
}

#[test]
fn keyset_pages_at_exact_multiples() {
    for n in [0usize, 9, 10, 11, 20, 21] {
        let mut f = Fixture::new(false);
        for i in 0..n {
            // Equal receipt times in pairs exercise the rid tie-break.
            f.create(
                &format!("заявка {i}"),
                t0() + Duration::minutes((i / 2) as i64),
            );
        }
        for sort in [Sort::TimeLeft, Sort::Received] {
            let mut seen = std::collections::HashSet::new();
            let mut after = None;
            let mut pages = 0;
            loop {
                let p = read::inbox(&f.conn, &Filter::default(), sort, after, 10, t0()).unwrap();
                pages += 1;
                for r in &p.rows {
                    assert!(seen.insert(r.id), "n={n}: {} twice", r.number);
                }
                match p.next {
                    Some(c) => after = Some(c),
                    None => break,
                }
            }
            assert_eq!(seen.len(), n);
            assert_eq!(
                pages,
                n.div_ceil(10).max(1),
                "n={n}: no empty trailing page"
            );
        }
    }
}

#[test]
fn rejected_mutation_writes_nothing() {
    let mut f = Fixture::new(true);
    let r = f.create("x", t0());
    let events = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM event", [], |r| r.get(0))
            .unwrap()
    };
    let journal = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM pending_mutation", [], |r| r.get(0))
            .unwrap()
    };
    let before = (events(&f.conn), journal(&f.conn));
    let e = f.run(&r, Op::Reopen).unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)));
    let e = f
        .run(
            &r,
            Op::SetTopic {
                topic: Some("ufo".into()),
                department_follows: true,
            },
        )
        .unwrap_err();
    assert!(e.is_bad_input());
    assert_eq!((events(&f.conn), journal(&f.conn)), before);
}

#[test]
fn batch_is_all_or_nothing() {
    let mut f = Fixture::new(false);
    let r = f.create("x", t0());
    let ok = Mutation::new(r.id, "anna", t0(), Op::Tag { tag: "a".into() });
    let bad = Mutation::new(
        r.id,
        "anna",
        t0(),
        Op::SetDepartment {
            department: Some("nasa".into()),
        },
    );
    let (i, e) = db::apply_batch(&mut f.conn, &f.env, &[ok, bad]).unwrap_err();
    assert_eq!(i, 1);
    assert!(e.to_string().contains("nasa"));
    let (_, loaded) = read::resolve(&f.conn, &r.id.to_string()).unwrap();
    assert!(loaded.tags.is_empty(), "the first mutation was rolled back");
}

#[test]
fn journal_keeps_mutations_and_a_repeat_applies_once() {
    let mut f = Fixture::new(true);
    let r = f.create("x", t0());
    let m = Mutation::new(
        r.id,
        "anna",
        t0(),
        Op::AddNote {
            note_id: Uuid::now_v7(),
            body: "проверить".into(),
        },
    );
    assert!(db::apply(&mut f.conn, &f.env, &m).unwrap().changed);
    assert!(
        !db::apply(&mut f.conn, &f.env, &m).unwrap().changed,
        "same mutation id: no effect"
    );
    let notes: i64 = f
        .conn
        .query_row("SELECT count(*) FROM note", [], |r| r.get(0))
        .unwrap();
    assert_eq!(notes, 1);
    let rows: Vec<(i64, String)> = f
        .conn
        .prepare("SELECT mutation_id, name FROM pending_mutation ORDER BY mutation_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        vec![(1, "create".to_string()), (2, "add_note".to_string())],
        "ids strictly +1"
    );
}

#[test]
fn time_moves_only_through_the_injected_clock() {
    let mut f = Fixture::new(false);
    // A phone call back counts as it is recorded: no channel's word to wait for.
    let new = NewRequest::new(Channel::Phone, "x", t0());
    let m = Mutation::new(Uuid::now_v7(), "anna", t0(), Op::Create(Box::new(new)));
    let r = db::apply(&mut f.conn, &f.env, &m).unwrap().request;
    f.set_now(t0() + Duration::hours(6));
    let r = f
        .run(
            &r,
            Op::Reply {
                message_id: Uuid::now_v7(),
                body: "Ответ".into(),
            },
        )
        .unwrap()
        .request;
    assert_eq!(r.first_response_at(), Some(t0() + Duration::hours(6)));
    assert_eq!(
        r.first_response.state(t0() + Duration::hours(7)),
        ClockState::Breached
    );
}

#[test]
fn integrity_holds_after_a_workload() {
    let mut f = Fixture::new(true);
    for i in 0..50 {
        let r = f.create(&format!("Заявка номер {i}"), t0());
        f.run(&r, Op::Claim).unwrap();
        if i % 2 == 0 {
            f.run(
                &r,
                Op::Close {
                    reason: crate::domain::CloseReason::Resolved,
                },
            )
            .unwrap();
        }
    }
    let ok: String = f
        .conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    // Every status change in the audit trail is one the state machine allows.
    let mut st = f
        .conn
        .prepare("SELECT old, new FROM event WHERE field = 'status'")
        .unwrap();
    let pairs: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!pairs.is_empty());
    for (a, b) in pairs {
        let (a, b): (Status, Status) = (a.parse().unwrap(), b.parse().unwrap());
        assert!(a.can_become(b), "{a} -> {b}");
    }
}

#[tokio::test]
async fn the_actor_serves_concurrent_callers() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new(false);
    let store = Store::open(&dir.path().join("a.sqlite3"), f.env.clone())
        .await
        .unwrap();
    let mut tasks = vec![];
    for i in 0..20 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let new = NewRequest {
                external_id: Some(format!("tg-{i}")),
                ..NewRequest::new(Channel::Telegram, format!("сообщение {i}"), t0())
            };
            s.apply(Mutation::new(
                Uuid::now_v7(),
                "gw",
                t0(),
                Op::Create(Box::new(new)),
            ))
            .await
        }));
    }
    let mut numbers = std::collections::HashSet::new();
    for t in tasks {
        numbers.insert(t.await.unwrap().unwrap().request.number);
    }
    assert_eq!(numbers.len(), 20, "every request got its own number");
    let page = store
        .inbox(Filter::default(), Sort::Received, None, 100)
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 20);
    let e = store.resolve("2026-000999").await.unwrap_err();
    assert!(matches!(e, StoreError::UnknownRequest(_)));
}

#[test]
fn a_held_resolution_clock_is_stored_and_read_back() {
    let mut f = Fixture::new(false);
    let r = f.create("Бездомные собаки у школы", t0());
    let r = f
        .run(
            &r,
            Op::SetDepartment {
                department: Some("veterinary".into()),
            },
        )
        .unwrap()
        .request;
    f.set_now(t0() + Duration::hours(2));
    let sent = f
        .run(
            &r,
            Op::Forward {
                department: None,
                note_id: Uuid::now_v7(),
                note: None,
            },
        )
        .unwrap()
        .request;
    assert_eq!(sent.resolution.paused, Some(t0() + Duration::hours(2)));
    let (_, loaded) = rows::load_by(&f.conn, "id", &sent.id.to_string())
        .unwrap()
        .unwrap();
    assert_eq!(loaded.resolution, sent.resolution);
}

/// #20 item 4: the dashboard is read on the store's read-only connection, so it answers while
/// the writer's thread is busy (here held on purpose), sees what was committed, and cannot
/// write.
#[tokio::test]
async fn the_dashboard_reads_beside_a_busy_writer() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new(false);
    let store = Store::open(&dir.path().join("a.sqlite3"), f.env.clone())
        .await
        .unwrap();
    let new = NewRequest::new(Channel::Telegram, "Нет света", t0());
    store
        .apply(Mutation::new(
            Uuid::now_v7(),
            "gw",
            t0(),
            Op::Create(Box::new(new)),
        ))
        .await
        .unwrap();
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, writer_busy) = tokio::sync::oneshot::channel();
    let writer = store.clone();
    let busy = tokio::spawn(async move {
        writer
            .call(move |_, _| {
                let _ = started.send(());
                let _ = held.recv();
                Ok(())
            })
            .await
    });
    writer_busy.await.unwrap();
    let board = tokio::time::timeout(std::time::Duration::from_secs(10), store.dashboard())
        .await
        .expect("the dashboard did not wait for the writer's thread")
        .unwrap();
    assert_eq!(board.facts, 1);
    release.send(()).unwrap();
    busy.await.unwrap().unwrap();
    let refused = store
        .read_call(|c, _| Ok(c.execute("DELETE FROM request", [])))
        .await
        .unwrap();
    assert!(refused.is_err(), "the reader wrote");
}
