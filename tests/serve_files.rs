//! A citizen's photo at every desk, through a real `mcu serve --channels telegram` on both
//! server stores: the server's gateway fetches it onto the server's disk, and a console on
//! another machine (where that path means nothing) gets the bytes from `/v1/files` into its
//! own cache. An operator of another city and a department the request is not forwarded to
//! are refused; the department gets it once the request is forwarded; the cache serves it
//! with the server gone.

mod common;

use std::time::Duration;

use mcu_desk::sync::files::{FetchError, FileLink, FileRef};

use common::{mcu_in, team_console as console, until};

const SCOPE: &str = "krasnodar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_reaches_a_console_on_another_machine_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    photo_at_every_desk(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_reaches_a_console_on_another_machine_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    photo_at_every_desk(db, tempfile::tempdir().unwrap()).await;
}

fn token_of(d: &std::path::Path, db: &str, args: &[&str]) -> String {
    let out = mcu_in(d, "server.toml")
        .args(["--db", db, "user", "add"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn photo_at_every_desk(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sim = common::three_channels_setup(d, SCOPE, "").await;
    let anna = common::add_account(d, &db, "anna", "operator");
    let oleg = token_of(d, &db, &["oleg", "--scope", "sochi"]);
    let economy = token_of(
        d,
        &db,
        &[
            "economy",
            "--role",
            "department",
            "--department",
            "city_economy",
        ],
    );
    sim.inject_photo(6001, Some("Прорвало трубу во дворе, ул. Мира 5"));
    let served = common::serve_telegram(d, &db);
    let base = served.base.clone();
    let listed = common::listed(d, &base, &anna, 1).await;
    let number = common::number_with(&listed, "трубу");
    let mut shown = serde_json::Value::Null;
    until(Duration::from_secs(40), "the photo fetched", || {
        console(d, &base, &anna, &["sync"]);
        shown = console(d, &base, &anna, &["show", &number]);
        shown["attachments"][0]["state"] == "stored"
    })
    .await;
    let on_server = shown["attachments"][0]["local_path"]
        .as_str()
        .expect("the server's path")
        .to_owned();
    let bytes = std::fs::read(&on_server).unwrap();
    assert!(bytes.len() > 100, "a real photo: {} bytes", bytes.len());

    // The console's machine has no such path: the same file name somewhere else.
    let name = std::path::Path::new(&on_server).file_name().unwrap();
    let photo = FileRef {
        number: number.clone(),
        n: 0,
        path: format!("/elsewhere/{}", name.to_string_lossy()),
    };
    let cache = tempfile::tempdir().unwrap();
    let link = |token: &str, scope: &str| {
        FileLink::new(&base, token, scope, cache.path().join("from-server")).unwrap()
    };
    let fetched = link(&anna, SCOPE).local(&photo).await.unwrap();
    assert!(fetched.starts_with(cache.path()), "{fetched:?}");
    assert_eq!(std::fs::read(&fetched).unwrap(), bytes);

    let missing = FileRef {
        n: 3,
        ..photo.clone()
    };
    let e = link(&anna, SCOPE).local(&missing).await.unwrap_err();
    assert_eq!(e, FetchError::NotFound);
    let oleg_cache = tempfile::tempdir().unwrap();
    let e = FileLink::new(&base, &oleg, SCOPE, oleg_cache.path().into())
        .unwrap()
        .local(&photo)
        .await
        .unwrap_err();
    assert_eq!(e, FetchError::Forbidden);

    // A department sees the photo of a request forwarded to it, and no other.
    let other_cache = tempfile::tempdir().unwrap();
    let economy_link = FileLink::new(&base, &economy, SCOPE, other_cache.path().into()).unwrap();
    let e = economy_link.local(&photo).await.unwrap_err();
    assert_eq!(e, FetchError::Forbidden);
    console(
        d,
        &base,
        &anna,
        &["forward", &number, "--department", "city_economy"],
    );
    until(Duration::from_secs(20), "the forward on the server", || {
        console(d, &base, &anna, &["sync"]);
        console(d, &base, &anna, &["show", &number])["department"] == "city_economy"
    })
    .await;
    let got = economy_link.local(&photo).await.unwrap();
    assert_eq!(std::fs::read(got).unwrap(), bytes);

    // Once fetched, the card's photo no longer needs the server.
    drop(served);
    let again = link(&anna, SCOPE).local(&photo).await.unwrap();
    assert_eq!(again, fetched);
}
