//! The citizen's other requests on the card: by the Telegram chat, by the phone in any form it
//! was typed, newest first, never the request itself; a search for the number in any form
//! finds them; a number that is no number is refused where it enters; both reads use an index.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::{Arc, Mutex};

use super::*;
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::{Catalog, Channel, ClockPolicy, Rejection};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

async fn open(dir: &std::path::Path) -> (Store, Arc<Mutex<DateTime<Utc>>>) {
    let clock = Arc::new(Mutex::new(t0()));
    let c = clock.clone();
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(move || *c.lock().unwrap()),
    };
    (
        Store::open(&dir.join("a.sqlite3"), env).await.unwrap(),
        clock,
    )
}

/// A call typed in `hours` after t0 with `phone`: its number, or why it was refused.
async fn call(store: &Store, hours: i64, phone: &str, text: &str) -> Result<String, StoreError> {
    let at = t0() + Duration::hours(hours);
    let new = NewRequest {
        phone: Some(phone.into()),
        ..NewRequest::new(Channel::Phone, text, at)
    };
    let m = Mutation::new(uuid::Uuid::now_v7(), "anna", at, Op::Create(Box::new(new)));
    Ok(store.apply(m).await?.request.number.to_string())
}

fn numbers(d: &Detail) -> Vec<&str> {
    d.citizen_requests
        .iter()
        .map(|c| c.number.as_str())
        .collect()
}

#[tokio::test]
async fn the_card_lists_the_citizens_other_requests_by_chat_and_by_phone() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = open(dir.path()).await;
    let epoch = test_intake::lease(&store).await;
    let mut said = vec![];
    for (n, hours, text) in [
        ("1", 0, "Прорвало трубу во дворе"),
        ("2", 48, "Не вывезли мусор"),
        ("3", 96, "Яма на дороге у школы"),
    ] {
        let at = t0() + Duration::hours(hours);
        *clock.lock().unwrap() = at;
        said.push(
            test_intake::message(&store, epoch, ("42", n), at, text)
                .await
                .expect("a request of its own, past the join window"),
        );
    }
    *clock.lock().unwrap() = t0() + Duration::hours(100);
    test_intake::message(
        &store,
        epoch,
        ("77", "1"),
        t0() + Duration::hours(99),
        "Другой",
    )
    .await
    .unwrap();
    let newest = store.detail(&said[2]).await.unwrap();
    assert_eq!(numbers(&newest), [said[1].as_str(), said[0].as_str()]);
    let oldest = store.detail(&said[0]).await.unwrap();
    assert_eq!(numbers(&oldest), [said[2].as_str(), said[1].as_str()]);
    assert_eq!(oldest.citizen_requests[0].status, "new");

    // By phone, however it was typed; another number is another citizen.
    let a = call(&store, 1, "8 918 111-22-33", "Звонок: нет воды")
        .await
        .unwrap();
    let b = call(&store, 2, "+79181112233", "Звонок: воды всё ещё нет")
        .await
        .unwrap();
    call(&store, 3, "+7 918 999-00-00", "Звонок: другой")
        .await
        .unwrap();
    let d = store.detail(&b).await.unwrap();
    assert_eq!(d.request.phone.as_deref(), Some("+79181112233"));
    assert_eq!(numbers(&d), [a.as_str()]);

    // The search line finds both by the number in any form.
    for typed in ["89181112233", "+7 (918) 111-22-33", "9181112233"] {
        let page = store
            .inbox(
                Filter {
                    text: Some(typed.into()),
                    ..Default::default()
                },
                Sort::Received,
                None,
                50,
            )
            .await
            .unwrap();
        let found: Vec<String> = page.rows.iter().map(|r| r.number.to_string()).collect();
        assert_eq!(found, [b.clone(), a.clone()], "{typed}");
    }

    // A number that is no number is refused where it enters, and nothing is made.
    match call(&store, 4, "позвоните мне", "Звонок").await {
        Err(StoreError::Rejected(Rejection::OutOfRange { field, .. })) => {
            assert_eq!(field, "phone")
        }
        other => panic!("{other:?}"),
    }

    // Both reads are an index's, not a scan.
    let conn = db::open(&dir.path().join("a.sqlite3")).unwrap();
    let plan = citizen::plan(&conn).unwrap();
    assert!(plan[0].contains("INDEX request_chat"), "{plan:?}");
    assert!(plan[1].contains("INDEX request_phone"), "{plan:?}");
}
