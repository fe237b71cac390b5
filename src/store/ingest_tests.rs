//! The same channel update stored by two gateways (the old and the new holder of a lease)
//! becomes the very same actions, so the server keeps it once.

use chrono::{Duration, TimeZone, Utc};
use std::sync::Arc;

use super::db::{self, Env};
use super::ingest::{ClosedPolicy, IngestRules, Source, ingest};
use super::lease;
use crate::domain::{Catalog, Channel, ClockPolicy};
use crate::templates::BotTexts;
use crate::wire::intake::{Batch, Inbound, InboundEvent, IncomingMessage};

fn text(chat: &str, message: &str, body: &str, minute: u32) -> InboundEvent {
    InboundEvent {
        external_id: format!("{chat}{message}"),
        payload: "{}".into(),
        inbound: Inbound::Message(IncomingMessage {
            chat: chat.into(),
            message: message.into(),
            author: Some("Иван".into()),
            text: body.into(),
            attachments: vec![],
            location: None,
            reply_to: None,
            media_group: None,
            category: None,
            phone: None,
            at: Utc.with_ymd_and_hms(2026, 11, 30, 9, minute, 0).unwrap(),
            subject: None,
        }),
    }
}

fn edit(update: &str, chat: &str, message: &str, body: &str) -> InboundEvent {
    InboundEvent {
        external_id: update.into(),
        payload: "{}".into(),
        inbound: Inbound::Edit {
            chat: chat.into(),
            message: message.into(),
            text: body.into(),
            at: Utc.with_ymd_and_hms(2026, 11, 30, 9, 10, 0).unwrap(),
        },
    }
}

/// Stores the batches in a fresh file at `clock` and returns its journal and its ids.
fn store_at(dir: &std::path::Path, name: &str, clock: i64, batches: &[Batch]) -> Vec<String> {
    store_with(dir, name, clock, batches, true, &[])
}

fn store_with(
    dir: &std::path::Path,
    name: &str,
    clock: i64,
    batches: &[Batch],
    acknowledge: bool,
    topics: &[(&str, &str)],
) -> Vec<String> {
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 9, 30, 0).unwrap() + Duration::seconds(clock);
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: true,
        now: Arc::new(move || now),
    };
    let mut conn = db::open(&dir.join(name)).unwrap();
    let lease = "gateway:telegram:bot";
    let epoch = lease::acquire(
        &mut conn,
        lease,
        name,
        0,
        std::time::Duration::from_secs(15),
    )
    .unwrap()
    .unwrap();
    let src = Source {
        channel: Channel::Telegram,
        account: "bot",
        lease,
        epoch,
    };
    let rules = IngestRules {
        join_window: Duration::hours(24),
        closed_policy: ClosedPolicy::Reopen,
        reopen_window: Duration::days(7),
        texts: BotTexts::shipped("ru"),
        status_words: |s| s.as_str(),
        acknowledge,
        incidents: None,
        topics: topics
            .iter()
            .map(|(c, t)| (c.to_string(), t.to_string()))
            .collect(),
        departments: Default::default(),
        department_mail: Default::default(),
    };
    for b in batches {
        ingest(&mut conn, &env, &src, b, &rules).unwrap();
    }
    let mut st = conn
        .prepare(
            "SELECT mutation_uuid FROM pending_mutation
             UNION ALL SELECT id FROM request UNION ALL SELECT id FROM message ORDER BY 1",
        )
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn two_gateways_storing_one_update_make_the_same_actions() {
    let dir = tempfile::tempdir().unwrap();
    let batches = [
        Batch {
            events: vec![text("42", "1", "Нет воды", 0)],
            ..Batch::default()
        },
        Batch {
            events: vec![
                text("42", "2", "И света нет", 5),
                text("7", "1", "Яма на дороге", 6),
            ],
            ..Batch::default()
        },
        // Two edits of one message stamped with the same second are two edits.
        Batch {
            events: vec![
                edit("e1", "42", "2", "И света нет с утра"),
                edit("e2", "42", "2", "И света нет с 7 утра"),
            ],
            ..Batch::default()
        },
    ];
    let a = store_at(dir.path(), "a.sqlite3", 0, &batches);
    // The new holder stores the same updates seconds later, on its own file.
    let b = store_at(dir.path(), "b.sqlite3", 40, &batches);
    // Two requests, each with its creation and acknowledgement, one follow-up message, two
    // edits: seven actions, two request ids, five message ids.
    assert_eq!(a.len(), 7 + 2 + 5, "{a:?}");
    assert_eq!(a, b);
    // A different update is a different action.
    let other = store_at(
        dir.path(),
        "c.sqlite3",
        0,
        &[Batch {
            events: vec![text("42", "3", "Нет воды", 0)],
            ..Batch::default()
        }],
    );
    assert!(other.iter().all(|id| !a.contains(id)), "{other:?}");
}

#[test]
fn a_channel_that_takes_no_acknowledgement_gets_none() {
    let dir = tempfile::tempdir().unwrap();
    let batch = [Batch {
        events: vec![text("42", "1", "Нет воды", 0)],
        ..Batch::default()
    }];
    let with = store_with(dir.path(), "a.sqlite3", 0, &batch, true, &[]);
    let without = store_with(dir.path(), "b.sqlite3", 0, &batch, false, &[]);
    // With it: the creation, the acknowledgement, the request and the acknowledgement's
    // message. Without: the creation and the request alone, the same ones.
    assert_eq!(with.len(), 4, "{with:?}");
    assert_eq!(without.len(), 2, "{without:?}");
    assert!(without.iter().all(|id| with.contains(id)));
}

/// A platform's category becomes the request's topic: through `[channels.platform.topics]`,
/// or as itself when it is a catalog topic's id; one nobody mapped leaves the topic unset and
/// the request is made all the same.
#[test]
fn a_channels_category_is_the_topic_it_maps_to() {
    let dir = tempfile::tempdir().unwrap();
    let filed = |chat: &str, category: &str| {
        let mut e = text(chat, "1", "Обращение с портала", 1);
        if let Inbound::Message(m) = &mut e.inbound {
            m.category = Some(category.into());
        }
        e
    };
    let batch = [Batch {
        events: vec![
            filed("p1", "Дороги и тротуары"),
            filed("p2", "waste"),
            filed("p3", "Неизвестная категория"),
        ],
        ..Batch::default()
    }];
    store_with(
        dir.path(),
        "a.sqlite3",
        0,
        &batch,
        false,
        &[("Дороги и тротуары", "roads")],
    );
    let conn = db::open(&dir.path().join("a.sqlite3")).unwrap();
    let topic = |chat: &str| -> (Option<String>, Option<String>) {
        conn.query_row(
            "SELECT topic, department FROM request WHERE chat_ref = ?1",
            [chat],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(topic("p1").0.as_deref(), Some("roads"));
    assert!(topic("p1").1.is_some(), "the department follows the topic");
    assert_eq!(topic("p2").0.as_deref(), Some("waste"));
    assert_eq!(topic("p3"), (None, None));
}
