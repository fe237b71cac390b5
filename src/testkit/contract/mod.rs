//! The behaviour both server stores must show, as functions each backend's tests call with a
//! fresh store (docs/sync-protocol.md, scenarios 3, 6, 8–12 at the server). In the test rig
//! so the PostgreSQL tests in `tests/` run the very same checks.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::{Catalog, Channel, ClockPolicy};
use crate::server::engine::{self, Principal, Role, Rules, ServerError, Transactional};
use crate::wire::sync::{
    Cookie, Entity, PatchOp, PullRequest, PullResponse, PushMutation, PushRequest, PushResponse,
    SCHEMA_VERSION, Verdict,
};

mod assign;
mod concurrent;
mod department;
pub mod fence;
mod model_actor;
pub mod open311;
mod team;
mod views;
pub use concurrent::{concurrent_claims_and_duplicate_pushes, pulls_beside_pushes_are_answered};

pub const SCOPE: &str = "krasnodar";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()
}

pub fn operator(name: &str) -> Principal {
    Principal {
        user: name.into(),
        role: Role::Operator,
        departments: None,
    }
}

pub fn lead(name: &str) -> Principal {
    Principal {
        user: name.into(),
        role: Role::Lead,
        departments: None,
    }
}

/// A console: its id and the next journal id, like a database file's `meta`.
pub struct Client {
    pub id: Uuid,
    pub next: i64,
    pub who: Principal,
}

impl Client {
    pub fn new(who: Principal) -> Client {
        Client {
            id: Uuid::now_v7(),
            next: 1,
            who,
        }
    }

    pub fn journal(&mut self, request_id: Uuid, op: Op, base_seq: Option<i64>) -> PushMutation {
        self.journal_at(request_id, op, base_seq, now())
    }

    /// As `journal`, written with the console's own (possibly wrong) clock.
    pub fn journal_at(
        &mut self,
        request_id: Uuid,
        op: Op,
        base_seq: Option<i64>,
        at: DateTime<Utc>,
    ) -> PushMutation {
        let id = self.next;
        self.next += 1;
        PushMutation {
            id,
            base_seq,
            mutation: Mutation::new(request_id, &self.who.user, at, op),
        }
    }

    pub fn push_req(&self, mutations: Vec<PushMutation>) -> PushRequest {
        PushRequest {
            client_id: self.id,
            schema_version: SCHEMA_VERSION,
            scope_id: SCOPE.into(),
            mutations,
            fence: None,
        }
    }

    pub fn pull_req(&self, cookie: Option<Cookie>, limit: Option<usize>) -> PullRequest {
        PullRequest {
            client_id: self.id,
            schema_version: SCHEMA_VERSION,
            scope_id: SCOPE.into(),
            cookie,
            limit,
        }
    }
}

pub struct Harness<S> {
    pub store: S,
    catalog: Catalog,
    policy: ClockPolicy,
}

impl<S: Transactional> Harness<S> {
    pub fn new(store: S) -> Harness<S> {
        Harness {
            store,
            catalog: Catalog::krasnodar(),
            policy: ClockPolicy::default(),
        }
    }

    pub fn push(&self, c: &Client, ms: Vec<PushMutation>) -> PushResponse {
        self.try_push(c, ms).expect("push")
    }

    pub fn try_push(&self, c: &Client, ms: Vec<PushMutation>) -> Result<PushResponse, ServerError> {
        let rules = Rules {
            catalog: &self.catalog,
            policy: &self.policy,
            assign: Default::default(),
        };
        engine::push(&self.store, &rules, &c.who, &c.push_req(ms), now())
    }

    pub fn pull(&self, c: &Client, cookie: Option<Cookie>, limit: Option<usize>) -> PullResponse {
        engine::pull_page(&self.store, &c.who, &c.pull_req(cookie, limit)).expect("pull")
    }

    /// Every page until `more` is false; the requests' documents by id at the end.
    pub fn pull_all(&self, c: &Client) -> std::collections::BTreeMap<String, Value> {
        let mut cookie = None;
        let mut docs = std::collections::BTreeMap::new();
        loop {
            let page = self.pull(c, cookie, Some(7));
            for op in page.patch {
                if let PatchOp::Put {
                    entity: Entity::Request,
                    id,
                    value,
                } = op
                {
                    docs.insert(id, value.value());
                }
            }
            cookie = Some(page.cookie);
            if !page.more {
                return docs;
            }
        }
    }

