//! The real VK adapter and gateway against the simulator's VK mode, with faults (errors 6 and
//! 10, answers lost after a send, long polls failing 1, 2 and 3) and `kill -9` mid-send: every
//! citizen event stored once, every reply shown to the citizen once, none left `unknown`.

mod common;

use common::{count, env, options, until};
use mcu_desk::channels::gateway::{self, GatewayEvent};
use mcu_desk::channels::vk::{Vk, VkSettings, random_id};
use mcu_desk::demo::sim::{SimOptions, Simulator, VkSimOptions};
use mcu_desk::domain::mutation::{Mutation, Op};
use mcu_desk::store::{Filter, Sort, Store};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

async fn sim(vk: VkSimOptions, ambiguous_delay: Duration) -> Simulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start(
        listener,
        SimOptions {
            seed: 7,
            per_minute: 0.0,
            burst: 0,
            ambiguous_delay,
            vk,
            ..SimOptions::default()
        },
    )
    .await
    .unwrap()
}

fn stored_ids(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT external_id FROM inbound_event WHERE channel = 'vk'")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// How many of the simulator's events are not stored yet.
fn missing(sim: &Simulator, db: &Path) -> usize {
    let stored: HashSet<String> = stored_ids(db).into_iter().collect();
    sim.vk_events()
        .iter()
        .filter(|e| !stored.contains(&e.external_id))
        .count()
}

/// Every event the simulator made is stored under its id once; the only other rows are the
/// community's own messages, which a backfill reads back from the dialogs' history.
fn assert_stored_once(sim: &Simulator, db: &Path) {
    let made: HashSet<String> = sim.vk_events().into_iter().map(|e| e.external_id).collect();
    let stored = stored_ids(db);
    let unique: HashSet<String> = stored.iter().cloned().collect();
    assert_eq!(unique.len(), stored.len(), "each event stored once");
    let missing: Vec<_> = made.difference(&unique).collect();
    assert!(missing.is_empty(), "not stored: {missing:?}");
    let c = rusqlite::Connection::open(db).unwrap();
    for id in unique.difference(&made) {
        let outcome: String = c
            .query_row(
                "SELECT outcome FROM inbound_event WHERE channel = 'vk' AND external_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(outcome, "ignored", "stored but never made: {id}");
    }
    // Each citizen message became one request or one message of a request.
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM inbound_event WHERE channel = 'vk' AND outcome = 'created'"
        ),
        count(db, "SELECT count(*) FROM request WHERE channel = 'vk'")
    );
}

