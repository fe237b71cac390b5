//! «Вопрос решён?» in a VK dialog through the real VK adapter, gateway and the simulator's VK
//! community: the question carries an inline keyboard of text buttons, a tap arrives as a
//! message with the button's payload and answers it; payloads not ours are skipped one by one
//! while the poller goes on. Apart from tests/feedback.rs because the rig is VK's.

mod common;

use common::{count, env, options, until};
use mcu_desk::channels::gateway;
use mcu_desk::channels::vk::Vk;
use mcu_desk::demo::sim::Simulator;
use mcu_desk::domain::CloseReason;
use mcu_desk::domain::mutation::{Mutation, Op};
use mcu_desk::store::Store;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// The community's messages to `peer`: (id, text, button labels).
fn sent_to(sim: &Simulator, peer: i64) -> Vec<(i64, String, Vec<String>)> {
    sim.sent()
        .vk
        .get(&peer.to_string())
        .map(|v| {
            v.iter()
                .map(|m| {
                    let labels = m.buttons.iter().map(|(l, _)| l.clone()).collect();
                    (m.id, m.text.clone(), labels)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vk_question_has_a_keyboard_and_a_tap_answers_it() {
    let sim = common::quiet_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mcu.sqlite3");
    let store = Store::open(&db, env()).await.unwrap();
    let vk = Arc::new(Vk::new(common::vk_settings(&sim, Duration::from_secs(2))).unwrap());
    let mut opts = options(None);
    opts.feedback_after = Some(Duration::ZERO);
    let (tx, _events) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let gw = tokio::spawn(gateway::run(store.clone(), vk, opts, tx, stop_rx));

    // Polling from the long poll's `ts` on, so the citizens' messages are the poll's news.
    sim.vk_polled(1).await;
    let (yes, no) = (5_550_001_i64, 5_550_002_i64);
    let mut numbers = vec![];
    for (peer, text) in [
        (yes, "Не горит фонарь у школы"),
        (no, "Яма на дороге у дома"),
    ] {
        sim.vk_inject_text(peer, text);
        let sql =
            format!("SELECT count(*) FROM request WHERE channel = 'vk' AND chat_ref = '{peer}'");
        until(Duration::from_secs(20), "the request", || {
            count(&db, &sql) == 1
        })
        .await;
        let number: String = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(
                "SELECT number FROM request WHERE chat_ref = ?1",
                [peer.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        let r = store.resolve(&number).await.unwrap();
        for op in [
            Op::Claim,
            Op::Close {
                reason: CloseReason::Resolved,
            },
        ] {
            store
                .apply(Mutation::new(r.id, "anna", chrono::Utc::now(), op))
                .await
                .unwrap();
        }
        numbers.push(number);
    }
    let question = |peer: i64| {
        sent_to(&sim, peer)
            .into_iter()
            .find(|(_, t, _)| t.contains("Вопрос решён?"))
    };
    until(Duration::from_secs(20), "both asked", || {
        question(yes).is_some() && question(no).is_some()
    })
    .await;
    let (asked_yes, _, labels) = question(yes).unwrap();
    assert_eq!(labels, ["Да", "Нет"], "the keyboard's text buttons");
    let (asked_no, _, _) = question(no).unwrap();

    // Payloads not ours, or not readable, are each one skipped message; the poller goes on.
    for payload in [
        json!("{\"button\":\"menu:1\"}"),
        json!("{not json"),
        json!(7),
    ] {
        let mut m = serde_json::Map::new();
        m.insert("text".into(), json!("Меню"));
        m.insert("payload".into(), payload);
        sim.vk_inject(yes, m);
    }
    assert!(sim.vk_tap(yes, asked_yes, "Да").is_some());
    assert!(sim.vk_tap(no, asked_no, "Нет").is_some());
    let reopened = format!(
        "SELECT count(*) FROM request WHERE number = '{}' AND status = 'in_work'",
        numbers[1]
    );
    until(Duration::from_secs(20), "«Нет» reopens", || {
        count(&db, &reopened) == 1
    })
    .await;
    let helped = format!(
        "SELECT count(*) FROM request WHERE number = '{}' AND feedback_helped = 1 AND status = 'closed'",
        numbers[0]
    );
    until(Duration::from_secs(20), "«Да» is recorded", || {
        count(&db, &helped) == 1
    })
    .await;
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM inbound_event WHERE channel = 'vk' AND outcome = 'ignored'
               AND payload LIKE '%Меню%'"
        ),
        3,
        "the three foreign payloads were skipped"
    );
    let detail = store.detail(&numbers[1]).await.unwrap();
    assert!(detail.messages.iter().any(|m| m.body == "Нет"));
    // Sweeps every 50 ms asked each citizen once.
    for peer in [yes, no] {
        let asked = sent_to(&sim, peer)
            .iter()
            .filter(|(_, t, _)| t.contains("Вопрос решён?"))
            .count();
        assert_eq!(asked, 1, "peer {peer}");
    }
    let _ = stop.send(true);
    gw.await.unwrap().unwrap();
    sim.shutdown().await;
}