    /// Registers a request by `c` and returns its id.
    pub fn create(&self, c: &mut Client, text: &str) -> Uuid {
        let id = Uuid::now_v7();
        let op = Op::Create(Box::new(NewRequest::new(Channel::Phone, text, now())));
        let m = c.journal(id, op, None);
        let r = self.push(c, vec![m]);
        assert_eq!(r.results[0].status, Verdict::Applied, "{r:?}");
        id
    }

    pub fn request(&self, c: &Client, id: Uuid) -> Value {
        self.pull_all(c)
            .remove(&id.to_string())
            .unwrap_or_else(|| panic!("request {id} pulled"))
    }
}

/// The ids of every note a pull from nothing brings, repeats included.
pub fn note_ids<S: Transactional>(h: &Harness<S>, c: &Client) -> Vec<String> {
    h.pull(c, None, None)
        .patch
        .into_iter()
        .filter_map(|p| match p {
            PatchOp::Put {
                entity: Entity::Note,
                id,
                ..
            } => Some(id),
            _ => None,
        })
        .collect()
}

pub fn version(doc: &Value) -> i64 {
    doc["version"].as_i64().expect("version")
}

/// The server numbers requests and names the actor; the console's claims about both are
/// ignored. A pull from nothing is a reset carrying everything.
pub fn create_claim_and_pull<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Прорвало трубу");
    let mut m = anna.journal(id, Op::Claim, None);
    m.mutation.actor = "boris".into();
    let r = h.push(&anna, vec![m]);
    assert_eq!(r.last_mutation_id, 2);
    let page = h.pull(&anna, None, None);
    assert!(page.reset && !page.more);
    assert_eq!(page.last_mutation_id, 2);
    let doc = h.request(&anna, id);
    assert_eq!(doc["request"]["assignee"], "anna");
    assert_eq!(doc["request"]["status"], "in_work");
    assert_eq!(doc["request"]["number"], "2026-000001");
    // Messages, notes and audit events travel as their own entities.
    assert!(page.patch.iter().any(|p| matches!(
        p,
        PatchOp::Put {
            entity: Entity::Event,
            ..
        }
    )));
    // Up to date: nothing more, no reset.
    let again = h.pull(&anna, Some(page.cookie), None);
    assert!(!again.reset && again.patch.is_empty() && again.cookie == page.cookie);
}

/// Scenario 3: the same push body replayed has its effect once and the same answers.
pub fn duplicate_push_applies_once<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Яма");
    let batch: Vec<PushMutation> = (0..5)
        .map(|i| {
            anna.journal(
                id,
                Op::AddNote {
                    note_id: Uuid::now_v7(),
                    body: format!("заметка {i}"),
                },
                None,
            )
        })
        .collect();
    let first = h.push(&anna, batch.clone());
    for _ in 0..9 {
        let again = h.push(&anna, batch.clone());
        assert_eq!(again.results, first.results);
        assert_eq!(again.last_mutation_id, 6);
    }
    let notes = note_ids(h, &anna).len();
    assert_eq!(notes, 5);
}

/// Scenario 6: a mutation that can never apply is rejected with a code, and the queue
/// behind it goes through.
pub fn poison_is_rejected_and_the_queue_moves_on<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Мусор");
    let mut batch = vec![anna.journal(Uuid::now_v7(), Op::Claim, None)];
    for i in 0..100 {
        batch.push(anna.journal(
            id,
            Op::Tag {
                tag: format!("t{i}"),
            },
            None,
        ));
    }
    let r = h.push(&anna, batch);
    assert_eq!(r.results[0].status, Verdict::Rejected);
    assert_eq!(r.results[0].code.as_deref(), Some("not_found"));
    assert!(r.results[1..].iter().all(|x| x.status == Verdict::Applied));
    assert_eq!(r.last_mutation_id, 102);
    let doc = h.request(&anna, id);
    assert_eq!(doc["request"]["tags"].as_array().map(Vec::len), Some(100));
}

