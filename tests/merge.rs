//! Merging two citizens' threads through the real gateway and the simulator (#19 item 5): the
//! merged request's citizen is told, every answer given on the request that handles the case
//! reaches both chats once, and the merged citizen's follow-ups go on in that one thread.

mod common;

use common::{Rig, count, until};
use mcu_desk::demo::sim::SimOptions;
use mcu_desk::domain::mutation::{Mutation, Op};
use mcu_desk::domain::{CloseReason, Status};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

fn message(chat: i64, id: i64, name: &str, text: &str) -> serde_json::Value {
    json!({"message": {
        "message_id": id,
        "from": {"id": chat, "is_bot": false, "first_name": name},
        "chat": {"id": chat, "type": "private", "first_name": name},
        "date": chrono::Utc::now().timestamp(),
        "text": text,
    }})
}

async fn request_of(rig: &Rig, chat: i64, name: &str, text: &str) -> String {
    rig.new_request(chat, message(chat, 1, name, text)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_thread_answers_both_citizens_and_forwards_follow_ups() {
    let opts = SimOptions {
        per_minute: 0.0,
        burst: 0,
        ..SimOptions::default()
    };
    let rig = Rig::start_with(opts, Duration::from_secs(2), common::env()).await;
    let (first, second) = (7_880_001, 7_880_002);
    let main = request_of(&rig, first, "Анна", "Нет горячей воды, ул. Мира 5").await;
    let other = request_of(
        &rig,
        second,
        "Борис",
        "Мира 5 — нет горячей воды третий день",
    )
    .await;
    let into = rig.store.resolve(&main).await.unwrap();
    let merged = rig.store.resolve(&other).await.unwrap();

    let batch = mcu_desk::domain::merge::merge(
        &merged,
        &into,
        None,
        Some(mcu_desk::present::merge::told(
            mcu_desk::lang::Lang::Ru,
            &merged,
            &into,
        )),
        "anna",
        chrono::Utc::now(),
    )
    .expect("a merge");
    rig.store.apply_batch(batch).await.expect("merged");
    rig.bot_said(second, &format!("объединено с обращением {main}"))
        .await;
    let link = rig.store.resolve(&other).await.unwrap();
    assert_eq!(link.status, Status::Closed);
    assert_eq!(link.close_reason, Some(CloseReason::Merged));
    assert_eq!(link.parent_id, Some(into.id));

    // One answer on the request that handles it: both citizens get it, once each.
    let op = Op::Reply {
        message_id: Uuid::now_v7(),
        body: "Аварийная бригада работает, воду дадут к 18:00.".into(),
    };
    let reply = Mutation::new(into.id, "anna", chrono::Utc::now(), op);
    rig.store.apply(reply.clone()).await.unwrap();
    rig.bot_said(first, "воду дадут к 18:00").await;
    rig.bot_said(second, "воду дадут к 18:00").await;
    // The same reply applied again (a retried action) relays nothing more.
    rig.store.apply(reply).await.unwrap();

    // The merged citizen writes again: it goes on in the one thread, under their name.
    rig.sim
        .inject_raw(message(second, 2, "Борис", "А холодная тоже пропала"));
    until(
        Duration::from_secs(10),
        "the follow-up in the thread",
        || {
            count(
                &rig.db,
                "SELECT count(*) FROM message WHERE body = 'А холодная тоже пропала'",
            ) == 1
        },
    )
    .await;
    let detail = rig.store.detail(&main).await.unwrap();
    let follow_up = detail
        .messages
        .iter()
        .find(|m| m.body == "А холодная тоже пропала")
        .expect("in the thread");
    assert_eq!(
        follow_up.request_id, into.id,
        "on the request that handles it"
    );
    assert_eq!(follow_up.author, format!("Борис · {other}"));
    // The merged request's own first message is part of the one thread, marked as its.
    let theirs = detail
        .messages
        .iter()
        .filter(|m| detail.via(m) == Some(other.as_str()))
        .count();
    assert!(
        theirs >= 2,
        "its messages are in the thread: {:?}",
        detail.messages
    );
    assert_eq!(detail.merged.len(), 1);
    assert!(detail.duplicates.is_empty(), "a merge is not a duplicate");
    let still = rig.store.resolve(&other).await.unwrap();
    assert_eq!(still.status, Status::Closed, "the link stays closed");

    let said = |chat: i64, needle: &str| {
        rig.bot_messages(chat)
            .iter()
            .filter(|(_, t)| t.contains(needle))
            .count()
    };
    // The last word the test waits for, then the counts: nothing went twice.
    rig.bot_said(second, "воду дадут к 18:00").await;
    assert_eq!(said(first, "воду дадут к 18:00"), 1);
    assert_eq!(said(second, "воду дадут к 18:00"), 1);
    assert_eq!(
        said(first, "объединено"),
        0,
        "the first citizen is not told of it"
    );
    rig.finish().await;
}
