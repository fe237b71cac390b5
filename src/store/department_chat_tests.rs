//! The department's group, by the store's own clock: a forward is posted once, and the
//! group is reminded once when its answer turns due soon and once when it is late.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

use super::db::{self, Env};
use super::department_chat::sweep_forwards;
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::Channel;
use crate::domain::{Catalog, ClockPolicy};
use crate::templates::BotTexts;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
}

fn bodies(conn: &rusqlite::Connection, chat: &str) -> Vec<String> {
    let mut st = conn
        .prepare("SELECT body FROM outbox WHERE chat = ?1 ORDER BY id")
        .unwrap();
    st.query_map([chat], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_forward_is_posted_once_and_the_group_reminded_once_per_level() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db::open(&dir.path().join("t.sqlite3")).unwrap();
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(t0),
    };
    let chats = BTreeMap::from([("city_economy".to_string(), "-100".to_string())]);
    let texts = BotTexts::shipped("ru");
    // The first sweep only marks where posting starts.
    assert_eq!(
        sweep_forwards(&mut conn, &env, &chats, &texts, t0()).unwrap(),
        0
    );
    let mut new = NewRequest::new(Channel::Telegram, "Нет отопления в доме 7", t0());
    new.channel_ref.chat = Some("42".into());
    let id = Uuid::now_v7();
    db::apply(
        &mut conn,
        &env,
        &Mutation::new(id, "gw", t0(), Op::Create(Box::new(new))),
    )
    .unwrap();
    let forward = Op::Forward {
        department: Some("city_economy".into()),
        note_id: Uuid::now_v7(),
        note: None,
    };
    let r = db::apply(&mut conn, &env, &Mutation::new(id, "anna", t0(), forward))
        .unwrap()
        .request;
    let clock = r.department_clock.clone().unwrap();
    assert_eq!(
        sweep_forwards(&mut conn, &env, &chats, &texts, t0()).unwrap(),
        1
    );
    assert_eq!(
        sweep_forwards(&mut conn, &env, &chats, &texts, t0()).unwrap(),
        0
    );
    let at_risk = clock.at_risk_at + Duration::minutes(1);
    assert_eq!(
        sweep_forwards(&mut conn, &env, &chats, &texts, at_risk).unwrap(),
        1
    );
    assert_eq!(
        sweep_forwards(&mut conn, &env, &chats, &texts, at_risk).unwrap(),
        0
    );
    let late = clock.due + Duration::minutes(1);
    assert_eq!(
        sweep_forwards(&mut conn, &env, &chats, &texts, late).unwrap(),
        1
    );
    assert_eq!(
        sweep_forwards(&mut conn, &env, &chats, &texts, late + Duration::hours(5)).unwrap(),
        0
    );
    let said = bodies(&conn, "-100");
    assert_eq!(said.len(), 3, "{said:?}");
    assert!(said[0].contains("передано вам"), "{said:?}");
    assert!(said[1].contains("подходит"), "{said:?}");
    assert!(said[2].contains("истёк"), "{said:?}");
    assert!(said.iter().all(|b| b.contains(&r.number.to_string())));
}