/// What a client sends is held to the console's bounds (`domain::fields`): NUL is dropped (a
/// PostgreSQL store took every push with one for a storage failure, and the console's queue
/// waited behind it for good), and a far-off receipt time, coordinates off the globe or a
/// 100 KB tag are refused while the queue moves on (#16 items 1, 2, 4).
pub fn poison_fields_are_cleaned_or_refused<S: Transactional>(h: &Harness<S>) {
    use crate::domain::request::Location;
    let mut anna = Client::new(operator("anna"));
    let nul = Uuid::now_v7();
    let mut new = NewRequest::new(Channel::Phone, "a\u{0}b", now());
    new.citizen = Some("Ив\u{0}ан".into());
    let year_9999 = Uuid::now_v7();
    let far = NewRequest::new(
        Channel::Phone,
        "x",
        "9999-12-31T23:59:59Z".parse().expect("a time"),
    );
    let off_globe = Uuid::now_v7();
    let mut lost = NewRequest::new(Channel::Phone, "x", now());
    lost.location = Some(Location {
        lat: Some(999.0),
        lon: Some(39.0),
        address: None,
    });
    let batch = vec![
        anna.journal(nul, Op::Create(Box::new(new)), None),
        anna.journal(year_9999, Op::Create(Box::new(far)), None),
        anna.journal(off_globe, Op::Create(Box::new(lost)), None),
        anna.journal(
            nul,
            Op::Tag {
                tag: "t".repeat(100_000),
            },
            None,
        ),
        anna.journal(
            nul,
            Op::Reply {
                message_id: Uuid::now_v7(),
                body: "Отв\u{0}ет".into(),
            },
            None,
        ),
    ];
    let r = h.push(&anna, batch);
    let codes: Vec<Option<&str>> = r.results.iter().map(|x| x.code.as_deref()).collect();
    assert_eq!(
        codes,
        [
            None,
            Some("out_of_range"),
            Some("out_of_range"),
            Some("too_long"),
            None
        ],
        "{r:?}"
    );
    assert_eq!(r.last_mutation_id, 5);
    let doc = h.request(&anna, nul);
    assert_eq!(doc["request"]["text"], "ab");
    assert_eq!(doc["request"]["citizen"], "Иван");
    assert!(
        h.pull_all(&anna).len() == 1,
        "the refused ones were never stored"
    );
}

/// #16 item 1: a request document no program can read (numbered `10000-…`, stored before
/// receipt times were bounded) is moved out by `engine::repair`, kept aside with why; the rest
/// is untouched and the log's invariants hold (the checker runs after this check).
pub fn repair_moves_unreadable_requests_aside<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let good = h.create(&mut anna, "Нет света");
    let doc = h.request(&anna, good);
    let mut poison: crate::domain::Request =
        serde_json::from_value(doc["request"].clone()).expect("a request");
    poison.id = Uuid::now_v7();
    poison.external_id = None;
    poison.number = crate::domain::RequestNumber {
        year: 10000,
        seq: 7,
    };
    h.store
        .in_tx(|tx| {
            let version = tx.bump_seq(SCOPE, 1)?;
            tx.save_request(
                SCOPE,
                &crate::wire::sync::RequestDoc {
                    request: poison.clone(),
                    version,
                    department_seq: 0,
                    assignee_seq: 0,
                },
            )?;
            tx.log_change(SCOPE, version, Entity::Request, &poison.id.to_string())
        })
        .expect("stored");
    let moved = engine::repair(&h.store).expect("repair");
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0].id, poison.id.to_string());
    let all = h.pull_all(&anna);
    assert!(all.contains_key(&good.to_string()));
    assert!(!all.contains_key(&poison.id.to_string()));
    let kept = h
        .store
        .in_snapshot(|tx| tx.gw_get(&format!("quarantine:{SCOPE}"), &poison.id.to_string()))
        .expect("read");
    assert!(kept.is_some_and(|k| k["doc"].as_str().is_some_and(|d| d.contains("10000"))));
    // Nothing more to move.
    assert!(engine::repair(&h.store).expect("repair").is_empty());
}

/// Gaps are refused, a stranger's client id is refused, and a client the server does not
/// know that starts past 1 is told so.
pub fn gaps_strangers_and_unknown_clients<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Фонарь");
    let a = anna.journal(id, Op::Tag { tag: "a".into() }, None);
    let _lost = anna.journal(id, Op::Tag { tag: "b".into() }, None);
    let c = anna.journal(id, Op::Tag { tag: "c".into() }, None);
    let r = h.push(&anna, vec![a, c]);
    assert_eq!(r.results.len(), 1);
    assert_eq!(r.gap_expected, Some(3));
    assert_eq!(r.last_mutation_id, 2);
    let boris = Client {
        id: anna.id,
        next: 1,
        who: operator("boris"),
    };
    assert!(matches!(
        h.try_push(&boris, vec![]),
        Err(ServerError::Forbidden(_))
    ));
    let mut stranger = Client::new(operator("vera"));
    stranger.next = 40;
    let m = stranger.journal(id, Op::Tag { tag: "x".into() }, None);
    assert!(matches!(
        h.try_push(&stranger, vec![m]),
        Err(ServerError::ClientUnknown)
    ));
}

