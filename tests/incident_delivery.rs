//! One answer to every member of an incident, through the real Telegram gateway against the
//! simulator: each citizen gets their own message (their own request number in it), a
//! citizen who blocked the bot is the one member left undelivered, listed on the incident's
//! card, and a member taken by phone has the answer on record.

mod common;

use std::time::Duration;

use common::{Rig, count, until};
use mcu_desk::domain::Request;
use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::incidents::plan;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_reaches_every_member_on_its_own_channel_and_the_failure_is_listed() {
    let rig = Rig::quiet().await;
    let (sim, db, store) = (&rig.sim, &rig.db, &rig.store);
    let chats = [501_i64, 502, 503];
    for (i, chat) in chats.iter().enumerate() {
        sim.inject_text(
            *chat,
            &format!("Прорвало трубу на ул. Красная, 122 (сообщение {i})"),
        );
    }
    until(Duration::from_secs(30), "three requests", || {
        count(
            db,
            "SELECT count(*) FROM request WHERE channel = 'telegram'",
        ) == 3
    })
    .await;
    // The acknowledgements go first, so what the citizen gets next is the answer.
    for chat in chats {
        rig.bot_said(chat, "").await;
    }
    let now = store.now();
    let phone = Mutation::new(
        uuid::Uuid::now_v7(),
        "anna",
        now,
        Op::Create(Box::new(NewRequest::new(
            mcu_desk::domain::Channel::Phone,
            "Звонок: прорвало трубу на Красной, 122",
            now,
        ))),
    );
    store
        .apply_batch(vec![phone])
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let page = store
        .inbox(
            mcu_desk::store::Filter::default(),
            mcu_desk::store::Sort::default(),
            None,
            50,
        )
        .await
        .unwrap();
    let mut ids: Vec<uuid::Uuid> = page.rows.iter().map(|r| r.id).collect();
    ids.sort();
    let members: Vec<Request> = store.requests_of(ids).await.unwrap();
    assert_eq!(members.len(), 4);
    let refs: Vec<&Request> = members.iter().collect();
    let (incident, batch) = plan::confirm(&refs, "Прорыв, Красная 122", None, "anna", now).unwrap();
    store.apply_batch(batch).await.map_err(|(_, e)| e).unwrap();

    sim.block(503, true);
    let incident = store.resolve(&incident.to_string()).await.unwrap();
    let members = store.incident_members(incident.id).await.unwrap();
    let refs: Vec<&Request> = members.iter().collect();
    let body = |r: &Request| format!("По обращению {}: бригада выехала", r.number);
    let started = std::time::Instant::now();
    store
        .apply_batch(plan::reply(&incident, &refs, &body, "anna", now))
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    eprintln!("the answer to 4 members queued in {:?}", started.elapsed());

    for (chat, r) in chats.iter().zip(&members).take(2) {
        assert_eq!(
            r.channel_ref.chat.as_deref(),
            Some(chat.to_string().as_str()),
            "members earliest first"
        );
        rig.bot_said(
            *chat,
            &format!("По обращению {}: бригада выехала", r.number),
        )
        .await;
    }
    let card = || async {
        store
            .detail(&incident.id.to_string())
            .await
            .unwrap()
            .members
    };
    let mut members_now = card().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while members_now
        .iter()
        .filter(|m| m.channel == "telegram")
        .any(|m| matches!(m.reply.as_deref(), Some("queued" | "sending")))
    {
        assert!(std::time::Instant::now() < deadline, "{members_now:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        members_now = card().await;
    }
    let states: Vec<(String, Option<String>)> = members_now
        .iter()
        .map(|m| (m.channel.clone(), m.reply.clone()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("telegram".into(), None),
            ("telegram".into(), None),
            ("telegram".into(), Some("failed".into())),
            ("phone".into(), None),
        ],
        "delivered replies leave no pending state; the blocked chat's failed"
    );
    assert!(
        rig.bot_messages(503)
            .iter()
            .all(|(_, t)| !t.contains("бригада"))
    );
    // The phone member has the answer on record, with its own number.
    let phone = store.detail(&members[3].id.to_string()).await.unwrap();
    assert!(
        phone
            .messages
            .iter()
            .any(|m| m.body == format!("По обращению {}: бригада выехала", members[3].number))
    );
    rig.finish().await;
}

/// The demo's staged burst pipe, sent by the simulator through the real gateway, forms one
/// candidate group of the citizens who reported it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_staged_incident_forms_a_candidate_group() {
    use mcu_desk::demo::sim::{SimOptions, staging::Staging};
    let rig = Rig::start(
        SimOptions {
            per_minute: 0.0,
            burst: 0,
            staging: Some(Staging {
                first_after: Duration::ZERO,
                every: Duration::from_secs(3600),
                telegram: true,
                vk: false,
                platform: false,
            }),
            ..SimOptions::default()
        },
        Duration::from_secs(2),
    )
    .await;
    let store = &rig.store;
    let mut groups = vec![];
    let deadline = std::time::Instant::now() + Duration::from_secs(150);
    while groups.is_empty() || count(&rig.db, "SELECT count(*) FROM request") < 7 {
        assert!(std::time::Instant::now() < deadline, "no group formed");
        tokio::time::sleep(Duration::from_millis(500)).await;
        groups = store
            .incident_candidates(mcu_desk::incidents::Rules::default())
            .await
            .unwrap();
    }
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert!(groups[0].citizens >= 3);
    assert_eq!(groups[0].topic, "utilities");
    rig.finish().await;
}
