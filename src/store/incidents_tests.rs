//! A citizen writing again about their own open request, after the chat's join window, is
//! shown as the same case (`Detail::same_case_as`); about something else, or once the first is
//! closed, it is a case of its own.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::{Arc, Mutex};

use super::*;
use crate::domain::{Catalog, ClockPolicy};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    clock: Arc<Mutex<DateTime<Utc>>>,
    epoch: i64,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(Mutex::new(t0()));
        let c = clock.clone();
        let env = Env {
            catalog: Catalog::krasnodar(),
            policy: ClockPolicy::default(),
            journal: false,
            now: Arc::new(move || *c.lock().unwrap()),
        };
        let store = Store::open(&dir.path().join("a.sqlite3"), env)
            .await
            .unwrap();
        let epoch = test_intake::lease(&store).await;
        Fixture {
            _dir: dir,
            store,
            clock,
            epoch,
        }
    }

    /// A message from `chat` `hours` after t0; the number of the request it made, if new.
    async fn says(&self, chat: &str, message: &str, hours: i64, text: &str) -> Option<String> {
        let at = t0() + Duration::hours(hours);
        *self.clock.lock().unwrap() = at;
        test_intake::message(&self.store, self.epoch, (chat, message), at, text).await
    }
}

#[tokio::test]
async fn a_citizen_writing_again_days_later_is_the_same_case() {
    let f = Fixture::new().await;
    let first = f
        .says(
            "42",
            "1",
            0,
            "Прорвало трубу во дворе, вода заливает подвал",
        )
        .await
        .unwrap();
    // Two days later, past the join window: a request of its own, shown as the same case.
    let again = f
        .says(
            "42",
            "2",
            48,
            "Трубу так и не починили, подвал заливает водой",
        )
        .await
        .expect("a new request after the join window");
    assert_eq!(
        f.store
            .detail(&again)
            .await
            .unwrap()
            .same_case_as
            .as_deref(),
        Some(first.as_str())
    );
    assert_eq!(f.store.detail(&first).await.unwrap().same_case_as, None);
    // About something else: its own case.
    let other = f
        .says("42", "3", 96, "Не работает светофор на перекрёстке")
        .await
        .unwrap();
    assert_eq!(f.store.detail(&other).await.unwrap().same_case_as, None);
    // Someone else about the pipe: not a repeat (that is what incidents are for).
    let neighbour = f
        .says("77", "1", 49, "Прорвало трубу во дворе, заливает подвал")
        .await
        .unwrap();
    assert_eq!(f.store.detail(&neighbour).await.unwrap().same_case_as, None);
    // More than a week after the first: a new case.
    let late = f
        .says(
            "42",
            "4",
            24 * 8 + 100,
            "Опять прорвало трубу, подвал в воде",
        )
        .await
        .unwrap();
    assert_eq!(f.store.detail(&late).await.unwrap().same_case_as, None);
}

/// The dashboard counts an open incident once: its open members are in it, not beside it; it
/// says how many citizens the incident holds. Closed, its members count as what they are.
#[tokio::test]
async fn the_dashboard_counts_an_incident_once_with_its_citizens() {
    use crate::incidents::plan;
    let f = Fixture::new().await;
    let mut numbers = vec![];
    for (i, chat) in ["1", "2", "3"].iter().enumerate() {
        numbers.push(
            f.says(chat, "1", i as i64, "Прорвало трубу на ул. Красная, 122")
                .await
                .unwrap(),
        );
    }
    f.says("4", "1", 3, "Яма на дороге у школы").await.unwrap();
    let before = f.store.dashboard().await.unwrap();
    assert_eq!(before.dashboard.open(), 4);
    let mut members = vec![];
    for n in &numbers {
        members.push(f.store.resolve(n).await.unwrap());
    }
    let refs: Vec<&crate::domain::Request> = members.iter().collect();
    let (id, batch) = plan::confirm(&refs, "Прорыв", None, "lena", f.store.now()).unwrap();
    f.store
        .apply_batch(batch)
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let board = f.store.dashboard().await.unwrap();
    assert_eq!(board.dashboard.open(), 2, "the incident and the pothole");
    assert_eq!(board.incidents.len(), 1);
    assert_eq!(
        (board.incidents[0].members, board.incidents[0].citizens),
        (3, 3)
    );
    assert_eq!(board.incidents[0].id, id);
    // Closed with its members: nothing open of it is left to count.
    let incident = f.store.resolve(&id.to_string()).await.unwrap();
    let refs: Vec<&crate::domain::Request> = members.iter().collect();
    let close = plan::close(
        &incident,
        &refs,
        crate::domain::CloseReason::Resolved,
        None,
        "lena",
        f.store.now(),
    );
    f.store
        .apply_batch(close)
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let after = f.store.dashboard().await.unwrap();
    assert_eq!(after.dashboard.open(), 1);
    assert!(after.incidents.is_empty());
}