/// Scenario 9 (sequential part): one claim wins, the others hear who has it.
pub fn one_claim_wins<S: Transactional>(h: &Harness<S>) {
    let mut lead_c = Client::new(lead("lena"));
    let id = h.create(&mut lead_c, "Нет воды");
    let mut winners = vec![];
    for i in 0..10 {
        let mut c = Client::new(operator(&format!("op{i}")));
        let m = c.journal(id, Op::Claim, None);
        let r = h.push(&c, vec![m]);
        match r.results[0].status {
            Verdict::Applied => winners.push(i),
            Verdict::Rejected => {
                assert_eq!(r.results[0].code.as_deref(), Some("already_claimed"));
                let current = r.results[0].current.as_ref().expect("current value");
                assert_eq!(current["assignee"], "op0");
                // And who took it, when (issue #15 item 6).
                assert_eq!(r.results[0].changed_by.as_deref(), Some("op0"));
                assert_eq!(r.results[0].changed_at, Some(now()));
            }
        }
    }
    assert_eq!(winners, [0]);
}

/// Scenario 10: two consoles re-route the same request from the same version; the second
/// is refused with the current value, not silently applied.
pub fn department_is_compare_and_set<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let mut boris = Client::new(operator("boris"));
    let id = h.create(&mut anna, "Дорога");
    let base = version(&h.request(&anna, id));
    let a = anna.journal(
        id,
        Op::SetDepartment {
            department: Some("transport_roads".into()),
        },
        Some(base),
    );
    let b = boris.journal(
        id,
        Op::SetDepartment {
            department: Some("city_economy".into()),
        },
        Some(base),
    );
    assert_eq!(h.push(&anna, vec![a]).results[0].status, Verdict::Applied);
    // A later change of something else by someone else.
    let mut vera = Client::new(operator("vera"));
    let tag = vera.journal(
        id,
        Op::Tag {
            tag: "яма".into()
        },
        None,
    );
    assert_eq!(h.push(&vera, vec![tag]).results[0].status, Verdict::Applied);
    let r = h.push(&boris, vec![b]);
    assert_eq!(r.results[0].code.as_deref(), Some("stale_base"));
    assert_eq!(
        r.results[0].current.as_ref().unwrap()["department"],
        "transport_roads"
    );
    // Who made the department what it is, not who last touched the request.
    assert_eq!(r.results[0].changed_by.as_deref(), Some("anna"));
    assert_eq!(r.results[0].changed_at, Some(now()));
    // Topic, by contrast, is last-writer-wins in server order; a department seen fresh
    // goes through.
    let fresh = version(&h.request(&boris, id));
    let b2 = boris.journal(
        id,
        Op::SetDepartment {
            department: Some("city_economy".into()),
        },
        Some(fresh),
    );
    assert_eq!(h.push(&boris, vec![b2]).results[0].status, Verdict::Applied);
    // An operator cannot assign; a lead with a stale view cannot either.
    let mut lena = Client::new(lead("lena"));
    let op = Op::Assign {
        assignee: Some("boris".into()),
    };
    let m = anna.journal(id, op.clone(), None);
    let r = h.push(&anna, vec![m]);
    assert_eq!(r.results[0].code.as_deref(), Some("forbidden"));
    let claim = anna.journal(id, Op::Claim, None);
    h.push(&anna, vec![claim]);
    let m = lena.journal(id, op, Some(fresh));
    let r = h.push(&lena, vec![m]);
    assert_eq!(r.results[0].code.as_deref(), Some("stale_base"));
    assert_eq!(r.results[0].changed_by.as_deref(), Some("anna"));
}