/// Every outbox part is `sent` and reached VK exactly once, under the random_id (or guid)
/// derived from its own id; returns how many parts there were.
fn assert_delivered_once(sim: &Simulator, db: &Path) -> usize {
    let log = sim.sent();
    let mut by_key: HashMap<(String, String), usize> = HashMap::new();
    let mut total = 0;
    for (chat, msgs) in &log.vk {
        for m in msgs {
            assert_eq!(m.channel, "vk");
            *by_key
                .entry((chat.clone(), m.random_id.clone()))
                .or_default() += 1;
            total += 1;
        }
    }
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT message_id, part_no, chat, body, state FROM outbox WHERE channel = 'vk'")
        .unwrap();
    let rows: Vec<(String, i64, String, String, String)> = st
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (message_id, part_no, chat, body, state) in &rows {
        assert_eq!(state, "sent", "part left {state}: {body:.60}");
        // Wall threads are `wall{owner}_{post}:{citizen}`; VK knows the post.
        let vk_chat = chat.split(':').next().unwrap().to_string();
        let rid = random_id(&format!("{message_id}:{part_no}")).to_string();
        let n = by_key.get(&(vk_chat.clone(), rid)).copied().unwrap_or(0);
        assert_eq!(n, 1, "{vk_chat}: received once: {body:.60}");
        let text_seen = log.vk[&vk_chat].iter().filter(|m| &m.text == body).count();
        assert!(text_seen >= 1, "the text arrived: {body:.60}");
    }
    assert_eq!(
        total,
        rows.len(),
        "VK shows nothing the outbox did not send"
    );
    rows.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vk_with_faults_and_failed_1_2_3_stores_once_and_delivers_once() {
    let sim = sim(
        VkSimOptions {
            failed_rate: 0.08,
            error_rate: 0.08,
            ambiguous_rate: 0.05,
            ..VkSimOptions::default()
        },
        Duration::from_secs(2),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mcu.sqlite3");
    let store = Store::open(&db, env()).await.unwrap();
    let vk = Arc::new(Vk::new(common::vk_settings(&sim, Duration::from_millis(700))).unwrap());
    let (tx, mut events) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let gw = tokio::spawn(gateway::run(
        store.clone(),
        vk,
        options(Some(dir.path().join("files"))),
        tx,
        stop_rx,
    ));
    let alarms = tokio::spawn(async move {
        let mut alarms = vec![];
        while let Some(e) = events.recv().await {
            if let GatewayEvent::Alarm(a) = e {
                alarms.push(a);
            }
        }
        alarms
    });
    // Waves of citizens, each followed by a forced failure of each kind. (Each backfill reads
    // every dialog active in the last minutes, paced as VK's limit asks: waves stay small.)
    for code in [1usize, 2, 3, 1, 3] {
        sim.vk_generate(25);
        let before = sim.vk_stats().failed[code - 1];
        sim.vk_fail_next(&[code as i64]);
        until(Duration::from_secs(60), "the forced failure taken", || {
            sim.vk_stats().failed[code - 1] > before
        })
        .await;
    }
    sim.vk_generate(25);
    until(Duration::from_secs(120), "every VK event stored", || {
        missing(&sim, &db) == 0
    })
    .await;
    let s = sim.vk_stats();
    assert!(
        s.failed.iter().all(|n| *n > 0),
        "failed 1, 2, 3 all seen: {s:?}"
    );
    assert!(s.dropped > 0, "the long poll lost events: {s:?}");
    assert!(s.backfill_calls > 0, "a backfill ran");

    // Operators answer; one answer needs two VK parts.
    let page = store
        .inbox(Filter::default(), Sort::Received, None, 40)
        .await
        .unwrap();
    assert!(page.rows.len() >= 30, "{} requests", page.rows.len());
    let long = "Ответ департамента: работы запланированы на эту неделю. ".repeat(200);
    for (i, r) in page.rows.iter().enumerate() {
        let body = if i == 0 {
            long.clone()
        } else {
            format!("Обращение {} передано в службу", r.number)
        };
        let op = Op::Reply {
            message_id: Uuid::now_v7(),
            body,
        };
        store
            .apply(Mutation::new(r.id, "anna", chrono::Utc::now(), op))
            .await
            .unwrap();
    }
    // Our own comments come back through the long poll too: wait for them as well.
    until(Duration::from_secs(180), "the VK outbox to drain", || {
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE channel = 'vk' AND state <> 'sent'",
        ) == 0
            && missing(&sim, &db) == 0
    })
    .await;
    let _ = stop.send(true);
    gw.await.unwrap().unwrap();
    let alarms = alarms.await.unwrap();
    assert!(alarms.is_empty(), "no alarms: {alarms:?}");

    assert_stored_once(&sim, &db);
    let parts = assert_delivered_once(&sim, &db);
    assert!(parts > 80, "acknowledgements and replies: {parts}");
    assert!(
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE channel = 'vk' AND parts = 2"
        ) == 2,
        "the long reply went in two parts"
    );
    assert!(
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE channel = 'vk' AND chat LIKE 'wall%'"
        ) > 0,
        "wall threads were answered with comments"
    );
    let s = sim.vk_stats();
    assert!(s.ambiguous > 0 && s.errors > 0, "faults happened: {s:?}");
    assert!(
        s.deduplicated > 0,
        "a send whose answer was lost was repeated and dropped by VK: {s:?}"
    );
    sim.shutdown().await;
}

/// A gateway process, SIGKILLed when the test is done with it or fails half-way (a panic must
/// not leave it polling).
struct Killed(std::process::Child);

