//! Round-robin assignment at intake (`server::assign`) kept by both server stores alike, run
//! by `contract::all` on SQLite and PostgreSQL: the next operator on shift in turn, nobody
//! off shift or at their limit, and a closed request freeing a place.

use super::{Client, Harness, SCOPE, lead, now, operator};
use crate::domain::mutation::{NewRequest, Op};
use crate::domain::request::Channel;
use crate::domain::status::CloseReason;
use crate::server::accounts;
use crate::server::assign::{AssignConfig, AssignMode};
use crate::server::engine::{self, Role, Rules, Transactional};
use crate::server::team;
use crate::wire::sync::Verdict;
use crate::wire::team::ShiftChange;
use uuid::Uuid;

pub fn round_robin<S: Transactional>(h: &Harness<S>) {
    for (name, role) in [
        ("anna", Role::Operator),
        ("boris", Role::Operator),
        ("vera", Role::Operator),
        ("lena", Role::Lead),
    ] {
        accounts::add(&h.store, name, role, &[SCOPE.to_string()], &[], now()).unwrap();
    }
    accounts::add(
        &h.store,
        "oleg",
        Role::Operator,
        &["sochi".to_string()],
        &[],
        now(),
    )
    .unwrap();
    let change = ShiftChange {
        scope_id: SCOPE.into(),
        user: "vera".into(),
        on_shift: false,
    };
    team::set_shift(&h.store, &lead("lena"), &change, now()).unwrap();
    let (catalog, policy) = (crate::domain::Catalog::krasnodar(), Default::default());
    let rules = Rules {
        catalog: &catalog,
        policy: &policy,
        assign: AssignConfig {
            mode: AssignMode::RoundRobin,
            max_open: 2,
        },
    };
    let mut lena = Client::new(lead("lena"));
    let push = |c: &mut Client, id: Uuid, op: Op| {
        let m = c.journal(id, op, None);
        let r = engine::push(&h.store, &rules, &c.who, &c.push_req(vec![m]), now()).unwrap();
        assert_eq!(r.results[0].status, Verdict::Applied, "{r:?}");
    };
    let mut ids = vec![];
    for i in 0..5 {
        let id = Uuid::now_v7();
        let new = NewRequest::new(Channel::Phone, format!("Звонок {i}"), now());
        push(&mut lena, id, Op::Create(Box::new(new)));
        ids.push(id);
    }
    let assignee = |id: &Uuid| {
        h.request(&Client::new(operator("anna")), *id)["request"]["assignee"]
            .as_str()
            .map(str::to_string)
    };
    let got: Vec<Option<String>> = ids.iter().map(assignee).collect();
    // vera is off shift, oleg works another city, lena is a lead: anna and boris in turn,
    // and the fifth waits in the queue, both being at their limit of two.
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        got,
        [
            some("anna"),
            some("boris"),
            some("anna"),
            some("boris"),
            None
        ]
    );
    // anna closes one: the next new request is hers again.
    let mut anna = Client::new(operator("anna"));
    let close = Op::Close {
        reason: CloseReason::Resolved,
    };
    push(&mut anna, ids[0], close);
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, "Звонок 6", now());
    push(&mut lena, id, Op::Create(Box::new(new)));
    assert_eq!(assignee(&id), some("anna"));
    let doc = h.request(&anna, id);
    assert_eq!(doc["request"]["status"], "in_work", "{doc}");
}