/// Scenario 11: consoles' clocks far off change nothing that is decided.
pub fn client_clocks_decide_nothing<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Часы");
    let skews = [
        Duration::days(2),
        -Duration::days(365),
        -Duration::minutes(10),
    ];
    for (i, skew) in skews.into_iter().enumerate() {
        let m = anna.journal_at(
            id,
            Op::Tag {
                tag: format!("t{i}"),
            },
            None,
            now() + skew,
        );
        assert_eq!(h.push(&anna, vec![m]).results[0].status, Verdict::Applied);
    }
    let doc = h.request(&anna, id);
    // The request's clocks come from the server's time, whatever the consoles said.
    assert_eq!(doc["request"]["updated_at"], serde_json::json!(now()));
}

/// Scenario 12 at the server: a restored console takes a new id and pushes its journal
/// again; what was applied before is not applied twice.
pub fn a_restored_console_repushes_without_duplicates<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Резервная копия");
    let notes: Vec<PushMutation> = (0..3)
        .map(|i| {
            anna.journal(
                id,
                Op::AddNote {
                    note_id: Uuid::now_v7(),
                    body: format!("n{i}"),
                },
                None,
            )
        })
        .collect();
    h.push(&anna, notes.clone());
    let mut rotated = Client::new(operator("anna"));
    let mut again: Vec<PushMutation> = notes;
    again.push(anna.journal(
        id,
        Op::AddNote {
            note_id: Uuid::now_v7(),
            body: "n3".into(),
        },
        None,
    ));
    for (i, m) in again.iter_mut().enumerate() {
        m.id = i as i64 + 1;
    }
    rotated.next = 5;
    let r = h.push(&rotated, again);
    assert_eq!(r.last_mutation_id, 4);
    assert!(r.results.iter().all(|x| x.status == Verdict::Applied));
    let notes = note_ids(h, &rotated).len();
    assert_eq!(notes, 4);
}

/// Scenario 12's danger: a console file restored from a copy reuses journal ids for new
/// actions. The server must not answer "already applied" for them.
pub fn reused_ids_with_new_actions_are_not_swallowed<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Копия");
    let tag = |c: &mut Client, t: &str| c.journal(id, Op::Tag { tag: t.into() }, None);
    let a = tag(&mut anna, "a");
    let b = tag(&mut anna, "b");
    h.push(&anna, vec![a, b]);
    // The restored file knows only up to id 1 and writes new actions as 2 and 3.
    anna.next = 2;
    let c = tag(&mut anna, "c");
    let d = tag(&mut anna, "d");
    assert!(matches!(
        h.try_push(&anna, vec![c.clone(), d.clone()]),
        Err(ServerError::ClientUnknown)
    ));
    // Under a new client id, numbered from 1, everything lands once.
    let mut fresh = Client::new(operator("anna"));
    let mut again = vec![c, d];
    for m in &mut again {
        m.id = fresh.next;
        fresh.next += 1;
    }
    let r = h.push(&fresh, again);
    assert!(r.results.iter().all(|x| x.status == Verdict::Applied));
    let doc = h.request(&fresh, id);
    assert_eq!(
        doc["request"]["tags"],
        serde_json::json!(["a", "b", "c", "d"])
    );
}

/// Scenario 8 at the pull: page boundaries at exact multiples of the page size lose and
/// repeat nothing, and never cut an action in two.
pub fn pull_pages_at_exact_multiples<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Страницы");
    let head = h.pull(&anna, None, None).cookie;
    for n in [0usize, 1, 4, 5, 6, 9, 10, 11, 15] {
        let from = h.pull(&anna, Some(head), None).cookie;
        for i in 0..n {
            let m = anna.journal(
                id,
                Op::AddNote {
                    note_id: Uuid::now_v7(),
                    body: format!("{n}:{i}"),
                },
                None,
            );
            h.push(&anna, vec![m]);
        }
        // One change a page is the sharpest cut: a page may never end inside an action.
        for limit in [5, 1] {
            let mut cookie = from;
            let mut got = vec![];
            let mut pages = 0;
            loop {
                let page = h.pull(&anna, Some(cookie), Some(limit));
                pages += 1;
                for p in &page.patch {
                    if let PatchOp::Put {
                        entity: Entity::Note,
                        id,
                        ..
                    } = p
                    {
                        got.push(id.clone());
                    }
                }
                // Pages hold whole actions, and each action's entries start with its request.
                let notes = page.patch.iter().any(|p| {
                    matches!(
                        p,
                        PatchOp::Put {
                            entity: Entity::Note,
                            ..
                        }
                    )
                });
                let request = page.patch.iter().any(|p| {
                    matches!(
                        p,
                        PatchOp::Put {
                            entity: Entity::Request,
                            ..
                        }
                    )
                });
                assert!(!notes || request, "a page cut inside an action at n={n}");
                assert!(page.cookie.seq >= cookie.seq);
                cookie = page.cookie;
                if !page.more {
                    break;
                }
                assert!(pages < 100, "{pages} pages");
            }
            let distinct: std::collections::BTreeSet<&String> = got.iter().collect();
            assert_eq!(distinct.len(), n, "{n} notes, pulled {got:?}");
            assert_eq!(got.len(), n, "no note twice at n={n}");
        }
    }
}

