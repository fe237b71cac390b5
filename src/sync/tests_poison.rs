//! #16 item 1: one document that doesn't read never stops a pull. A request numbered
//! `10000-000001` (a receipt time in the year 9999, stored before receipt times were bounded)
//! sits in the server's store; consoles pull past it, set it aside, and list the rest.

use uuid::Uuid;

use super::client::sync_once;
use super::tests::{SCOPE, act, link, team};
use crate::domain::mutation::{NewRequest, Op};
use crate::domain::{Channel, RequestNumber};
use crate::server::engine::Transactional;
use crate::store::{Filter, Sort};
use crate::testkit::contract::operator;
use crate::wire::sync::{Entity, RequestDoc};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_that_does_not_read_is_set_aside_and_the_pull_goes_on() {
    let t = team().await;
    let anna = link(&t.server, operator("anna"));
    let boris = link(&t.server, operator("boris"));
    let good = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, "Звонок: нет воды", chrono::Utc::now());
    act(&t.a, "anna", good, Op::Create(Box::new(new))).await;
    sync_once(&t.a, &anna, SCOPE).await.unwrap();

    // What an older server took: a request whose number does not parse back.
    let mut poison = t.a.resolve(&good.to_string()).await.unwrap();
    poison.id = Uuid::now_v7();
    poison.number = RequestNumber {
        year: 10000,
        seq: 1,
    };
    t.server
        .store
        .in_tx(|tx| {
            let version = tx.bump_seq(SCOPE, 1)?;
            tx.save_request(
                SCOPE,
                &RequestDoc {
                    request: poison.clone(),
                    version,
                    department_seq: 0,
                    assignee_seq: 0,
                },
            )?;
            tx.log_change(SCOPE, version, Entity::Request, &poison.id.to_string())
        })
        .unwrap();

    // A new console pulls everything: the good request arrives, the poison is set aside.
    sync_once(&t.b, &boris, SCOPE)
        .await
        .expect("the pull goes on");
    let page =
        t.b.inbox(Filter::default(), Sort::Received, None, 50)
            .await
            .unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].id, good);
    let aside = t.b.quarantined().await.unwrap();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(aside[0].0.kind, "request");
    assert_eq!(aside[0].0.id, poison.id.to_string());
    // Later rounds go on too.
    let again = sync_once(&t.b, &boris, SCOPE).await.unwrap();
    assert_eq!(again.pending, 0);
}

/// #16 item 3: a push is cut into bodies the server takes, and an action journaled before texts
/// were bounded goes shrunk so the server refuses it (`too_long`) instead of every push failing
/// on the body limit for good.
#[test]
fn pushes_fit_the_servers_body_limit() {
    use super::client::{PUSH_BODY_MAX, fit};
    use crate::domain::Mutation;
    use crate::domain::fields::{self, MAX_TEXT};
    use crate::store::mirror::Journaled;
    let reply = |i: i64, body: String| Journaled {
        local_id: i,
        base_seq: None,
        mutation: Mutation::new(
            Uuid::now_v7(),
            "anna",
            chrono::Utc::now(),
            Op::Reply {
                message_id: Uuid::now_v7(),
                body,
            },
        ),
    };
    let long: Vec<Journaled> = (1..=100).map(|i| reply(i, "😀".repeat(MAX_TEXT))).collect();
    let first = fit(&long, 0);
    let bytes = serde_json::to_vec(&first.iter().map(|p| &p.mutation).collect::<Vec<_>>())
        .unwrap()
        .len();
    assert!(
        !first.is_empty() && first.len() < 100 && bytes <= PUSH_BODY_MAX,
        "{} actions, {bytes} bytes",
        first.len()
    );
    assert_eq!(first[0].id, 1);

    let huge = vec![reply(7, "я".repeat(5_000_000)), reply(8, "ок".into())];
    let sent = fit(&huge, 2);
    assert_eq!(sent.len(), 2, "the shrunk one and the next fit together");
    assert_eq!((sent[0].id, sent[1].id), (5, 6));
    let Op::Reply { body, .. } = &sent[0].mutation.op else {
        unreachable!()
    };
    assert_eq!(body.chars().count(), MAX_TEXT + 1);
    // What the server then says of it.
    let mut m = sent[0].mutation.clone();
    assert!(matches!(
        fields::check(&mut m, chrono::Utc::now()),
        Err(crate::domain::Rejection::TooLong { field: "text", .. })
    ));
}
