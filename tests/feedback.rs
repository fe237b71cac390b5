//! «Вопрос решён?» through the real gateway and the simulator: a resolved close is asked
//! once, «да» is recorded and the request stays closed, «нет» reopens it with the citizen's
//! words.

mod common;

use common::{Rig, count, until};
use mcu_desk::demo::sim::SimOptions;
use mcu_desk::domain::mutation::{Mutation, Op};
use mcu_desk::domain::{CloseReason, Status};
use serde_json::json;
use std::time::Duration;

fn message(chat: i64, id: i64, text: &str) -> serde_json::Value {
    json!({"message": {
        "message_id": id,
        "from": {"id": chat, "is_bot": false, "first_name": "Ирина"},
        "chat": {"id": chat, "type": "private", "first_name": "Ирина"},
        "date": chrono::Utc::now().timestamp(),
        "text": text,
    }})
}

/// A request from `chat`, closed as resolved by anna; its number.
async fn resolved(rig: &Rig, chat: i64, text: &str) -> String {
    let number = rig.new_request(chat, message(chat, 1, text)).await;
    let r = rig.store.resolve(&number).await.unwrap();
    for op in [
        Op::Claim,
        Op::Close {
            reason: CloseReason::Resolved,
        },
    ] {
        rig.store
            .apply(Mutation::new(r.id, "anna", chrono::Utc::now(), op))
            .await
            .unwrap();
    }
    number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolved_close_is_asked_once_and_yes_or_no_in_words_answers_it() {
    let mut gateway = common::options(None);
    gateway.feedback_after = Some(Duration::ZERO);
    let opts = SimOptions {
        per_minute: 0.0,
        burst: 0,
        ..SimOptions::default()
    };
    let rig = Rig::start_full(opts, Duration::from_secs(2), common::env(), gateway).await;
    let (pleased, not) = (7_780_001, 7_780_002);
    let pleased_number = resolved(&rig, pleased, "Не горит фонарь у школы").await;
    let not_number = resolved(&rig, not, "Яма на дороге у дома").await;
    rig.bot_said(pleased, "Вопрос решён?").await;
    rig.bot_said(not, "Вопрос решён?").await;

    rig.sim.inject_raw(message(pleased, 2, "Да, спасибо"));
    rig.sim.inject_raw(message(not, 2, "Нет, яма на месте"));
    let sql = format!(
        "SELECT count(*) FROM request WHERE number = '{not_number}' AND status = 'in_work'"
    );
    until(Duration::from_secs(10), "«нет» reopens", || {
        count(&rig.db, &sql) == 1
    })
    .await;
    let sql = format!(
        "SELECT count(*) FROM request WHERE number = '{pleased_number}' AND feedback_helped = 1"
    );
    until(Duration::from_secs(10), "«да» is recorded", || {
        count(&rig.db, &sql) == 1
    })
    .await;

    let pleased_r = rig.store.resolve(&pleased_number).await.unwrap();
    assert_eq!(pleased_r.status, Status::Closed, "«да» leaves it closed");
    assert_eq!(pleased_r.close_reason, Some(CloseReason::Resolved));
    let reopened = rig.store.detail(&not_number).await.unwrap();
    assert_eq!(
        reopened.request.feedback.and_then(|f| f.helped),
        Some(false)
    );
    assert!(
        reopened
            .messages
            .iter()
            .any(|m| m.body == "Нет, яма на месте"),
        "the citizen's words are in the thread"
    );
    // Sweeps every 50 ms in between asked nobody twice.
    for chat in [pleased, not] {
        let asked = rig
            .bot_messages(chat)
            .iter()
            .filter(|(_, t)| t.contains("Вопрос решён?"))
            .count();
        assert_eq!(asked, 1, "chat {chat}");
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_telegram_question_has_buttons_and_a_tap_answers_it() {
    let mut gateway = common::options(None);
    gateway.feedback_after = Some(Duration::ZERO);
    let opts = SimOptions {
        per_minute: 0.0,
        burst: 0,
        ..SimOptions::default()
    };
    let rig = Rig::start_full(opts, Duration::from_secs(2), common::env(), gateway).await;
    let (yes, no) = (7_780_011, 7_780_012);
    let yes_number = resolved(&rig, yes, "Не горит фонарь у школы").await;
    let no_number = resolved(&rig, no, "Яма на дороге у дома").await;
    let asked_yes = rig.bot_said(yes, "Вопрос решён?").await;
    let asked_no = rig.bot_said(no, "Вопрос решён?").await;
    let sent = rig.sim.sent();
    let question = sent.chats[&yes.to_string()]
        .iter()
        .find(|m| m.message_id == asked_yes)
        .expect("the question");
    assert_eq!(question.buttons, ["fb:yes", "fb:no"]);
    assert_eq!(question.labels, ["Да", "Нет"]);
    // A button that is not ours and a query without a chat are skipped; the poller goes on.
    rig.sim
        .inject_raw(json!({"callback_query": {"id": "x1", "data": "other",
        "from": {"id": yes, "is_bot": false, "first_name": "Ирина"},
        "message": {"message_id": asked_yes, "chat": {"id": yes, "type": "private"}, "date": 0}}}));
    rig.sim
        .inject_raw(json!({"callback_query": {"id": "x2", "data": "fb:no"}}));
    rig.sim.press(yes, asked_yes, "fb:yes");
    rig.sim.press(no, asked_no, "fb:no");
    let sql =
        format!("SELECT count(*) FROM request WHERE number = '{no_number}' AND status = 'in_work'");
    until(Duration::from_secs(10), "«Нет» reopens", || {
        count(&rig.db, &sql) == 1
    })
    .await;
    let sql = format!(
        "SELECT count(*) FROM request WHERE number = '{yes_number}' AND feedback_helped = 1
           AND status = 'closed'"
    );
    until(Duration::from_secs(10), "«Да» is recorded", || {
        count(&rig.db, &sql) == 1
    })
    .await;
    let reopened = rig.store.detail(&no_number).await.unwrap();
    assert!(reopened.messages.iter().any(|m| m.body == "Нет"));
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_english_center_asks_with_yes_and_no_and_the_tap_answers_in_those_words() {
    let mut gateway = common::options(None);
    gateway.feedback_after = Some(Duration::ZERO);
    gateway.rules.texts = mcu_desk::templates::BotTexts::shipped("en");
    let opts = SimOptions {
        per_minute: 0.0,
        burst: 0,
        ..SimOptions::default()
    };
    let rig = Rig::start_full(opts, Duration::from_secs(2), common::env(), gateway).await;
    let chat = 7_780_021;
    let number = resolved(&rig, chat, "The street light is out").await;
    let asked = rig.bot_said(chat, "Did it help?").await;
    let sent = rig.sim.sent();
    let question = sent.chats[&chat.to_string()]
        .iter()
        .find(|m| m.message_id == asked)
        .expect("the question");
    assert_eq!(question.labels, ["Yes", "No"]);
    assert_eq!(question.buttons, ["fb:yes", "fb:no"]);
    rig.sim.press(chat, asked, "fb:no");
    let sql =
        format!("SELECT count(*) FROM request WHERE number = '{number}' AND status = 'in_work'");
    until(Duration::from_secs(10), "«No» reopens", || {
        count(&rig.db, &sql) == 1
    })
    .await;
    let reopened = rig.store.detail(&number).await.unwrap();
    let bodies: Vec<&str> = reopened.messages.iter().map(|m| m.body.as_str()).collect();
    assert!(
        bodies.contains(&"No") && !bodies.contains(&"Нет"),
        "the thread shows the button the citizen tapped: {bodies:?}"
    );
    rig.finish().await;
}
