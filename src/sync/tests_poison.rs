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
