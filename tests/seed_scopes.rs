//! A region's server keeps a file for new consoles per scope (city), not for its own scope
//! only (#20 item 5): each file holds its city and nothing of another, the server's own scope
//! keeps the path it was given, and a scope asked for after the start gets its file then.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::domain::{Catalog, Channel, ClockPolicy};
use mcu_desk::server::local::{Local, Shared};
use mcu_desk::server::seed::{Seed, Seeds};
use mcu_desk::server::sqlite::SqliteStore;
use mcu_desk::store::{Env, Store};
use mcu_desk::sync::client::sync_once;
use mcu_desk::testkit::contract::operator;

fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    }
}

/// A console of `scope` registers a call with `text` and syncs it to the server.
async fn push_one(dir: &Path, server: &Arc<Shared<SqliteStore>>, scope: &str, text: &str) {
    let c = Store::open(&dir.join(format!("console-{scope}.sqlite3")), env())
        .await
        .unwrap();
    let new = NewRequest::new(Channel::Phone, text, chrono::Utc::now());
    let m = Mutation::new(
        uuid::Uuid::now_v7(),
        "anna",
        chrono::Utc::now(),
        Op::Create(Box::new(new)),
    );
    c.apply(m).await.unwrap();
    let t = Local {
        server: server.clone(),
        who: operator("anna"),
    };
    let r = sync_once(&c, &t, scope).await.unwrap();
    assert_eq!(r.pushed, 1);
}

/// The texts of the requests in `seed`'s copy, once it has caught up.
async fn texts_in_copy(seed: &Seed, dir: &Path) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut file, _) = loop {
        if let Some(copy) = seed.copy().await.unwrap() {
            break copy;
        }
        assert!(
            Instant::now() < deadline,
            "{} never caught up",
            seed.scope()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut bytes = vec![];
    file.read_to_end(&mut bytes).unwrap();
    let path = dir.join(format!("copy-of-{}.sqlite3", seed.scope()));
    std::fs::write(&path, bytes).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut st = conn
        .prepare("SELECT text FROM request ORDER BY text")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scope_gets_its_own_copy_for_new_consoles() {
    let dir = tempfile::tempdir().unwrap();
    let server = Shared::new(SqliteStore::open(&dir.path().join("server.sqlite3")).unwrap());
    push_one(dir.path(), &server, "krasnodar", "Яма на Северной").await;
    push_one(dir.path(), &server, "sochi", "Не горит фонарь").await;

    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let home = dir.path().join("seed.sqlite3");
    let seeds = Seeds::new(
        server.clone(),
        "krasnodar",
        home.clone(),
        env(),
        Duration::from_millis(100),
        stop,
    );
    seeds.start_all(&["sochi".to_string()]).await.unwrap();

    let krasnodar = seeds.get("krasnodar").await.unwrap();
    let sochi = seeds.get("sochi").await.unwrap();
    assert_eq!(
        texts_in_copy(&krasnodar, dir.path()).await,
        ["Яма на Северной"]
    );
    assert_eq!(texts_in_copy(&sochi, dir.path()).await, ["Не горит фонарь"]);
    // The server's own scope keeps the file it was given; another's lies beside it.
    assert_eq!(seeds.file_of("krasnodar"), home);
    assert!(home.exists());
    assert!(seeds.file_of("sochi").exists());
    assert_ne!(seeds.file_of("sochi"), home);
    // A scope spelt with what a file name can't hold stays in the folder, and apart.
    let odd = seeds.file_of("a/../b");
    assert_eq!(odd.parent(), home.parent());
    assert_ne!(odd, seeds.file_of("a_.._b"));

    // A city whose first console comes after the start: its file is made when asked for.
    push_one(dir.path(), &server, "anapa", "Прорвало трубу").await;
    let anapa = seeds.get("anapa").await.unwrap();
    assert_eq!(texts_in_copy(&anapa, dir.path()).await, ["Прорвало трубу"]);
    let all: Vec<String> = seeds.all().await.iter().map(|s| s.scope().into()).collect();
    assert_eq!(all, ["anapa", "krasnodar", "sochi"]);
}
