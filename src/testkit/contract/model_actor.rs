//! Whose name the audit carries (#17 item 3 in team mode), kept by both server stores alike,
//! run by `contract::all` on SQLite and PostgreSQL: the server names the pusher on every
//! action, except the model's own topic or department applied by the server's channel gateway
//! at intake, which keeps the model's name, version and probability. Nobody else may borrow it.

use super::{Client, Harness, now, operator};
use crate::domain::mutation::{Mutation, Op};
use crate::server::engine::Transactional;
use crate::wire::sync::{Entity, PatchOp, PushMutation, Verdict};
use uuid::Uuid;

const MODEL: &str = "triage 3f2a9c01d4e7 93%";

/// The request's audit lines as (field, actor).
fn audit<S: Transactional>(h: &Harness<S>, c: &Client, id: Uuid) -> Vec<(String, String)> {
    h.pull(c, None, None)
        .patch
        .into_iter()
        .filter_map(|p| match p {
            PatchOp::Put {
                entity: Entity::Event,
                value,
                ..
            } => Some(value.value()),
            _ => None,
        })
        .filter(|e| e["request_id"] == id.to_string())
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("field"), s("actor"))
        })
        .collect()
}

/// A mutation of `c`'s journal written in the model's name.
fn as_model(c: &mut Client, id: Uuid, op: Op) -> PushMutation {
    let mut m = c.journal(id, op, None);
    m.mutation = Mutation {
        actor: MODEL.into(),
        ..m.mutation
    };
    m
}

pub fn the_models_name<S: Transactional>(h: &Harness<S>) {
    let mut gateway = Client::new(crate::server::gateway_link::principal("telegram"));
    let mut anna = Client::new(operator("anna"));
    let id = h.create(&mut anna, "Переполнены контейнеры");
    let topic = Op::SetTopic {
        topic: Some("waste".into()),
        department_follows: true,
    };
    let pushed = [
        as_model(&mut gateway, id, topic.clone()),
        // Not the model's to do: named after the gateway.
        as_model(
            &mut gateway,
            id,
            Op::Tag {
                tag: "срочно".into(),
            },
        ),
    ];
    // The server's own gateway pushes under its channel's lease.
    let epoch = super::fence::acquire(h, "server-a", now()).expect("a free lease");
    let fence = Some(super::fence::lease(epoch));
    for m in pushed {
        let r = super::fence::push_fenced(h, &gateway, vec![m], fence.clone(), now())
            .expect("a fenced push");
        assert_eq!(r.results[0].status, Verdict::Applied, "{r:?}");
    }
    // An operator cannot act in the model's name.
    let m = as_model(
        &mut anna,
        id,
        Op::SetTopic {
            topic: Some("roads".into()),
            department_follows: true,
        },
    );
    assert_eq!(h.push(&anna, vec![m]).results[0].status, Verdict::Applied);
    let lines = audit(h, &anna, id);
    let by = |field: &str| -> Vec<&str> {
        lines
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    assert_eq!(by("topic"), [MODEL, "anna"], "{lines:?}");
    assert_eq!(by("tag"), ["telegram"], "{lines:?}");
}
