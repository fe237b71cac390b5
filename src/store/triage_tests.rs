//! Triage in the store: the cold start on the catalog's keywords, a suggestion kept as the
//! request changes, training that repeats exactly whatever the history's order, retraining
//! that leaves the store's thread free, and the model surviving a reopen.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;
use uuid::Uuid;

use super::*;
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::Channel;
use crate::domain::{Catalog, ClockPolicy, Status};
use crate::triage::{Method, Settings};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
}

async fn open(dir: &tempfile::TempDir, name: &str) -> Store {
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(t0),
    };
    Store::open(&dir.path().join(name), env).await.unwrap()
}

async fn new_request(store: &Store, text: &str) -> String {
    let m = Mutation::new(
        Uuid::now_v7(),
        "anna",
        t0(),
        Op::Create(Box::new(NewRequest::new(Channel::Telegram, text, t0()))),
    );
    store.apply(m).await.unwrap().request.number.to_string()
}

/// Closed, tagged requests as an old system would export them.
fn labelled(n: usize) -> Vec<Mutation> {
    const KINDS: &[(&str, &str, &[&str])] = &[
        (
            "utilities",
            "city_economy",
            &[
                "Прорвало трубу в подвале дома",
                "Нет горячей воды в квартире",
                "Течёт батарея отопления в подъезде",
            ],
        ),
        (
            "roads",
            "transport_roads",
            &[
                "Глубокая яма на дороге у дома",
                "Разбитый асфальт на проезжей части",
                "Не работает светофор на перекрёстке",
            ],
        ),
        (
            "transport",
            "transport_roads",
            &[
                "Автобус не пришёл по расписанию",
                "В автобусе не работает кондиционер",
                "Водитель маршрутки грубит пассажирам",
            ],
        ),
        (
            "waste",
            "city_economy",
            &[
                "Не вывозят мусор с площадки",
                "Переполнены мусорные контейнеры",
                "Стихийная свалка мусора во дворе",
            ],
        ),
    ];
    (0..n)
        .map(|i| {
            let (topic, department, texts) = KINDS[i % KINDS.len()];
            let text = format!(
                "{} номер {}",
                texts[(i / KINDS.len()) % texts.len()],
                i % 37
            );
            let at = t0() - Duration::days(30) + Duration::minutes(i as i64);
            let new = NewRequest {
                topic: Some(topic.into()),
                department: Some(department.into()),
                status: Some(Status::Closed),
                close_reason: Some(crate::domain::CloseReason::Resolved),
                closed_at: Some(at + Duration::hours(2)),
                external_id: Some(format!("old-{i}")),
                ..NewRequest::new(Channel::Phone, &text, at)
            };
            Mutation::new(Uuid::now_v7(), "import", at, Op::Create(Box::new(new)))
        })
        .collect()
}

#[tokio::test]
async fn a_new_city_gets_suggestions_from_the_catalogs_keywords() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.sqlite3").await;
    assert_eq!(
        store.triage_status().await.unwrap().unwrap().method,
        Method::Keywords
    );
    let n = new_request(&store, "Прорвало трубу, вода течёт по подъезду").await;
    let s = store
        .detail(&n)
        .await
        .unwrap()
        .suggestion
        .expect("a suggestion");
    assert_eq!(s.topic, "utilities");
    assert_eq!(s.department.as_deref(), Some("city_economy"));
    // Nothing in it to go on: no suggestion rather than a guess.
    let n = new_request(&store, "Здравствуйте").await;
    assert!(store.detail(&n).await.unwrap().suggestion.is_none());
}

#[tokio::test]
async fn a_suggestion_goes_once_the_operator_sets_the_topic() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.sqlite3").await;
    let n = new_request(&store, "Яма на дороге, асфальт разбит").await;
    let filter = |t: &str| Filter {
        suggested: Some(t.into()),
        ..Default::default()
    };
    let page = store
        .inbox(filter("roads"), Sort::TimeLeft, None, 50)
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.suggested[&page.rows[0].id].topic, "roads");
    let r = store.resolve(&n).await.unwrap();
    store
        .apply(Mutation::new(
            r.id,
            "anna",
            t0(),
            Op::SetTopic {
                topic: Some("urban".into()),
                department_follows: true,
            },
        ))
        .await
        .unwrap();
    assert!(store.detail(&n).await.unwrap().suggestion.is_none());
    let page = store
        .inbox(filter("roads"), Sort::TimeLeft, None, 50)
        .await
        .unwrap();
    assert!(page.rows.is_empty() && page.suggested.is_empty());
}

