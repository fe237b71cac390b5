//! The gateway's lease on the server, as both stores keep it (docs/sync-protocol.md, scenario 21 at
//! the server): a holder paused past its lease is fenced out of every write, parts it left
//! mid-send become `unknown` and are never sent again, and the cursor only moves forward.

use chrono::{DateTime, Duration, Utc};
use std::time::Duration as StdDuration;
use uuid::Uuid;

use super::{Client, Harness, SCOPE, now, operator};
use crate::domain::mutation::{NewRequest, Op};
use crate::domain::{Catalog, Channel, ClockPolicy};
use crate::server::engine::{self, Principal, Role, Rules, ServerError, Transactional};
use crate::server::fence;
use crate::wire::fence::{Claim, Fence, PartState};
use crate::wire::sync::{Entity, PatchOp, PushMutation, PushResponse, Verdict};

const LEASE: &str = "gateway:telegram:bot";
const TTL: StdDuration = StdDuration::from_secs(10);

fn gateway() -> Principal {
    Principal {
        user: "telegram".into(),
        role: Role::Gateway,
        departments: None,
    }
}

pub(super) fn push_fenced<S: Transactional>(
    h: &Harness<S>,
    c: &Client,
    ms: Vec<PushMutation>,
    fence: Option<Fence>,
    at: DateTime<Utc>,
) -> Result<PushResponse, ServerError> {
    let (catalog, policy) = (Catalog::krasnodar(), ClockPolicy::default());
    let rules = Rules {
        catalog: &catalog,
        policy: &policy,
        assign: Default::default(),
    };
    let mut req = c.push_req(ms);
    req.fence = fence;
    engine::push(&h.store, &rules, &c.who, &req, at)
}

pub(super) fn acquire<S: Transactional>(
    h: &Harness<S>,
    holder: &str,
    at: DateTime<Utc>,
) -> Result<i64, String> {
    acquire_on(h, holder, at, false)
}

/// The lease for a channel that recognises repeated sends (`idempotent`) or not.
fn acquire_on<S: Transactional>(
    h: &Harness<S>,
    holder: &str,
    at: DateTime<Utc>,
    idempotent: bool,
) -> Result<i64, String> {
    h.store
        .in_tx(|tx| fence::acquire(tx, SCOPE, LEASE, holder, at, TTL, idempotent))
        .expect("acquire")
}

pub(super) fn lease(epoch: i64) -> Fence {
    Fence {
        lease: LEASE.into(),
        epoch,
    }
}

/// A citizen's request as the gateway journals it.
fn citizen_request(
    gw: &mut Client,
    channel: Channel,
    external: &str,
    at: DateTime<Utc>,
) -> (Uuid, PushMutation) {
    let rid = Uuid::now_v7();
    let new = NewRequest {
        external_id: Some(external.into()),
        channel_ref: crate::domain::request::ChannelRef {
            chat: Some(external.into()),
            message: None,
        },
        ..NewRequest::new(channel, "Нет воды", at)
    };
    (rid, gw.journal(rid, Op::Create(Box::new(new)), None))
}

fn delivery<S: Transactional>(h: &Harness<S>, c: &Client, message: Uuid) -> Option<String> {
    let page = h.pull(c, None, None);
    page.patch.into_iter().find_map(|p| match p {
        PatchOp::Put {
            entity: Entity::Message,
            id,
            value,
        } if id == message.to_string() => value.value()["delivery"].as_str().map(str::to_string),
        _ => None,
    })
}