/// A viewer's account reads everything and changes nothing, whatever its console allows.
pub fn viewers_pull_but_cannot_push<S: Transactional>(h: &Harness<S>) {
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Не работает светофор");
    let mut wall = Client::new(Principal {
        user: "wall".into(),
        role: Role::Viewer,
        departments: None,
    });
    let claim = wall.journal(id, Op::Claim, None);
    assert!(matches!(
        h.try_push(&wall, vec![claim]),
        Err(ServerError::ReadOnly(_))
    ));
    let seen = h.request(&wall, id);
    assert!(seen["request"]["assignee"].is_null(), "{seen}");
}

/// Every check, in order, on fresh stores from `fresh`.
/// A named contract check.
type Check<S> = (&'static str, fn(&Harness<S>));

pub fn all<S: Transactional + Sync>(fresh: impl Fn() -> S) {
    let checks: [Check<S>; 23] = [
        ("concurrent", concurrent_claims_and_duplicate_pushes::<S>),
        ("pulls beside pushes", pulls_beside_pushes_are_answered::<S>),
        ("create, claim, pull", create_claim_and_pull::<S>),
        ("3 duplicate push", duplicate_push_applies_once::<S>),
        ("6 poison", poison_is_rejected_and_the_queue_moves_on::<S>),
        ("poison fields", poison_fields_are_cleaned_or_refused::<S>),
        ("repair", repair_moves_unreadable_requests_aside::<S>),
        ("gaps", gaps_strangers_and_unknown_clients::<S>),
        ("9 one claim wins", one_claim_wins::<S>),
        ("10 department", department_is_compare_and_set::<S>),
        ("11 clocks", client_clocks_decide_nothing::<S>),
        (
            "12 restored",
            a_restored_console_repushes_without_duplicates::<S>,
        ),
        ("8 paging", pull_pages_at_exact_multiples::<S>),
        (
            "reused ids",
            reused_ids_with_new_actions_are_not_swallowed::<S>,
        ),
        ("viewers", viewers_pull_but_cannot_push::<S>),
        ("21 fencing", fence::leases_fence_the_old_holder::<S>),
        (
            "21 idempotent resend",
            fence::idempotent_channels_send_a_part_in_doubt_again::<S>,
        ),
        ("open311 reads", open311::open311_reads::<S>),
        ("shifts", team::shifts::<S>),
        ("round robin", assign::round_robin::<S>),
        ("shared views", views::shared_views::<S>),
        ("department accounts", department::department_accounts::<S>),
        ("the model's name", model_actor::the_models_name::<S>),
    ];
    for (name, check) in checks {
        let h = Harness::new(fresh());
        check(&h);
        // The server's half of I1–I5 after every scenario (the consoles here are in memory;
        // the scenario tests in tests/scenarios check console files as well).
        if let Err(v) = crate::testkit::checker::check(&h.store, SCOPE, &[]) {
            panic!("after `{name}`: {v}");
        }
        // Compacting the log keeps every invariant, and a pull from nothing still brings
        // every request with everything filed under it.
        engine::compact(&h.store).expect("compaction");
        if let Err(v) = crate::testkit::checker::check(&h.store, SCOPE, &[]) {
            panic!("after `{name}`, compacted: {v}");
        }
    }
}

#[cfg(test)]
mod sqlite {
    use crate::server::sqlite::SqliteStore;

    #[test]
    fn the_sqlite_store_keeps_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let n = std::sync::atomic::AtomicUsize::new(0);
        super::all(|| {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            SqliteStore::open(&dir.path().join(format!("server-{i}.sqlite3"))).unwrap()
        });
    }
}
