//! A question to the citizen through the real gateway and the simulator: the request waits,
//! the citizen is reminded once, their answer resumes it, and silence closes it politely.

mod common;

use common::{Rig, count, until};
use mcu_desk::demo::sim::SimOptions;
use mcu_desk::domain::mutation::{Mutation, Op};
use mcu_desk::domain::request::ClockKind;
use mcu_desk::domain::{CloseReason, Status};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

fn message(chat: i64, id: i64, text: &str) -> serde_json::Value {
    json!({"message": {
        "message_id": id,
        "from": {"id": chat, "is_bot": false, "first_name": "Ирина"},
        "chat": {"id": chat, "type": "private", "first_name": "Ирина"},
        "date": chrono::Utc::now().timestamp(),
        "text": text,
    }})
}

async fn ask(rig: &Rig, chat: i64, text: &str) -> String {
    let number = rig.new_request(chat, message(chat, 1, text)).await;
    let r = rig.store.resolve(&number).await.unwrap();
    let op = Op::Ask {
        message_id: Uuid::now_v7(),
        body: format!("Уточните, пожалуйста, номер дома ({number})."),
    };
    rig.store
        .apply(Mutation::new(r.id, "anna", chrono::Utc::now(), op))
        .await
        .unwrap();
    rig.bot_said(chat, "Уточните, пожалуйста, номер дома").await;
    number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_reminded_once_resumed_by_the_answer_or_closed_politely() {
    let mut env = common::env();
    // Seconds, not a day and three: the same rules, in a test's time.
    env.policy.waiting_reminder = chrono::Duration::seconds(1);
    env.policy.waiting_close = chrono::Duration::seconds(4);
    let opts = SimOptions {
        per_minute: 0.0,
        burst: 0,
        ..SimOptions::default()
    };
    let rig = Rig::start_with(opts, Duration::from_secs(2), env).await;
    let (answers, silent) = (7_770_001, 7_770_002);
    let answered_number = ask(&rig, answers, "Яма на дороге у дома").await;
    let silent_number = ask(&rig, silent, "Не вывозят мусор").await;
    let waiting = rig.store.resolve(&answered_number).await.unwrap();
    assert_eq!(waiting.status, Status::WaitingCitizen);
    assert!(waiting.resolution.paused.is_some(), "the clock holds");

    rig.bot_said(answers, "Напоминаем").await;
    rig.sim
        .inject_raw(message(answers, 2, "Дом 12, у второго подъезда"));
    let sql = format!(
        "SELECT count(*) FROM request WHERE number = '{answered_number}' AND status = 'in_work'"
    );
    until(
        Duration::from_secs(10),
        "the answer resumes the request",
        || count(&rig.db, &sql) == 1,
    )
    .await;

    rig.bot_said(silent, "не получили ответа").await;
    let closed = rig.store.resolve(&silent_number).await.unwrap();
    assert_eq!(closed.status, Status::Closed);
    assert_eq!(closed.close_reason, Some(CloseReason::NoAnswer));
    let said = |chat: i64, needle: &str| {
        rig.bot_messages(chat)
            .iter()
            .filter(|(_, t)| t.contains(needle))
            .count()
    };
    assert_eq!(
        said(silent, "Напоминаем"),
        1,
        "one reminder before the close"
    );
    // The one who answered was asked first: had the answer not counted, it would be closed
    // by now too.
    let resumed = rig.store.resolve(&answered_number).await.unwrap();
    assert_eq!(resumed.status, Status::InWork);
    assert_eq!(resumed.waiting, None);
    assert_eq!(resumed.resolution.paused, None);
    assert_eq!(said(answers, "не получили ответа"), 0);
    assert_eq!(said(answers, "Напоминаем"), 1);
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_breach_is_told_to_the_shift_leads_once() {
    const LEADS: i64 = -100_777;
    let mut env = common::env();
    env.policy.first_response = chrono::Duration::seconds(1);
    env.policy.resolution = chrono::Duration::seconds(3);
    let mut gateway = common::options(None);
    gateway.escalation_chat = Some(LEADS.to_string());
    let opts = SimOptions {
        per_minute: 0.0,
        burst: 0,
        ..SimOptions::default()
    };
    let rig = Rig::start_full(opts, Duration::from_secs(2), env, gateway).await;
    rig.sim.open_chat(LEADS);
    let chat = 7_770_010;
    rig.sim
        .inject_raw(message(chat, 1, "Не горит фонарь у школы"));
    rig.bot_said(chat, "зарегистрировано под номером").await;
    rig.bot_said(LEADS, "нет ответа заявителю в срок").await;
    let number: String = rusqlite::Connection::open(&rig.db)
        .unwrap()
        .query_row("SELECT number FROM request", [], |r| r.get(0))
        .unwrap();
    let told = rig.bot_messages(LEADS);
    assert!(told[0].1.contains(&number), "{told:?}");
    assert!(told[0].1.contains("Не горит фонарь у школы"), "{told:?}");
    // Answered late: the resolution clock runs, and breaches in its turn.
    let r = rig.store.resolve(&number).await.unwrap();
    let op = Op::Reply {
        message_id: Uuid::now_v7(),
        body: "Передали в службу освещения.".into(),
    };
    rig.store
        .apply(Mutation::new(r.id, "anna", chrono::Utc::now(), op))
        .await
        .unwrap();
    rig.bot_said(LEADS, "не решено в срок").await;
    // Every sweep in between (one each 50 ms) saw the first breach and told nobody again.
    let told = rig.bot_messages(LEADS);
    assert_eq!(told.len(), 2, "{told:?}");
    let events = rig.store.detail(&number).await.unwrap().events;
    let levels: Vec<_> = events
        .iter()
        .filter(|e| e.field == "escalated")
        .filter_map(|e| e.new.clone())
        .collect();
    assert_eq!(levels, ["first_response", "resolution"]);
    rig.finish().await;
}

/// A city that asks (`[escalation] at_risk`) hears of a clock at risk while the promise can
/// still be kept, once, and of its breach later, once: two messages, in that order, both on
/// the request's audit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leads_are_warned_at_risk_before_the_breach() {
    const LEADS: i64 = -100_778;
    let mut env = common::env();
    env.policy.first_response = chrono::Duration::seconds(4);
    env.policy.at_risk_ratio = 0.5;
    env.policy.resolution = chrono::Duration::hours(1);
    let mut gateway = common::options(None);
    gateway.escalation_chat = Some(LEADS.to_string());
    gateway.escalation_at_risk = true;
    let opts = SimOptions {
        per_minute: 0.0,
        burst: 0,
        ..SimOptions::default()
    };
    let rig = Rig::start_full(opts, Duration::from_secs(2), env, gateway).await;
    rig.sim.open_chat(LEADS);
    let chat = 7_770_011;
    rig.sim.inject_raw(message(chat, 1, "Открыт люк во дворе"));
    rig.bot_said(chat, "зарегистрировано под номером").await;
    rig.bot_said(LEADS, "скоро срок ответа заявителю").await;
    rig.bot_said(LEADS, "нет ответа заявителю в срок").await;
    let told = rig.bot_messages(LEADS);
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(told[0].1.starts_with('⏳'), "the warning first: {told:?}");
    assert!(told[0].1.contains("Открыт люк во дворе"), "{told:?}");
    assert!(told[1].1.starts_with('⚠'), "{told:?}");
    let number: String = rusqlite::Connection::open(&rig.db)
        .unwrap()
        .query_row("SELECT number FROM request", [], |r| r.get(0))
        .unwrap();
    let r = rig.store.resolve(&number).await.unwrap();
    assert_eq!(r.warned, vec![ClockKind::FirstResponse]);
    assert_eq!(r.escalated, vec![ClockKind::FirstResponse]);
    let events = rig.store.detail(&number).await.unwrap().events;
    let fields: Vec<_> = events
        .iter()
        .filter(|e| e.field == "warned" || e.field == "escalated")
        .map(|e| e.field.as_str())
        .collect();
    assert_eq!(fields, ["warned", "escalated"]);
    rig.finish().await;
}
