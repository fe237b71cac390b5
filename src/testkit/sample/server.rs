//! A sync server holding a city's year, for the sync benches: requests with their replies,
//! notes, forwards and closings, each one a mutation taken by the server's own rules
//! (`engine::push_one`, as a push does), only many to a transaction instead of one, so the
//! rows are the ones real pushes leave behind: request documents, messages, notes, audit
//! events, change log, processed mutations, clients.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Generator, history_end, new_request, spread};
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::{Channel, ChannelRef, Priority};
use crate::domain::status::CloseReason;
use crate::domain::{Catalog, ClockPolicy};
use crate::server::accounts::hash_token;
use crate::server::engine::{self, Principal, Role, Rules, Step, Transactional};
use crate::server::sqlite::SqliteStore;
use crate::testkit::contract::SCOPE;
use crate::wire::sync::{PushMutation, PushRequest, SCHEMA_VERSION, Verdict};

/// The console that pulls everything in the benchmark; its token is fixed so the cached
/// database needs no new account per run.
pub const READER: &str = "viktor";
pub const READER_TOKEN: &str = "mcu_bench_reader_token_0000000000000000000000";

/// Seed of the year's corpus draws; part of what the benches' cached file names stand for.
const SEED: u64 = 7;

const OPERATORS: [&str; 8] = [
    "anna", "boris", "vera", "gleb", "dina", "egor", "zoya", "ivan",
];
/// Mutations per server transaction while seeding.
const BATCH: usize = 5_000;
const REPLIES: &[&str] = &[
    "Здравствуйте! Ваше обращение принято и передано в работу.",
    "Добрый день. Специалисты выедут на место в течение рабочего дня.",
    "Спасибо за обращение. Работы запланированы на эту неделю, о результате сообщим.",
    "Здравствуйте! Уточните, пожалуйста, номер дома и подъезда.",
    "Проблема устранена. Если повторится, напишите нам снова.",
    "Ваше обращение направлено в управляющую компанию, срок ответа — 3 рабочих дня.",
];
const NOTES: &[&str] = &[
    "Звонила повторно, просит ускорить.",
    "Похоже на дубль вчерашнего обращения по тому же адресу.",
    "Связался с диспетчером, бригада на другом адресе.",
    "Фото приложено, яма около 1 м в диаметре.",
    "Заявитель просит перезвонить после 18:00.",
];
const ANSWERS: &[&str] = &[
    "Работы выполнены, акт приложен.",
    "Включено в план ремонта на следующий месяц.",
    "Выезд бригады назначен на завтра, 10:00.",
    "Не наша зона ответственности, передано в администрацию округа.",
];

/// One step of a request's life, waiting for its time.
struct Due {
    at: DateTime<Utc>,
    /// Ties keep creation order.
    order: u64,
    who: usize,
    m: Mutation,
}

impl PartialEq for Due {
    fn eq(&self, o: &Due) -> bool {
        (self.at, self.order) == (o.at, o.order)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, o: &Due) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Due {
    fn cmp(&self, o: &Due) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(o.at, o.order))
    }
}

/// The steps after creation: claimed within hours, answered, sometimes a note, sometimes
/// forwarded to a department that answers within a day, sometimes a second reply, closed a
/// day or three later. Steps past `history_end()` never happen, so the last days stay open.
/// One of `list`, drawn as the old bench seeder drew it (one `below`), so seeded files match.
fn pick<'a>(g: &mut Generator, list: &[&'a str]) -> &'a str {
    list[g.below(list.len() as u64) as usize]
}

fn life(g: &mut Generator, t0: DateTime<Utc>, has_dep: bool) -> Vec<(DateTime<Utc>, Op)> {
    let mins =
        |g: &mut Generator, lo: u64, hi: u64| Duration::minutes((lo + g.below(hi - lo)) as i64);
    let mut steps = vec![];
    let mut t = t0 + mins(g, 10, 180);
    steps.push((t, Op::Claim));
    t += mins(g, 5, 60);
    steps.push((
        t,
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: pick(g, REPLIES).into(),
        },
    ));
    if g.chance(0.35) {
        t += mins(g, 5, 240);
        steps.push((
            t,
            Op::AddNote {
                note_id: Uuid::now_v7(),
                body: pick(g, NOTES).into(),
            },
        ));
    }
    if has_dep && g.chance(0.25) {
        t += mins(g, 10, 120);
        steps.push((
            t,
            Op::Forward {
                department: None,
                note_id: Uuid::now_v7(),
                note: Some("Прошу принять меры и сообщить о результате.".into()),
            },
        ));
        t += mins(g, 120, 1440);
        steps.push((
            t,
            Op::DepartmentAnswer {
                note_id: Uuid::now_v7(),
                body: pick(g, ANSWERS).into(),
                attachments: vec![],
            },
        ));
    }
    if g.chance(0.2) {
        t += mins(g, 10, 600);
        steps.push((
            t,
            Op::Reply {
                message_id: Uuid::now_v7(),
                body: pick(g, REPLIES).into(),
            },
        ));
    }
    t += mins(g, 600, 3600);
    steps.push((
        t,
        Op::Close {
            reason: CloseReason::Resolved,
        },
    ));
    steps
}

struct Console {
    who: Principal,
    id: Uuid,
    next: i64,
}

type Batch = Vec<(usize, PushMutation, DateTime<Utc>)>;