/// A new request's candidates come from the place index: the same house from three citizens
/// is a group, another house or the same citizen again is not, and a closed request leaves it.
#[tokio::test]
async fn a_new_requests_candidates_come_from_the_place_index() {
    let f = Fixture::new().await;
    let rules = crate::incidents::Rules::default();
    let a = f
        .says("1", "1", 0, "Прорвало трубу на ул. Красная, 122, вода")
        .await
        .unwrap();
    let b = f
        .says("2", "1", 1, "Вода из трубы, Красная ул 122, прорвало")
        .await
        .unwrap();
    assert_eq!(
        f.store.candidates_for(&b, rules.clone()).await.unwrap(),
        None
    );
    let other = f
        .says("3", "1", 2, "Прорвало трубу на ул. Красная, 124")
        .await
        .unwrap();
    assert_eq!(
        f.store.candidates_for(&other, rules.clone()).await.unwrap(),
        None
    );
    let c = f
        .says(
            "4",
            "1",
            3,
            "На красной улице, д. 122 прорвало трубу, вода течёт",
        )
        .await
        .unwrap();
    let mut found = f
        .store
        .candidates_for(&c, rules.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found[0], c);
    found.sort();
    let mut want = vec![a.clone(), b, c.clone()];
    want.sort();
    assert_eq!(found, want);
    let now = f.store.now();
    let m = crate::domain::mutation::Mutation::new(
        f.store.resolve(&a).await.unwrap().id,
        "lena",
        now,
        crate::domain::mutation::Op::Close {
            reason: crate::domain::CloseReason::Resolved,
        },
    );
    f.store.apply(m).await.unwrap();
    assert_eq!(f.store.candidates_for(&c, rules).await.unwrap(), None);
}

/// A new report that matches the open members of a confirmed incident is acknowledged with
/// the incident's number: the problem is known and being worked on. One elsewhere is not.
#[tokio::test]
async fn the_acknowledgement_says_a_known_problem_is_being_worked_on() {
    use crate::incidents::plan;
    let f = Fixture::new().await;
    let mut members = vec![];
    for (i, chat) in ["1", "2", "3"].iter().enumerate() {
        let n = f
            .says(
                chat,
                "1",
                i as i64,
                "Прорвало трубу на ул. Красная, 122, вода",
            )
            .await
            .unwrap();
        members.push(f.store.resolve(&n).await.unwrap());
    }
    let refs: Vec<&crate::domain::Request> = members.iter().collect();
    let (id, batch) = plan::confirm(&refs, "Прорыв", None, "lena", f.store.now()).unwrap();
    f.store
        .apply_batch(batch)
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let incident = f
        .store
        .resolve(&id.to_string())
        .await
        .unwrap()
        .number
        .to_string();
    let at = t0() + Duration::hours(4);
    *f.clock.lock().unwrap() = at;
    let known = test_intake::message_acknowledged(
        &f.store,
        f.epoch,
        ("4", "1"),
        at,
        "Вода из трубы течёт, Красная ул 122, прорвало",
    )
    .await
    .unwrap();
    let said = acknowledgement(&f.store, &known).await;
    assert!(said.contains("Об этой проблеме уже известно"), "{said}");
    assert!(said.contains(&incident), "{said}");
    let elsewhere = test_intake::message_acknowledged(
        &f.store,
        f.epoch,
        ("5", "1"),
        at,
        "Яма на дороге на ул. Северная, 7",
    )
    .await
    .unwrap();
    let said = acknowledgement(&f.store, &elsewhere).await;
    assert!(said.contains("зарегистрировано"), "{said}");
    assert!(!said.contains("известно"), "{said}");
}

/// What the center sent the citizen first on request `n`.
async fn acknowledgement(store: &Store, n: &str) -> String {
    let d = store.detail(n).await.unwrap();
    d.messages
        .iter()
        .find(|m| m.direction == crate::domain::request::Direction::Out)
        .map(|m| m.body.clone())
        .unwrap_or_default()
}