#[tokio::test]
async fn the_same_history_trains_the_same_model_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (open(&dir, "a.sqlite3").await, open(&dir, "b.sqlite3").await);
    let history = labelled(80);
    let mut reversed = history.clone();
    reversed.reverse();
    a.apply_batch(history).await.unwrap();
    b.apply_batch(reversed).await.unwrap();
    let settings = Settings::default();
    let sa = a
        .retrain_triage(&settings, false)
        .await
        .unwrap()
        .expect("due");
    let sb = b
        .retrain_triage(&settings, false)
        .await
        .unwrap()
        .expect("due");
    assert_eq!(sa.method, Method::Bayes);
    assert_eq!(
        (sa.version.clone(), sa.labels),
        (sb.version.clone(), sb.labels)
    );
    let text = "Опять не вывозят мусор, контейнеры переполнены";
    let (na, nb) = (new_request(&a, text).await, new_request(&b, text).await);
    let (x, y) = (
        a.detail(&na).await.unwrap().suggestion.unwrap(),
        b.detail(&nb).await.unwrap().suggestion.unwrap(),
    );
    assert_eq!(x, y);
    assert_eq!(x.topic, "waste");
    assert_eq!(x.model_version, sa.version);
    // Nothing new since: nothing due.
    assert!(a.retrain_triage(&settings, false).await.unwrap().is_none());
    // Reopened, the file suggests with the model it trained.
    drop(a);
    let a = open(&dir, "a.sqlite3").await;
    assert_eq!(
        a.triage_status().await.unwrap().unwrap().version,
        sa.version
    );
}

#[tokio::test]
async fn training_leaves_the_stores_thread_free_and_rescores_open_requests() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.sqlite3").await;
    let waiting = new_request(&store, "Водитель автобуса грубит пассажирам").await;
    store.apply_batch(labelled(400)).await.unwrap();
    let job = store
        .triage_job(&Settings::default(), false)
        .await
        .unwrap()
        .expect("400 labels make a retrain due");
    assert_eq!(job.labels(), 400);
    // The store takes requests while the job is out: training holds nothing of it.
    let meanwhile = new_request(&store, "Яма на дороге").await;
    let trained = std::thread::spawn(move || job.run()).join().unwrap();
    let status = store.install_triage(trained).await.unwrap().unwrap();
    assert_eq!(status.method, Method::Svm);
    // Requests already waiting were scored again with the new model.
    for (n, topic) in [(&waiting, "transport"), (&meanwhile, "roads")] {
        let s = store.detail(n).await.unwrap().suggestion.unwrap();
        assert_eq!(s.model_version, status.version);
        assert_eq!(s.topic, topic);
        assert!(s.probability > 0.5, "{s:?}");
    }
}

#[tokio::test]
async fn a_confident_suggestion_applies_itself_at_intake_audited_as_the_models() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.sqlite3").await;
    store.apply_batch(labelled(400)).await.unwrap();
    let trained = store
        .retrain_triage(&Settings::default(), false)
        .await
        .unwrap()
        .unwrap();
    let epoch = super::test_intake::lease(&store).await;
    let ingest = |store: Store, chat: &'static str, text: &'static str| async move {
        super::test_intake::message(&store, epoch, (chat, "1"), t0(), text)
            .await
            .unwrap()
    };
    // Off by default: suggested only.
    let n = ingest(
        store.clone(),
        "1",
        "Переполнены мусорные контейнеры во дворе",
    )
    .await;
    let d = store.detail(&n).await.unwrap();
    assert_eq!(d.request.topic, None);
    assert_eq!(d.suggestion.unwrap().topic, "waste");
    store
        .configure_triage(Settings {
            auto_apply_above: Some(0.6),
            ..Settings::default()
        })
        .await
        .unwrap();
    let n = ingest(store.clone(), "2", "Переполнены мусорные контейнеры у дома").await;
    let d = store.detail(&n).await.unwrap();
    assert_eq!(d.request.topic.as_deref(), Some("waste"));
    assert_eq!(d.request.department.as_deref(), Some("city_economy"));
    assert!(d.suggestion.is_none());
    let by_model: Vec<&crate::domain::request::Event> =
        d.events.iter().filter(|e| e.field == "topic").collect();
    assert_eq!(by_model.len(), 1, "{:?}", d.events);
    assert!(
        by_model[0]
            .actor
            .starts_with(&format!("triage {} ", trained.version)),
        "{}",
        by_model[0].actor
    );
    assert!(by_model[0].actor.ends_with('%'));
}

/// A long history is learnt from its newest labels only, in a fixed order: a console that
/// imported a million closed requests never holds them all to train.
#[tokio::test]
async fn a_long_history_trains_on_its_newest_labels() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.sqlite3").await;
    store
        .apply_batch(labelled(10))
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let path = dir.path().join("a.sqlite3");
    let conn = super::db::open(&path).unwrap();
    let newest = super::triage::newest_labels(&conn, 3).unwrap();
    // `labelled` closes request i at minute i: the newest three are 7, 8 and 9.
    let texts: Vec<&str> = newest.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts.len(), 3);
    for (text, i) in texts.iter().zip([7, 8, 9]) {
        assert!(text.ends_with(&format!("номер {i}")), "{texts:?}");
    }
    assert_eq!(super::triage::labels(&conn).unwrap().len(), 10);
}