pub fn leases_fence_the_old_holder<S: Transactional>(h: &Harness<S>) {
    let t0 = now();
    let e1 = acquire(h, "server-a", t0).expect("a free lease is taken");
    assert_eq!(acquire(h, "server-b", t0), Err("server-a".into()));
    let fa = lease(e1);

    // The gateway records a citizen's request only under its lease.
    let mut gw = Client::new(gateway());
    let (rid, create) = citizen_request(&mut gw, Channel::Telegram, "42:1", t0);
    assert!(matches!(
        push_fenced(h, &gw, vec![create.clone()], None, t0),
        Err(ServerError::Fenced(_))
    ));
    let r = push_fenced(h, &gw, vec![create], Some(fa.clone()), t0).expect("fenced push");
    assert_eq!(r.results[0].status, Verdict::Applied, "{r:?}");

    // A console can't pose as the channel, lease or not.
    let mut anna = Client::new(operator("anna"));
    let forged = anna.journal(
        rid,
        Op::CitizenMessage {
            message_id: Uuid::now_v7(),
            body: "подделка".into(),
            at: t0,
            attachments: vec![],
            location: None,
            from: None,
        },
        None,
    );
    let r = push_fenced(h, &anna, vec![forged], Some(fa.clone()), t0).unwrap();
    assert_eq!(r.results[0].code.as_deref(), Some("forbidden"));

    // The cursor only moves forward.
    let save = |f: &Fence, v: &str, at| h.store.in_tx(|tx| fence::save_cursor(tx, f, v, at));
    save(&fa, "100", t0).unwrap();
    save(&fa, "90", t0).unwrap();
    let cursor = || h.store.in_snapshot(|tx| fence::cursor(tx, LEASE)).unwrap();
    assert_eq!(cursor().as_deref(), Some("100"));

    // An operator answers; server A claims the part and freezes mid-send.
    let claim = anna.journal(rid, Op::Claim, None);
    let reply_id = Uuid::now_v7();
    let reply = anna.journal(
        rid,
        Op::Reply {
            message_id: reply_id,
            body: "Бригада выехала".into(),
        },
        None,
    );
    let r = push_fenced(h, &anna, vec![claim, reply], None, t0).unwrap();
    assert!(
        r.results.iter().all(|x| x.status == Verdict::Applied),
        "{r:?}"
    );
    assert_eq!(delivery(h, &anna, reply_id).as_deref(), Some("queued"));
    let go = h
        .store
        .in_tx(|tx| fence::claim(tx, SCOPE, &fa, reply_id, 0, t0, false))
        .unwrap();
    assert_eq!(go, Claim::Go);

    // Its lease runs out; server B takes over and finds the part in doubt.
    let later = t0 + Duration::seconds(11);
    let e2 = acquire(h, "server-b", later).expect("an expired lease is taken");
    assert!(e2 > e1);
    let fb = Fence {
        lease: LEASE.into(),
        epoch: e2,
    };
    assert_eq!(delivery(h, &anna, reply_id).as_deref(), Some("unknown"));
    let again = h
        .store
        .in_tx(|tx| fence::claim(tx, SCOPE, &fb, reply_id, 0, later, false))
        .unwrap();
    assert_eq!(
        again,
        Claim::Settled(PartState::Unknown),
        "never sent twice"
    );

    // Server A wakes up: every write it tries is refused.
    let finish_a = h.store.in_tx(|tx| {
        fence::finish(
            tx,
            &fa,
            reply_id,
            0,
            1,
            PartState::Sent,
            Some("m-1"),
            true,
            later,
        )
    });
    assert!(matches!(finish_a, Err(ServerError::Fenced(_))));
    assert!(matches!(
        save(&fa, "150", later),
        Err(ServerError::Fenced(_))
    ));
    let renewed = h
        .store
        .in_tx(|tx| fence::renew(tx, &fa, later, TTL))
        .unwrap();
    assert!(!renewed);
    let note = gw.journal(
        rid,
        Op::CitizenMessage {
            message_id: Uuid::now_v7(),
            body: "Ещё вопрос".into(),
            at: later,
            attachments: vec![],
            location: None,
            from: None,
        },
        None,
    );
    assert!(matches!(
        push_fenced(h, &gw, vec![note.clone()], Some(fa.clone()), later),
        Err(ServerError::Fenced(_))
    ));
    assert_eq!(cursor().as_deref(), Some("100"));
    assert_eq!(delivery(h, &anna, reply_id).as_deref(), Some("unknown"));

    // Server B sends the next reply once; the consoles see it delivered.
    let second = Uuid::now_v7();
    let reply = anna.journal(
        rid,
        Op::Reply {
            message_id: second,
            body: "Воду дали".into(),
        },
        None,
    );
    push_fenced(h, &anna, vec![reply], None, later).unwrap();
    let tx_claim = |f: &Fence, id, at| {
        h.store
            .in_tx(|tx| fence::claim(tx, SCOPE, f, id, 0, at, false))
    };
    assert_eq!(tx_claim(&fb, second, later).unwrap(), Claim::Go);
    h.store
        .in_tx(|tx| {
            fence::finish(
                tx,
                &fb,
                second,
                0,
                1,
                PartState::Sent,
                Some("m-2"),
                true,
                later,
            )
        })
        .unwrap();
    assert_eq!(delivery(h, &anna, second).as_deref(), Some("sent"));
    assert_eq!(
        tx_claim(&fb, second, later).unwrap(),
        Claim::Settled(PartState::Sent)
    );
    save(&fb, "120", later).unwrap();
    assert_eq!(cursor().as_deref(), Some("120"));

    // The gateway's own acknowledgement may be sent before the action recording it is pushed:
    // the message arrives already delivered.
    let ack = Uuid::now_v7();
    assert_eq!(tx_claim(&fb, ack, later).unwrap(), Claim::Go);
    h.store
        .in_tx(|tx| {
            fence::finish(
                tx,
                &fb,
                ack,
                0,
                1,
                PartState::Sent,
                Some("m-3"),
                true,
                later,
            )
        })
        .unwrap();
    let acknowledge = gw.journal(
        rid,
        Op::Acknowledge {
            message_id: ack,
            body: "Заявка принята".into(),
        },
        None,
    );
    // What the fenced holder could not push goes with the new holder's next push.
    let r = push_fenced(h, &gw, vec![note, acknowledge], Some(fb.clone()), later).unwrap();
    assert!(
        r.results.iter().all(|x| x.status == Verdict::Applied),
        "{r:?}"
    );
    assert_eq!(delivery(h, &anna, ack).as_deref(), Some("sent"));

    // A clean stop hands the lease over at once.
    h.store.in_tx(|tx| fence::release(tx, &fb)).unwrap();
    assert!(acquire(h, "server-a", later).is_ok());
}

