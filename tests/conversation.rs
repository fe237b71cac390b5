//! A citizen's conversation with the bot, message by message, through the simulator and the
//! real gateway: joining, replying to the acknowledgement, edits, commands, reopening, a
//! blocked bot, files, and a second poller on the token.

mod common;

use common::{Rig, count, until};
use mcu_desk::channels::gateway::GatewayEvent;
use mcu_desk::domain::CloseReason;
use mcu_desk::domain::mutation::{Mutation, Op};
use mcu_desk::domain::request::AttachmentState;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

fn message(chat: i64, id: i64, extra: serde_json::Value) -> serde_json::Value {
    let mut m = json!({
        "message_id": id,
        "from": {"id": chat, "is_bot": false, "first_name": "Ирина", "username": "irina_krd"},
        "chat": {"id": chat, "type": "private", "first_name": "Ирина"},
        "date": chrono::Utc::now().timestamp(),
    });
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    m
}

fn one(db: &Path, sql: &str) -> String {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_builds_one_request() {
    let rig = Rig::quiet().await;
    let chat = 5_550_001;
    rig.sim
        .inject_raw(json!({"message": message(chat, 10, json!({"text": "/start"}))}));
    rig.bot_said(chat, "Муниципального центра управления").await;

    rig.sim.inject_raw(json!({"message": message(chat, 11, json!({"text": "Прорвало трубу во дворе дома 5 по ул. Садовой"}))}));
    let ack = rig.bot_said(chat, "зарегистрировано под номером").await;
    let number = one(&rig.db, "SELECT number FROM request");
    assert!(
        rig.bot_messages(chat)
            .iter()
            .any(|(_, t)| t.contains(&number)),
        "the acknowledgement carries the number"
    );

    // A location, a reply to the acknowledgement and an edit all belong to that request.
    rig.sim.inject_raw(json!({"message": message(chat, 12, json!({"location": {"latitude": 45.04, "longitude": 38.98}}))}));
    rig.sim.inject_raw(json!({"message": message(chat, 13, json!({"text": "Вода уже в подвале", "reply_to_message": {"message_id": ack, "chat": {"id": chat, "type": "private"}, "date": 0, "from": {"id": 1, "is_bot": true, "first_name": "МЦУ"}}}))}));
    rig.sim.inject_raw(json!({"edited_message": message(chat, 11, json!({"text": "Прорвало трубу во дворе дома 5А по ул. Садовой", "edit_date": chrono::Utc::now().timestamp()}))}));
    rig.sim.inject_raw(
        json!({"message": message(chat, 14, json!({"text": format!("/status {number}")}))}),
    );
    rig.bot_said(chat, &format!("Обращение {number}: new"))
        .await;
    until(Duration::from_secs(10), "all stored", || {
        count(&rig.db, "SELECT count(*) FROM inbound_event") == 6
    })
    .await;
    assert_eq!(
        count(&rig.db, "SELECT count(*) FROM request"),
        1,
        "one request for the whole conversation"
    );
    let detail = rig.store.detail(&number).await.unwrap();
    let texts: Vec<&str> = detail.messages.iter().map(|m| m.body.as_str()).collect();
    assert!(texts.contains(&"Вода уже в подвале"), "{texts:?}");
    let edit = detail
        .messages
        .iter()
        .find(|m| m.edit_of.is_some())
        .expect("the edit is kept as a revision");
    assert!(edit.body.contains("5А"));
    assert_eq!(
        detail.request.text, "Прорвало трубу во дворе дома 5 по ул. Садовой",
        "the original stays"
    );
    assert_eq!(
        detail.request.location.as_ref().and_then(|l| l.lat),
        Some(45.04)
    );
    // Another citizen cannot read this request's status.
    rig.sim.inject_raw(
        json!({"message": message(chat + 1, 1, json!({"text": format!("/status {number}")}))}),
    );
    rig.bot_said(chat + 1, "не найдено").await;

    // Closed, then the citizen writes again: reopened, not a new request.
    let req = detail.request;
    rig.store
        .apply(Mutation::new(
            req.id,
            "anna",
            chrono::Utc::now(),
            Op::Close {
                reason: CloseReason::Resolved,
            },
        ))
        .await
        .unwrap();
    rig.sim
        .inject_raw(json!({"message": message(chat, 15, json!({"text": "Опять течёт!"}))}));
    until(Duration::from_secs(10), "reopened", || {
        one(&rig.db, "SELECT status FROM request") == "in_work"
    })
    .await;
    assert_eq!(count(&rig.db, "SELECT count(*) FROM request"), 1);
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_bot_marks_the_citizen_unreachable() {
    let rig = Rig::quiet().await;
    let chat = 5_550_100;
    rig.sim.block(chat, true);
    rig.sim.inject_text(chat, "Не вывозят мусор третий день");
    until(
        Duration::from_secs(20),
        "the acknowledgement to fail",
        || {
            count(
                &rig.db,
                "SELECT count(*) FROM outbox WHERE state = 'failed'",
            ) == 1
        },
    )
    .await;
    assert_eq!(count(&rig.db, "SELECT count(*) FROM unreachable"), 1);
    assert_eq!(
        one(
            &rig.db,
            "SELECT delivery FROM message WHERE direction = 'out'"
        ),
        "failed"
    );
    // Writing again means the citizen unblocked the bot.
    rig.sim.block(chat, false);
    rig.sim.inject_text(chat, "Мусор так и не вывезли");
    until(Duration::from_secs(10), "unblocked", || {
        count(&rig.db, "SELECT count(*) FROM unreachable") == 0
    })
    .await;
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_fetched_refetched_when_expired_and_refused_when_too_large() {
    let rig = Rig::quiet().await;
    rig.sim.inject_photo(5_550_200, Some("Яма у подъезда"));
    rig.sim
        .inject_document(5_550_201, "акт.pdf", 25 * 1024 * 1024);
    // Links issued from now on are already stale: the fetcher must ask getFile again.
    rig.sim.expire_files();
    until(Duration::from_secs(30), "both files settled", || {
        count(&rig.db, "SELECT count(*) FROM file_job") == 0
            && count(&rig.db, "SELECT count(*) FROM request") == 2
    })
    .await;
    let c = rusqlite::Connection::open(&rig.db).unwrap();
    let mut st = c
        .prepare("SELECT attachments FROM request ORDER BY rid")
        .unwrap();
    let all: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let photo: serde_json::Value = serde_json::from_str(&all[0]).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&all[1]).unwrap();
    assert_eq!(photo[0]["state"], "stored", "{photo}");
    let path = photo[0]["local_path"].as_str().unwrap();
    assert!(
        std::fs::read(path).unwrap().starts_with(&[0xFF, 0xD8]),
        "a JPEG on disk"
    );
    assert_eq!(
        doc[0]["state"],
        serde_json::to_value(AttachmentState::TooLarge).unwrap()
    );
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_or_second_poller_stops_polling_and_raises_an_alarm() {
    let mut rig = Rig::quiet().await;
    rig.sim.inject_text(5_550_300, "Не горит фонарь");
    until(Duration::from_secs(10), "the first request", || {
        count(&rig.db, "SELECT count(*) FROM request") == 1
    })
    .await;
    rig.sim.poll_held().await;
    rig.sim.set_webhook(true);
    let alarm = loop {
        match tokio::time::timeout(Duration::from_secs(20), rig.events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            GatewayEvent::Alarm(a) => break a,
            _ => continue,
        }
    };
    assert!(
        alarm.contains("409") || alarm.contains("webhook"),
        "{alarm}"
    );
    assert_eq!(
        count(
            &rig.db,
            "SELECT count(*) FROM alarm WHERE cleared_at IS NULL"
        ),
        1
    );
    // Polling stopped: later messages wait in Telegram's queue, nothing is lost.
    rig.sim.set_webhook(false);
    rig.sim.inject_text(5_550_301, "Второе сообщение");
    assert!(rig.sim.stats().updates_pending >= 1);
    rig.finish().await;
}

/// Issue #19 item 5: a request linked as another citizen's duplicate tells its own citizen,
/// on their own chat, which request handles the problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_of_another_citizens_request_is_told_which_one() {
    let rig = Rig::quiet().await;
    let (first, second) = (5_560_001, 5_560_002);
    rig.sim.inject_raw(json!({"message": message(first, 1, json!({"text": "Прорвало трубу у дома 5 на Садовой"}))}));
    rig.bot_said(first, "зарегистрировано под номером").await;
    rig.sim.inject_raw(
        json!({"message": message(second, 1, json!({"text": "Садовая 5, из трубы хлещет вода"}))}),
    );
    rig.bot_said(second, "зарегистрировано под номером").await;
    let number = |chat: i64| {
        one(
            &rig.db,
            &format!("SELECT number FROM request WHERE chat_ref = '{chat}'"),
        )
    };
    let (original, repeat) = (number(first), number(second));
    let original = rig.store.resolve(&original).await.unwrap();
    let repeat = rig.store.resolve(&repeat).await.unwrap();
    let batch = mcu_desk::incidents::plan::join_duplicate(
        &repeat,
        &original,
        Some(mcu_desk::lang::Lang::Ru),
        "anna",
        chrono::Utc::now(),
    );
    rig.store
        .apply_batch(batch)
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let told = rig.bot_said(second, "Об этой проблеме уже сообщили").await;
    let text = rig
        .bot_messages(second)
        .into_iter()
        .find(|(id, _)| *id == told)
        .unwrap()
        .1;
    assert!(text.contains(&original.number.to_string()), "{text}");
    // The first citizen hears nothing of it.
    assert!(
        !rig.bot_messages(first)
            .iter()
            .any(|(_, t)| t.contains("уже сообщили"))
    );
    let linked = rig.store.resolve(&repeat.number.to_string()).await.unwrap();
    assert_eq!(linked.close_reason, Some(CloseReason::Duplicate));
    rig.finish().await;
}

/// Issue #19 item 5: the citizen's second problem, written into the same chat, is split off
/// with `mcu split` into a request of its own, which the citizen is then answered on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_off_topic_follow_up_is_split_into_a_request_of_its_own() {
    let rig = Rig::quiet().await;
    let chat = 5_570_001;
    rig.sim.inject_raw(
        json!({"message": message(chat, 1, json!({"text": "Прорвало трубу у дома 5"}))}),
    );
    rig.bot_said(chat, "зарегистрировано под номером").await;
    rig.sim.inject_raw(
        json!({"message": message(chat, 2, json!({"text": "И ещё: во дворе не вывозят мусор"}))}),
    );
    until(Duration::from_secs(10), "the follow-up joined", || {
        count(
            &rig.db,
            "SELECT count(*) FROM message WHERE direction = 'in'",
        ) >= 1
            && count(&rig.db, "SELECT count(*) FROM inbound_event") == 2
    })
    .await;
    let number = one(&rig.db, "SELECT number FROM request");
    let dir = rig.db.parent().unwrap().to_path_buf();
    std::fs::write(dir.join("config.toml"), "[operator]\nname = \"anna\"\n").unwrap();
    let detail = rig.store.detail(&number).await.unwrap();
    let follow_up = detail
        .messages
        .iter()
        .find(|m| m.body.contains("мусор"))
        .expect("the follow-up in the thread");
    let out = common::mcu_in(&dir, "config.toml")
        .arg("--db")
        .arg(&rig.db)
        .args([
            "split",
            &number,
            "--message",
            &follow_up.id.to_string(),
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let new_number = made[0]["number"].as_str().unwrap().to_string();
    assert_ne!(new_number, number);
    assert_eq!(made[0]["text"], "И ещё: во дворе не вывозят мусор");
    // Answered on the new request, the citizen gets it in the same chat.
    let new = rig.store.resolve(&new_number).await.unwrap();
    let op = Op::Reply {
        message_id: uuid::Uuid::now_v7(),
        body: format!("По обращению {new_number}: вывоз мусора назначен на завтра"),
    };
    rig.store
        .apply(Mutation::new(new.id, "anna", chrono::Utc::now(), op))
        .await
        .unwrap();
    rig.bot_said(chat, "вывоз мусора назначен").await;
    let old = rig.store.detail(&number).await.unwrap();
    assert!(
        old.events.iter().any(|e| e.field == "split"),
        "{:?}",
        old.events
    );
    rig.finish().await;
}

/// Issue #19 item 1: a citizen who shares their own contact gives their request its phone,
/// by which their other requests are then found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_contact_gives_the_request_the_citizens_phone() {
    let rig = Rig::quiet().await;
    let chat = 5_580_001;
    rig.sim.inject_raw(
        json!({"message": message(chat, 1, json!({"text": "Не горит фонарь у дома 3"}))}),
    );
    rig.bot_said(chat, "зарегистрировано под номером").await;
    let contact = json!({"contact": {"phone_number": "8 (918) 111-22-33", "first_name": "Ирина", "user_id": chat}});
    rig.sim
        .inject_raw(json!({"message": message(chat, 2, contact)}));
    until(Duration::from_secs(10), "the phone on the request", || {
        count(
            &rig.db,
            "SELECT count(*) FROM request WHERE phone = '+79181112233'",
        ) == 1
    })
    .await;
    let number = one(&rig.db, "SELECT number FROM request");
    let detail = rig.store.detail(&number).await.unwrap();
    assert!(
        detail.events.iter().any(|e| e.field == "phone"),
        "{:?}",
        detail.events
    );
    rig.finish().await;
}
