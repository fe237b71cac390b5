//! A question to the citizen in team mode, through `mcu serve --channels telegram` on both
//! server stores: a team console asks and waits; the server's gateway reminds the citizen
//! once; one citizen's answer resumes their request, the other's silence closes it politely.

mod common;

use serde_json::Value;
use std::time::Duration;

use common::{mcu_in as mcu, team_console as console, until};

const SCOPE: &str = "krasnodar";
// About 2 s to the reminder and 9 s to the close: the same rules in a test's time.
const CLOCKS: &str = "[clocks]\nwaiting_reminder_hours = 0.0005\nwaiting_close_days = 0.0001\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_waits_is_reminded_and_resumes_or_closes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    waits(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_waits_is_reminded_and_resumes_or_closes_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    waits(db, tempfile::tempdir().unwrap()).await;
}

async fn waits(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sim = common::three_channels_setup(d, SCOPE, CLOCKS).await;
    let token = common::add_account(d, &db, "anna", "operator");
    let (answers, silent) = (3001_i64, 3002_i64);
    sim.inject_text(answers, "Яма на дороге у дома, колесо пробил");
    sim.inject_text(silent, "Не вывозят мусор со двора");
    let served = common::serve_telegram(d, &db);
    let base = served.base.clone();
    let listed = common::listed(d, &base, &token, 2).await;
    let (resumed, closed) = (
        common::number_with(&listed, "Яма"),
        common::number_with(&listed, "мусор"),
    );
    let said = |chat: i64, needle: &str| {
        sim.sent()
            .chats
            .get(&chat.to_string())
            .map_or(0, |m| m.iter().filter(|m| m.text.contains(needle)).count())
    };
    until(Duration::from_secs(30), "the acknowledgements", || {
        said(answers, "зарегистрировано") == 1 && said(silent, "зарегистрировано") == 1
    })
    .await;
    for number in [&resumed, &closed] {
        let text = format!("Уточните, пожалуйста, номер дома ({number}).");
        console(
            d,
            &base,
            &token,
            &["reply", number, "--text", &text, "--wait"],
        );
    }
    console(d, &base, &token, &["sync"]);
    let shown = console(d, &base, &token, &["show", &resumed]);
    assert_eq!(shown["status"], "waiting_citizen", "{shown}");

    until(Duration::from_secs(40), "the reminders", || {
        said(answers, "Напоминаем") == 1 && said(silent, "Напоминаем") == 1
    })
    .await;
    sim.inject_text(answers, "Дом 12, у второго подъезда");
    until(
        Duration::from_secs(40),
        "the silent one closed politely",
        || said(silent, "не получили ответа") == 1,
    )
    .await;
    let mut card = Value::Null;
    until(
        Duration::from_secs(30),
        "both settled on the console",
        || {
            console(d, &base, &token, &["sync"]);
            card = console(d, &base, &token, &["show", &closed]);
            let other = console(d, &base, &token, &["show", &resumed]);
            card["status"] == "closed" && other["status"] == "in_work"
        },
    )
    .await;
    assert_eq!(card["closed_reason"], "no_answer", "{card}");
    let other = console(d, &base, &token, &["show", &resumed]);
    assert!(other.get("waiting").is_none(), "{other}");
    // Exactly once each, whatever the sweeps and pushes did meanwhile.
    assert_eq!(said(answers, "Напоминаем"), 1);
    assert_eq!(said(silent, "Напоминаем"), 1);
    assert_eq!(said(answers, "не получили ответа"), 0);
}

const LEADS: i64 = -100_555;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_reaches_the_leads_chat_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    escalates(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_reaches_the_leads_chat_once_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    escalates(db, tempfile::tempdir().unwrap()).await;
}

/// Nobody answers within a first-response target of about two seconds: the server's gateway
/// tells the leads' chat once, and every console sees it on the request's audit. Round-robin
/// is on: the request went to the one operator on shift.
async fn escalates(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let extra = format!(
        "[clocks]\nfirst_response_hours = 0.0005\n[escalation]\ntelegram_chat_id = {LEADS}\n\
         [assign]\nmode = \"round_robin\"\n"
    );
    let sim = common::three_channels_setup(d, SCOPE, &extra).await;
    sim.open_chat(LEADS);
    let token = common::add_account(d, &db, "anna", "operator");
    sim.inject_text(4001, "Не горит фонарь у школы №5");
    let log = d.join("serve.log");
    let (child, _stdout, base) = common::spawn_serve(
        mcu(d, "server.toml")
            .args(["--db", &db, "serve", "--listen", "127.0.0.1:0"])
            .args(["--channels", "telegram", "--no-seed"]),
        &log,
    );
    let _guard = common::ServeGuard {
        child,
        log: log.clone(),
    };
    let told = |needle: &str| {
        sim.sent()
            .chats
            .get(&LEADS.to_string())
            .map_or(0, |m| m.iter().filter(|m| m.text.contains(needle)).count())
    };
    until(Duration::from_secs(40), "the leads told", || {
        told("нет ответа заявителю в срок") == 1
    })
    .await;
    let mut card = Value::Null;
    until(Duration::from_secs(30), "the audit on the console", || {
        console(d, &base, &token, &["sync"]);
        let listed = console(d, &base, &token, &["list"]);
        let Some(number) = listed[0]["number"].as_str() else {
            return false;
        };
        card = console(d, &base, &token, &["show", number]);
        card["events"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["field"] == "escalated"))
    })
    .await;
    let number = card["number"].as_str().unwrap();
    // Round-robin gave it to the one operator on shift, as `auto`.
    assert_eq!(card["assignee"], "anna", "{card}");
    assert!(
        card["events"].as_array().is_some_and(|es| es
            .iter()
            .any(|e| e["actor"] == "auto" && e["field"] == "assignee")),
        "{card}"
    );
    let text = sim.sent().chats[&LEADS.to_string()][0].text.clone();
    assert!(text.contains(number), "{text}");
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("mcu_escalations_total{channel=\"telegram\"} 1"),
        "{metrics}"
    );
    // Sweeps went on meanwhile (every 5 s in a server): still told once.
    assert_eq!(told("нет ответа заявителю в срок"), 1);
}