/// On a channel that recognises a repeated send (VK's `random_id`), a part the old holder left
/// mid-send is not given up as `unknown`: the new holder sends it again, and it ends `sent`.
pub fn idempotent_channels_send_a_part_in_doubt_again<S: Transactional>(h: &Harness<S>) {
    let t0 = now();
    let fa = lease(acquire_on(h, "server-a", t0, true).expect("a free lease is taken"));
    let mut gw = Client::new(gateway());
    let (rid, create) = citizen_request(&mut gw, Channel::Vk, "vk:msg:7:1", t0);
    push_fenced(h, &gw, vec![create], Some(fa.clone()), t0).expect("fenced push");
    let mut anna = Client::new(operator("anna"));
    let reply_id = Uuid::now_v7();
    let reply = anna.journal(
        rid,
        Op::Reply {
            message_id: reply_id,
            body: "Засыплют до вечера".into(),
        },
        None,
    );
    push_fenced(h, &anna, vec![reply], None, t0).unwrap();
    let claim = |f: &Fence, at| {
        h.store
            .in_tx(|tx| fence::claim(tx, SCOPE, f, reply_id, 0, at, true))
            .unwrap()
    };
    assert_eq!(claim(&fa, t0), Claim::Go);

    // A stops mid-send; B takes the lease: the part is still in doubt, not `unknown`.
    let later = t0 + Duration::seconds(11);
    let fb = lease(acquire_on(h, "server-b", later, true).expect("an expired lease is taken"));
    assert_eq!(delivery(h, &anna, reply_id).as_deref(), Some("queued"));
    assert_eq!(claim(&fb, later), Claim::Go, "sent again under the same id");
    h.store
        .in_tx(|tx| {
            fence::finish(
                tx,
                &fb,
                reply_id,
                0,
                1,
                PartState::Sent,
                Some("vk-1"),
                true,
                later,
            )
        })
        .unwrap();
    assert_eq!(delivery(h, &anna, reply_id).as_deref(), Some("sent"));
    // A, woken, can't claim or finish it.
    assert!(matches!(
        h.store
            .in_tx(|tx| fence::claim(tx, SCOPE, &fa, reply_id, 0, later, true)),
        Err(ServerError::Fenced(_))
    ));
    assert_eq!(claim(&fb, later), Claim::Settled(PartState::Sent));
}