impl Killed {
    fn kill9(&mut self) {
        // Child::kill is SIGKILL: no cleanup, no lease release.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `kill -9` of `mcu gateway` while VK holds a send it recorded: the next run sends the part
/// again with the same random_id, VK drops the repeat, the part ends `sent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vk_kill_9_mid_send_retries_with_the_same_random_id() {
    let sim = sim(VkSimOptions::default(), Duration::from_secs(30)).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mcu.sqlite3");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[channels.vk]\ntoken = \"{}\"\ngroup_id = {}\napi_url = \"{}\"\nwait_secs = 1\nsend_timeout_secs = 60\n[gateway]\nfiles_dir = \"{}\"\n",
            sim.vk_token(),
            sim.vk_group_id(),
            sim.vk_api_url(),
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
            .env_remove("MCU_CHANNELS_TELEGRAM_TOKEN")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(Killed)
            .unwrap()
    };
    const KILLS: usize = 6;
    // The first start begins at VK's present: citizens write once the gateway polls.
    let mut child = start();
    tokio::time::timeout(Duration::from_secs(60), sim.vk_polled(1))
        .await
        .expect("the gateway polls VK");
    for round in 0..KILLS {
        sim.vk_generate(15);
        if round % 2 == 1 {
            sim.vk_fail_next(&[[1, 2, 3][round / 2 % 3]]);
        }
        sim.vk_hold_sends(1);
        if round > 0 {
            child = start();
        }
        // The simulator says when it has recorded a send and is holding its answer.
        tokio::time::timeout(Duration::from_secs(60), sim.vk_held(round + 1))
            .await
            .expect("a send reached VK");
        child.kill9(); // the send's outcome is never recorded
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM outbox WHERE channel = 'vk' AND state = 'sending'"
            ),
            1,
            "round {round}: the killed gateway left its part mid-send"
        );
    }
    child = start();
    until(
        Duration::from_secs(120),
        "everything stored and sent after the kills",
        || {
            missing(&sim, &db) == 0
                && count(
                    &db,
                    "SELECT count(*) FROM outbox WHERE channel = 'vk' AND state <> 'sent'",
                ) == 0
        },
    )
    .await;
    child.kill9();

    assert_stored_once(&sim, &db);
    let parts = assert_delivered_once(&sim, &db);
    assert!(parts >= 60, "{parts} parts");
    assert!(
        sim.vk_stats().deduplicated >= KILLS,
        "each interrupted send was repeated and dropped by VK: {:?}",
        sim.vk_stats()
    );
    let ok: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    sim.shutdown().await;
}

/// A refused token stops polling with an alarm; a citizen who blocked the community makes the
/// reply fail for good and marks them unreachable (both awaited as the gateway's own events).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vk_refused_token_alarms_and_a_blocked_citizen_is_unreachable() {
    let sim = sim(VkSimOptions::default(), Duration::from_secs(2)).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mcu.sqlite3");
    let store = Store::open(&db, env()).await.unwrap();
    let adapter = |token: &str| {
        Arc::new(
            Vk::new(VkSettings {
                token: token.to_string(),
                ..common::vk_settings(&sim, Duration::from_secs(2))
            })
            .unwrap(),
        )
    };
    let opts = options(None);

    let (tx, mut events) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let gw = tokio::spawn(gateway::run(
        store.clone(),
        adapter("vk1.a.REVOKED"),
        opts.clone(),
        tx,
        stop_rx,
    ));
    let alarm = loop {
        match events
            .recv()
            .await
            .expect("an alarm before the stream ends")
        {
            GatewayEvent::Alarm(a) => break a,
            _ => continue,
        }
    };
    assert!(alarm.contains("VK error 5"), "{alarm}");
    assert!(
        !alarm.contains("REVOKED"),
        "the token is never shown: {alarm}"
    );
    let _ = stop.send(true);
    gw.await.unwrap().unwrap();

    let (tx, mut events) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let gw = tokio::spawn(gateway::run(
        store.clone(),
        adapter(sim.vk_token()),
        opts,
        tx,
        stop_rx,
    ));
    tokio::time::timeout(Duration::from_secs(30), sim.vk_polled(1))
        .await
        .expect("polling");
    sim.vk_inject_text(7001, "Не работает светофор на Красной");
    // The acknowledgement reaches the citizen…
    loop {
        if let GatewayEvent::Sent { chat, .. } = events.recv().await.unwrap()
            && chat == "7001"
        {
            break;
        }
    }
    // …who then blocks the community before the operator answers.
    sim.vk_block(7001, true);
    let page = store
        .inbox(Filter::default(), Sort::Received, None, 10)
        .await
        .unwrap();
    let op = Op::Reply {
        message_id: Uuid::now_v7(),
        body: "Передали в департамент транспорта".into(),
    };
    store
        .apply(Mutation::new(
            page.rows[0].id,
            "anna",
            chrono::Utc::now(),
            op,
        ))
        .await
        .unwrap();
    let reason = loop {
        if let GatewayEvent::Failed { chat, reason } = events.recv().await.unwrap()
            && chat == "7001"
        {
            break reason;
        }
    };
    assert!(reason.contains("901"), "{reason}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM unreachable WHERE channel = 'vk' AND chat = '7001'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE channel = 'vk' AND state = 'failed'"
        ),
        1
    );
    let _ = stop.send(true);
    gw.await.unwrap().unwrap();
    sim.shutdown().await;
}