/// Journals `m` on console `who`, numbered as that console would.
fn take(who: usize, m: Mutation, at: DateTime<Utc>, batch: &mut Batch, consoles: &mut [Console]) {
    let c = &mut consoles[who];
    batch.push((
        who,
        PushMutation {
            id: c.next,
            base_seq: None,
            mutation: m,
        },
        at,
    ));
    c.next += 1;
}

/// Writes a server store at `path` holding `n` requests received over about `n / 1100` days up
/// to [`history_end`], each with its life, and the accounts of the operators and [`READER`].
pub fn server_year(path: &Path, n: usize) {
    let started = Instant::now();
    let store = SqliteStore::open(path).expect("server store");
    let catalog = Catalog::krasnodar();
    let policy = ClockPolicy::default();
    let rules = Rules {
        catalog: &catalog,
        policy: &policy,
        assign: Default::default(),
    };
    let mut consoles: Vec<Console> = OPERATORS
        .iter()
        .map(|u| Console {
            who: Principal {
                user: (*u).into(),
                role: Role::Operator,
                departments: None,
            },
            id: Uuid::now_v7(),
            next: 1,
        })
        .collect();
    let first = history_end() - Duration::days(((n as f64 / 1100.0).ceil() as i64).max(1));
    store
        .in_tx(|tx| {
            for c in &consoles {
                let hello = PushRequest {
                    client_id: c.id,
                    schema_version: SCHEMA_VERSION,
                    scope_id: SCOPE.into(),
                    mutations: vec![],
                    fence: None,
                };
                engine::admit(tx, &c.who, &hello, first)?;
                tx.add_account(
                    &c.who.user,
                    Role::Operator,
                    &hash_token(&format!("mcu_bench_{}", c.who.user)),
                    first,
                )?;
            }
            tx.add_account(READER, Role::Operator, &hash_token(READER_TOKEN), first)?;
            Ok(())
        })
        .expect("clients");

    let mut g = Generator::new(SEED);
    let span = (history_end() - first).num_milliseconds();
    let mut heap: BinaryHeap<Reverse<Due>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut batch: Batch = Vec::with_capacity(BATCH);
    let mut totals = [0usize; 2];
    let mut flush = |batch: &mut Batch, consoles: &[Console]| {
        let steps = store
            .in_tx(|tx| {
                let mut out = Vec::with_capacity(batch.len());
                for (c, pm, at) in batch.iter() {
                    let c = &consoles[*c];
                    out.push(engine::push_one(tx, &rules, &c.who, c.id, pm, *at)?);
                }
                Ok(out)
            })
            .expect("seed batch");
        for s in steps {
            match s {
                Step::Done(r) if r.status == Verdict::Applied => totals[0] += 1,
                Step::Done(_) => totals[1] += 1,
                Step::Gap { expected } => panic!("gap: expected {expected}"),
            }
        }
        batch.clear();
    };
    for i in 0..n {
        let t0 = spread(first, span, i, n);
        while heap.peek().is_some_and(|d| d.0.at <= t0) {
            let Reverse(d) = heap.pop().unwrap_or_else(|| unreachable!());
            take(d.who, d.m, d.at, &mut batch, &mut consoles);
            if batch.len() >= BATCH {
                flush(&mut batch, &consoles);
            }
        }
        let s = g.next_request();
        let channel = [
            Channel::Telegram,
            Channel::Vk,
            Channel::Vk,
            Channel::Pos,
            Channel::Phone,
        ][g.below(5) as usize];
        let who = g.below(OPERATORS.len() as u64) as usize;
        let rid = Uuid::now_v7();
        let has_dep = s.department.is_some();
        let new = NewRequest {
            external_id: (channel != Channel::Phone).then(|| format!("seed-{i}")),
            // Drawn in this order: chat, message, then priority.
            channel_ref: if matches!(channel, Channel::Telegram | Channel::Vk) {
                ChannelRef {
                    chat: Some(format!("{}", 100_000 + g.below(900_000))),
                    message: Some(format!("{}", g.below(100_000))),
                }
            } else {
                ChannelRef::default()
            },
            priority: if g.chance(0.05) {
                Priority::High
            } else {
                Priority::Normal
            },
            ..new_request(s, channel, t0)
        };
        let create = Mutation::new(rid, OPERATORS[who], t0, Op::Create(Box::new(new)));
        take(who, create, t0, &mut batch, &mut consoles);
        for (at, op) in life(&mut g, t0, has_dep) {
            if at > history_end() {
                break;
            }
            order += 1;
            heap.push(Reverse(Due {
                at,
                order,
                who,
                m: Mutation::new(rid, OPERATORS[who], at, op),
            }));
        }
        if batch.len() >= BATCH {
            flush(&mut batch, &consoles);
        }
        if i % 50_000 == 0 && i > 0 {
            eprintln!(
                "  seeded {i} requests in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    while let Some(Reverse(d)) = heap.pop() {
        take(d.who, d.m, d.at, &mut batch, &mut consoles);
        if batch.len() >= BATCH {
            flush(&mut batch, &consoles);
        }
    }
    flush(&mut batch, &consoles);
    drop(store);
    let conn = rusqlite::Connection::open(path).expect("reopen");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .expect("checkpoint");
    eprintln!(
        "seeded {n} requests ({} mutations applied, {} rejected) in {:.1} s",
        totals[0],
        totals[1],
        started.elapsed().as_secs_f64()
    );
}
