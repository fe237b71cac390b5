//! The real Telegram adapter and gateway against the simulator, with faults: nothing stored
//! twice, nothing lost, no reply received twice, ambiguous sends left `unknown`.

mod common;

use chrono::Duration as ChronoDuration;
use common::{Rig, count, until};
use mcu_desk::channels::gateway::GatewayEvent;
use mcu_desk::demo::sim::{SimOptions, Simulator};
use mcu_desk::domain::mutation::{Mutation, Op};
use mcu_desk::store::{Filter, Sort};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_messages_with_faults_are_stored_once_and_answered_once() {
    let Rig {
        _dir,
        db,
        sim,
        store,
        stop,
        gw,
        mut events,
    } = Rig::start(
        SimOptions {
            seed: 11,
            per_minute: 0.0,
            burst: 0,
            limit: Some(1000),
            fail_rate: 0.10,
            rate_limit_rate: 0.10,
            ambiguous_rate: 0.02,
            ambiguous_delay: Duration::from_secs(3),
            ..SimOptions::default()
        },
        Duration::from_secs(1),
    )
    .await;
    let alarms = tokio::spawn(async move {
        let mut alarms = vec![];
        while let Some(e) = events.recv().await {
            if let GatewayEvent::Alarm(a) = e {
                alarms.push(a);
            }
        }
        alarms
    });

    // The cursor is sampled while traffic flows: it must never move back.
    let cursor_db = db.clone();
    let (cursor_stop_tx, cursor_stop) = watch::channel(false);
    let sampler = tokio::task::spawn_blocking(move || {
        let c = rusqlite::Connection::open(&cursor_db).unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        let mut last = 0i64;
        let mut samples = 0;
        while !*cursor_stop.borrow() {
            let cur: Option<String> = c
                .query_row("SELECT cursor FROM channel_cursor", [], |r| r.get(0))
                .ok();
            if let Some(v) = cur.and_then(|v| v.parse::<i64>().ok()) {
                assert!(v >= last, "cursor went back from {last} to {v}");
                last = v;
                samples += 1;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        samples
    });

    // Citizens write in waves while the gateway works.
    for _ in 0..10 {
        sim.generate(100);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let total = sim.updates().len();
    until(
        Duration::from_secs(120),
        "every update confirmed and stored",
        || {
            let s = sim.stats();
            s.updates_pending == 0
                && count(&db, "SELECT count(*) FROM inbound_event") as usize == total
        },
    )
    .await;

    // Operators answer some requests; one answer is long enough to need three parts.
    let page = store
        .inbox(Filter::default(), Sort::Received, None, 60)
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 60);
    let long = format!(
        "{} 😀 конец",
        "Ответ департамента: работы запланированы. ".repeat(250)
    );
    let mut replies = vec![];
    for (i, r) in page.rows.iter().enumerate() {
        let body = if i == 0 {
            long.clone()
        } else {
            format!("Обращение {} передано в службу, ответ {i}", r.number)
        };
        let op = Op::Reply {
            message_id: Uuid::now_v7(),
            body: body.clone(),
        };
        store
            .apply(Mutation::new(r.id, "anna", chrono::Utc::now(), op))
            .await
            .unwrap();
        replies.push((r.channel_ref.chat.clone().unwrap(), body));
    }
    until(Duration::from_secs(180), "the outbox to drain", || {
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')",
        ) == 0
    })
    .await;
    let _ = cursor_stop_tx.send(true);
    let samples = sampler.await.unwrap();
    assert!(
        samples > 10,
        "the cursor was observed moving ({samples} samples)"
    );
    let _ = stop.send(true);
    gw.await.unwrap().unwrap();
    let alarms = alarms.await.unwrap();
    assert!(alarms.is_empty(), "no alarms: {alarms:?}");

    // Every update stored exactly once, under its own id.
    let updates = sim.updates();
    let stored: HashSet<String> = {
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut st = c.prepare("SELECT external_id FROM inbound_event").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(stored.len(), updates.len());
    for u in &updates {
        assert!(
            stored.contains(&u.update_id.to_string()),
            "update {} stored",
            u.update_id
        );
    }
    // Each citizen message became exactly one request or one message of a request.
    let created = count(
        &db,
        "SELECT count(*) FROM inbound_event WHERE outcome = 'created'",
    );
    let appended = count(
        &db,
        "SELECT count(*) FROM inbound_event WHERE outcome = 'appended'",
    );
    let edited = count(
        &db,
        "SELECT count(*) FROM inbound_event WHERE outcome = 'edited'",
    );
    assert_eq!(created, count(&db, "SELECT count(*) FROM request"));
    assert_eq!(
        appended,
        count(
            &db,
            "SELECT count(*) FROM message WHERE direction = 'in' AND edit_of IS NULL"
        )
    );
    assert_eq!(
        edited,
        count(
            &db,
            "SELECT count(*) FROM message WHERE edit_of IS NOT NULL"
        )
    );
    assert!(
        created > 300 && appended > 50,
        "realistic mix: {created} created, {appended} appended"
    );
    let last_id = updates.iter().map(|u| u.update_id).max().unwrap();
    let cursor: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT cursor FROM channel_cursor", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cursor, (last_id + 1).to_string());

    // What the citizens received, per chat and text.
    let sent = sim.sent();
    let mut received: HashMap<(String, String), usize> = HashMap::new();
    for (chat, msgs) in &sent.chats {
        for m in msgs {
            *received.entry((chat.clone(), m.text.clone())).or_default() += 1;
        }
        for pair in msgs.windows(2) {
            let gap = pair[1].at - pair[0].at;
            assert!(
                gap >= ChronoDuration::milliseconds(900),
                "chat {chat}: two messages {gap} apart"
            );
        }
    }
    let c = rusqlite::Connection::open(&db).unwrap();
    let mut st = c
        .prepare("SELECT chat, body, state, request_rid IS NOT NULL FROM outbox")
        .unwrap();
    let rows: Vec<(String, String, String, bool)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut unknown = 0;
    for (chat, body, state, for_request) in &rows {
        let n = received
            .get(&(chat.clone(), body.clone()))
            .copied()
            .unwrap_or(0);
        match state.as_str() {
            // Acknowledgements and replies carry the request number: unique per chat.
            "sent" if *for_request => assert_eq!(n, 1, "sent once: {body:.60}"),
            "sent" => assert!(n >= 1),
            "unknown" => {
                unknown += 1;
                assert!(n <= 1, "an ambiguous send is never repeated: {body:.60}");
            }
            "failed" => assert!(*for_request || n == 0),
            other => panic!("outbox row left in {other}"),
        }
    }
    assert!(unknown > 0, "2% ambiguous sends produced some unknown rows");
    assert_eq!(
        unknown,
        sim.stats().send.ambiguous,
        "every ambiguous send, and only those, is unknown"
    );
    // The operators' replies all arrived, the long one in order, in parts Telegram accepts.
    for (chat, body) in &replies[1..] {
        let state: String = c
            .query_row(
                "SELECT state FROM outbox WHERE chat = ?1 AND body = ?2",
                [chat, body],
                |r| r.get(0),
            )
            .unwrap();
        if state == "sent" {
            assert_eq!(received.get(&(chat.clone(), body.clone())), Some(&1));
        }
    }
    let (long_chat, _) = &replies[0];
    let parts: Vec<(i64, String)> = c
        .prepare("SELECT part_no, state FROM outbox WHERE chat = ?1 AND parts > 1 ORDER BY part_no")
        .unwrap()
        .query_map([long_chat], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(parts.len(), 3, "10,000 characters need three parts");
    let texts: Vec<&str> = sent.chats[long_chat]
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    let joined: String = texts
        .iter()
        .filter(|t| t.contains("Ответ департамента"))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if parts.iter().all(|(_, s)| s == "sent") {
        assert_eq!(
            joined.split_whitespace().collect::<Vec<_>>(),
            long.split_whitespace().collect::<Vec<_>>()
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_updates_are_skipped_and_polling_goes_on() {
    use mcu_desk::demo::sim::MalformedKind;
    let rig = Rig::quiet().await;
    let (sim, db) = (&rig.sim, &rig.db);
    for kind in MalformedKind::ALL {
        sim.inject_malformed(kind);
    }
    sim.inject_raw(serde_json::json!({"message": {"message_id": 5, "chat": {"id": 77}, "date": "yesterday", "text": "x"}}));
    let last = sim.inject_text(4242, "После испорченных: яма на ул. Красной");
    until(
        Duration::from_secs(30),
        "the good message after the bad ones",
        || {
            count(
                db,
                "SELECT count(*) FROM request WHERE text LIKE 'После испорченных%'",
            ) == 1
        },
    )
    .await;
    let cursor: String = rusqlite::Connection::open(db)
        .unwrap()
        .query_row("SELECT cursor FROM channel_cursor", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cursor, (last + 1).to_string());
    assert!(
        count(
            db,
            "SELECT count(*) FROM inbound_event WHERE outcome = 'malformed'"
        ) >= 3
    );
    rig.finish().await;
}

/// `kill -9` of the `mcu gateway` process at random moments, 20 times, while citizens write
/// and the outbox sends: afterwards nothing is lost, nothing stored twice, no reply received
/// twice, and the interrupted sends are `unknown`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_twenty_times_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mcu.sqlite3");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::start(
        listener,
        SimOptions {
            seed: 5,
            per_minute: 0.0,
            burst: 0,
            limit: Some(600),
            latency: Duration::from_millis(20),
            ..SimOptions::default()
        },
    )
    .await
    .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[channels.telegram]\ntoken = \"{}\"\napi_url = \"{}\"\npoll_timeout_secs = 1\nsend_timeout_secs = 2\n[gateway]\nfiles_dir = \"{}\"\n",
            sim.token(),
            sim.api_url(),
            dir.path().join("files").display()
        ),
    )
    .unwrap();
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mcu"))
            .arg("--db")
            .arg(&db)
            .arg("--config")
            .arg(&config)
            .arg("gateway")
            .env_remove("MCU_DB")
            .env_remove("MCU_CONFIG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut rand_ms = |lo: u64, hi: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        lo + seed % (hi - lo)
    };
    for round in 0..20 {
        if round < 12 {
            sim.generate(50);
        }
        let mut child = start();
        tokio::time::sleep(Duration::from_millis(rand_ms(150, 900))).await;
        child.kill().unwrap(); // SIGKILL: no cleanup, no lease release
        child.wait().unwrap();
    }
    let mut child = start();
    let total = sim.updates().len();
    until(
        Duration::from_secs(120),
        "everything stored and sent after the kills",
        || {
            sim.stats().updates_pending == 0
                && count(&db, "SELECT count(*) FROM inbound_event") as usize == total
                && count(
                    &db,
                    "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')",
                ) == 0
        },
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();

    let updates = sim.updates();
    assert_eq!(
        count(&db, "SELECT count(*) FROM inbound_event") as usize,
        updates.len(),
        "each update stored once"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM inbound_event WHERE outcome = 'created'"
        ),
        count(&db, "SELECT count(*) FROM request")
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM inbound_event WHERE outcome = 'appended'"
        ),
        count(
            &db,
            "SELECT count(*) FROM message WHERE direction = 'in' AND edit_of IS NULL"
        )
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let cursor: String = c
        .query_row("SELECT cursor FROM channel_cursor", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        cursor,
        (updates.iter().map(|u| u.update_id).max().unwrap() + 1).to_string()
    );
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let sent = sim.sent();
    let mut received: HashMap<(String, String), usize> = HashMap::new();
    for (chat, msgs) in &sent.chats {
        for m in msgs {
            *received.entry((chat.clone(), m.text.clone())).or_default() += 1;
        }
    }
    let mut st = c
        .prepare("SELECT chat, body, state FROM outbox WHERE request_rid IS NOT NULL")
        .unwrap();
    let rows: Vec<(String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(rows.len() > 100);
    for (chat, body, state) in rows {
        let n = received.get(&(chat, body.clone())).copied().unwrap_or(0);
        match state.as_str() {
            "sent" => assert_eq!(n, 1, "sent exactly once: {body:.50}"),
            "unknown" => assert!(n <= 1, "interrupted send not repeated: {body:.50}"),
            other => panic!("unexpected outbox state {other}"),
        }
    }
    sim.shutdown().await;
}
