//! The department's group and mailbox, by the store's own clock: a forward is posted (and
//! mailed) once, and the department is reminded once when its answer turns due soon and once
//! when it is late, on each way it is reached.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

use super::db::{self, Env};
use super::department_chat::sweep;
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
    let said = reminded_once_per_level(Channel::Telegram, "-100");
    assert!(said[0].contains("передано вам"), "{said:?}");
}

#[test]
fn a_forward_is_mailed_once_with_its_number_in_the_subject_and_reminded_once_per_level() {
    let said = reminded_once_per_level(Channel::Email, "dispatch@city.example");
    for body in &said {
        let (subject, _) = crate::wire::mail::parse(body);
        let subject = subject.unwrap_or_default();
        assert!(
            subject.starts_with("[МЦУ 2026-") && subject.ends_with("] Нет отопления в доме 7"),
            "{subject}"
        );
    }
    assert!(said[0].contains("Здравствуйте!") && said[0].contains("ответьте на это письмо"));
    assert!(
        said[0].contains("Текст обращения:\nНет отопления в доме 7"),
        "{}",
        said[0]
    );
    assert!(
        !said[0].contains("+7918") && !said[0].contains("Вера"),
        "the citizen and their phone are not the department's"
    );
}

/// Forwards one request, sweeps through its department clock's levels; what was queued.
fn reminded_once_per_level(channel: Channel, chat: &str) -> Vec<String> {
    let sweep_forwards =
        |conn: &mut rusqlite::Connection,
         env: &Env,
         chats: &BTreeMap<String, String>,
         texts: &BotTexts,
         now: DateTime<Utc>| { sweep(conn, env, channel, chats, texts, now) };
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db::open(&dir.path().join("t.sqlite3")).unwrap();
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(t0),
    };
    let chats = BTreeMap::from([("city_economy".to_string(), chat.to_string())]);
    let texts = BotTexts::shipped("ru");
    // The first sweep only marks where posting starts.
    assert_eq!(
        sweep_forwards(&mut conn, &env, &chats, &texts, t0()).unwrap(),
        0
    );
    let mut new = NewRequest::new(Channel::Telegram, "Нет отопления в доме 7", t0());
    new.channel_ref.chat = Some("42".into());
    new.citizen = Some("Вера Петрова".into());
    new.phone = Some("+79181112233".into());
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
    let said = bodies(&conn, chat);
    assert_eq!(said.len(), 3, "{said:?}");
    assert!(said[1].contains("подходит"), "{said:?}");
    assert!(said[2].contains("истёк"), "{said:?}");
    assert!(said.iter().all(|b| b.contains(&r.number.to_string())));
    said
}
