//! What Open311's reads need from both server stores (`ServerTx::channel_requests`,
//! `request_by_number`, `rows_of`), run by `contract::all` on SQLite and PostgreSQL alike.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Harness, SCOPE};
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::{Catalog, Channel, ClockPolicy, Request};
use crate::server::engine::{self, Principal, Role, Rules, Transactional};
use crate::wire::sync::Entity;

fn portal() -> Principal {
    Principal {
        user: "portal".into(),
        role: Role::Integration,
        departments: None,
    }
}

fn apply<S: Transactional>(store: &S, scope: &str, m: &Mutation) {
    let (catalog, policy) = (Catalog::krasnodar(), ClockPolicy::default());
    let rules = Rules {
        catalog: &catalog,
        policy: &policy,
        assign: Default::default(),
    };
    let applied = store
        .in_tx(|tx| engine::apply_direct(tx, &rules, &portal(), scope, m, Utc::now()))
        .expect("store");
    assert_eq!(applied, Ok(()), "{m:?}");
}

fn create<S: Transactional>(
    h: &Harness<S>,
    scope: &str,
    channel: Channel,
    at: DateTime<Utc>,
) -> Uuid {
    let id = Uuid::now_v7();
    let mut new = NewRequest::new(channel, format!("at {at}"), at);
    new.external_id = Some(format!("portal:{id}"));
    apply(
        &h.store,
        scope,
        &Mutation::new(id, "portal", at, Op::Create(Box::new(new))),
    );
    id
}

pub fn open311_reads<S: Transactional>(h: &Harness<S>) {
    // Whole and fractional seconds side by side: text order would put …:20.5Z before …:20Z.
    let t = DateTime::parse_from_rfc3339("2026-11-20T10:00:20Z")
        .unwrap()
        .with_timezone(&Utc);
    let whole = create(h, SCOPE, Channel::Open311, t);
    let half = create(h, SCOPE, Channel::Open311, t + Duration::milliseconds(500));
    create(h, SCOPE, Channel::Open311, t - Duration::days(1));
    create(h, SCOPE, Channel::Phone, t);
    create(h, "elsewhere", Channel::Open311, t);
    // Under the channel's name but without an external id (an import): not a portal's.
    let mut imported = NewRequest::new(Channel::Open311, "imported", t);
    imported.external_id = None;
    let m = Mutation::new(Uuid::now_v7(), "anna", t, Op::Create(Box::new(imported)));
    apply(&h.store, SCOPE, &m);
    let window = |from: DateTime<Utc>, to: DateTime<Utc>, limit: usize| -> Vec<Uuid> {
        h.store
            .in_snapshot(|tx| tx.channel_requests(SCOPE, "open311", from, to, limit))
            .unwrap()
            .iter()
            .map(|r: &Request| r.id)
            .collect()
    };
    let second = Duration::seconds(1);
    assert_eq!(window(t, t + second, 10), [half, whole], "newest first");
    assert_eq!(
        window(t + Duration::milliseconds(1), t + second, 10),
        [half]
    );
    assert_eq!(
        window(t - second, t, 10),
        Vec::<Uuid>::new(),
        "the end is open"
    );
    assert_eq!(window(t, t + second, 1), [half]);
    assert_eq!(window(t - Duration::days(2), t + second, 10).len(), 3);

    let number = h
        .store
        .in_snapshot(|tx| tx.load_request(whole))
        .unwrap()
        .unwrap()
        .request
        .number
        .to_string();
    let found = |scope: &str| {
        h.store
            .in_snapshot(|tx| tx.request_by_number(scope, &number))
            .unwrap()
            .map(|r| r.id)
    };
    assert_eq!(found(SCOPE), Some(whole));
    assert_eq!(found("nowhere"), None);

    let reply = Mutation::new(
        whole,
        "anna",
        t,
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: "Заделаем до пятницы".into(),
        },
    );
    apply(&h.store, SCOPE, &reply);
    let messages = h
        .store
        .in_snapshot(|tx| tx.rows_of(Entity::Message, whole))
        .unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["body"], "Заделаем до пятницы");
    assert!(
        h.store
            .in_snapshot(|tx| tx.rows_of(Entity::Message, half))
            .unwrap()
            .is_empty()
    );
}
