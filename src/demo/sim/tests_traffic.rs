//! Generated citizen traffic and malformed updates, read back through getUpdates as a client would.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use reqwest::StatusCode;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::tests::{Bot, GUARD, ids, quiet, sim};
use super::*;

/// Reads and confirms everything queued, 100 at a time.
async fn drain(bot: &Bot, offset: &mut i64) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let (status, v) = bot.call("getUpdates", json!({"offset": *offset})).await;
        assert_eq!(status, StatusCode::OK);
        let batch = v["result"].as_array().cloned().unwrap_or_default();
        let Some(last) = batch.last().and_then(|u| u["update_id"].as_i64()) else {
            return all;
        };
        *offset = last + 1;
        all.extend(batch);
    }
}

fn has_cyrillic(s: &str) -> bool {
    s.chars()
        .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c)))
}

/// Names the shape of one update the way an adapter has to tell them apart.
fn classify(u: &Value, requested: &mut BTreeSet<i64>, kinds: &mut BTreeMap<&'static str, usize>) {
    let mut add = |k: &'static str| *kinds.entry(k).or_default() += 1;
    if let Some(m) = u.get("edited_message") {
        assert!(m["edit_date"].as_i64() >= m["date"].as_i64(), "{m}");
        return add("edited_message");
    }
    let m = &u["message"];
    let chat = m["chat"]["id"].as_i64().expect("chat id");
    assert_eq!(m["chat"]["type"], "private");
    assert_eq!(
        m["from"]["id"].as_i64(),
        Some(chat),
        "private chat id = user id"
    );
    let text = m["text"].as_str().unwrap_or("");
    if m["reply_to_message"]["from"]["is_bot"] == true {
        add("reply_to_bot");
    }
    if m.get("media_group_id").is_some() {
        add("media_group");
    } else if m.get("photo").is_some() && m.get("caption").is_some() {
        add("photo_caption");
    } else if m.get("venue").is_some() {
        assert_eq!(m["venue"]["location"], m["location"]);
        add("venue");
    } else if m.get("location").is_some() {
        let lat = m["location"]["latitude"].as_f64().unwrap_or(0.0);
        assert!((44.9..45.2).contains(&lat), "Krasnodar: {lat}");
        add("location");
    } else if m.get("contact").is_some() {
        assert_eq!(m["contact"]["user_id"].as_i64(), Some(chat));
        add("contact");
    } else if m.get("document").is_some() {
        assert_eq!(m["document"]["mime_type"], "application/pdf");
        add("document");
    } else if text == "/start" {
        add("start");
    } else if text.starts_with("/status 2026-") {
        assert_eq!(
            m["entities"][0],
            json!({"type": "bot_command", "offset": 0, "length": 7})
        );
        add("status");
    } else if requested.contains(&chat) && !text.is_empty() {
        add("follow_up");
    } else if has_cyrillic(text) {
        add("text");
    }
    if !text.starts_with('/') {
        requested.insert(chat);
    }
}

#[tokio::test]
async fn generated_traffic_contains_every_kind_of_message() {
    let sim = sim(SimOptions { seed: 7, ..quiet() }).await;
    let bot = Bot::new(&sim);
    let mut offset = 0;
    assert_eq!(sim.generate(250), 250);
    let mut updates = drain(&bot, &mut offset).await;
    // The bot answers everyone once, so later follow-ups can reply to its messages.
    let chats: BTreeSet<i64> = updates
        .iter()
        .filter_map(|u| u["message"]["chat"]["id"].as_i64())
        .collect();
    for chat in &chats {
        assert_eq!(
            bot.send(*chat, "Заявка зарегистрирована").await.0,
            StatusCode::OK
        );
    }
    assert_eq!(sim.generate(250), 250);
    updates.extend(drain(&bot, &mut offset).await);
    assert_eq!(sim.stats().citizen_messages, 500);

    let (mut requested, mut kinds) = (BTreeSet::new(), BTreeMap::new());
    for u in &updates {
        classify(u, &mut requested, &mut kinds);
    }
    for kind in [
        "text",
        "photo_caption",
        "media_group",
        "location",
        "venue",
        "contact",
        "document",
        "start",
        "status",
        "follow_up",
        "reply_to_bot",
        "edited_message",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} in {kinds:?}"
        );
    }

    // Albums: 2–3 consecutive updates sharing the id, the caption on the first only.
    let mut albums: HashMap<String, Vec<&Value>> = HashMap::new();
    for u in &updates {
        if let Some(g) = u["message"]["media_group_id"].as_str() {
            albums.entry(g.to_owned()).or_default().push(u);
        }
    }
    for album in albums.values() {
        assert!((2..=3).contains(&album.len()));
        let ids: Vec<_> = album
            .iter()
            .filter_map(|u| u["update_id"].as_i64())
            .collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
        assert!(album[0]["message"]["caption"].is_string());
        assert!(
            album[1..]
                .iter()
                .all(|u| u["message"].get("caption").is_none())
        );
    }
    // Photo sizes grow; message ids grow per chat; some scans are too big to download.
    let mut last_id: HashMap<i64, i64> = HashMap::new();
    let mut too_big = 0;
    for m in updates.iter().filter_map(|u| u.get("message")) {
        if let Some(sizes) = m["photo"].as_array() {
            assert!((1..=3).contains(&sizes.len()));
            let bytes: Vec<_> = sizes
                .iter()
                .filter_map(|s| s["file_size"].as_u64())
                .collect();
            assert!(bytes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
        }
        if m["document"]["file_size"].as_u64() > Some(20 * 1024 * 1024) {
            too_big += 1;
        }
        let (chat, id) = (m["chat"]["id"].as_i64(), m["message_id"].as_i64());
        if let (Some(chat), Some(id)) = (chat, id) {
            let prev = last_id.insert(chat, id);
            assert!(
                prev.is_none_or(|p| p < id),
                "chat {chat}: {prev:?} then {id}"
            );
        }
    }
    assert!(too_big > 0, "no document over 20 MB");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_same_seed_gives_the_same_traffic() {
    let strip_dates = |mut v: Value| {
        fn walk(v: &mut Value) {
            match v {
                Value::Object(o) => {
                    o.remove("date");
                    o.remove("edit_date");
                    o.values_mut().for_each(walk);
                }
                Value::Array(a) => a.iter_mut().for_each(walk),
                _ => {}
            }
        }
        walk(&mut v);
        v
    };
    let mut runs = Vec::new();
    for seed in [42, 42, 43] {
        let sim = sim(SimOptions {
            seed,
            burst: 120,
            ..quiet()
        })
        .await;
        let got = Bot::new(&sim).call("getUpdates", json!({})).await.1;
        runs.push((sim.updates(), strip_dates(got)));
        sim.shutdown().await;
    }
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0].0, runs[2].0);
}

#[tokio::test]
async fn malformed_updates_are_served_verbatim_without_breaking_the_queue() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    for kind in MalformedKind::ALL {
        sim.inject_malformed(kind);
    }
    let raw_id = sim.inject_raw(json!({"update_id": 1, "message": {"text": 5}}));
    let normal = sim.inject_text(5, "Обычное сообщение после странных");

    let resp = bot
        .client
        .get(format!("{}/getUpdates", bot.base))
        .send()
        .await
        .expect("get");
    let bytes = resp.bytes().await.expect("bytes");
    assert!(
        bytes.windows(6).any(|w| w == br"\ud800"),
        "lone surrogate escape served as is"
    );
    assert!(
        serde_json::from_slice::<Value>(&bytes).is_err(),
        "a strict parser rejects the whole batch"
    );
    // What a client can do instead: split the batch raw, then parse update by update.
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        result: Vec<&'a RawValue>,
    }
    let envelope: Envelope = serde_json::from_slice(&bytes).expect("raw envelope");
    let parsed: Vec<Result<Value, _>> = envelope
        .result
        .iter()
        .map(|r| serde_json::from_str::<Value>(r.get()))
        .collect();
    assert_eq!(parsed.len(), 7);
    assert_eq!(parsed.iter().filter(|p| p.is_err()).count(), 1);
    let ok: Vec<Value> = parsed.into_iter().filter_map(Result::ok).collect();
    let m = |i: usize| &ok[i]["message"];
    assert!(m(0).get("chat").is_none() && m(0)["text"].is_string());
    assert!(m(1)["text"].is_number());
    assert!(m(2)["message_id"].is_string());
    assert!(m(3)["text"].as_str().map_or(0, str::len) >= 1024 * 1024);
    assert_eq!(ok[4], json!({"update_id": raw_id, "message": {"text": 5}}));
    assert_eq!(ok[5]["update_id"], normal);
    assert_eq!(m(5)["text"], "Обычное сообщение после странных");

    let flags: Vec<bool> = sim.updates().iter().map(|u| u.malformed).collect();
    assert_eq!(flags, [true, true, true, true, true, false, false]);
    // Confirming past them works like for any other update.
    let next = bot
        .call("getUpdates", json!({"offset": normal + 1}))
        .await
        .1;
    assert!(ids(&next).is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_rate_replaces_generated_messages() {
    let sim = sim(SimOptions {
        malformed_rate: 1.0,
        burst: 40,
        ..quiet()
    })
    .await;
    let updates = sim.updates();
    assert_eq!(updates.len(), 40);
    assert!(updates.iter().all(|u| u.malformed));
    let got = Bot::new(&sim)
        .client
        .get(format!("{}/bot{}/getUpdates", sim.api_url(), sim.token()));
    let bytes = got.send().await.expect("get").bytes().await.expect("bytes");
    assert!(bytes.windows(6).any(|w| w == br"\ud800"));
    assert!(bytes.len() > 1024 * 1024, "the megabyte text is among them");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_limit_caps_burst_and_steady_traffic() {
    let capped = sim(SimOptions {
        burst: 10,
        limit: Some(3),
        ..quiet()
    })
    .await;
    assert_eq!(capped.stats().citizen_messages, 3);
    assert_eq!(capped.generate(5), 0);
    capped.shutdown().await;

    // 100 a second: the long poll below is woken by each arrival until the limit is reached.
    let sim = sim(SimOptions {
        per_minute: 6000.0,
        burst: 2,
        limit: Some(12),
        ..SimOptions::default()
    })
    .await;
    let bot = Bot::new(&sim);
    let (mut offset, mut received) = (0, 0);
    let reached = tokio::time::timeout(GUARD, async {
        loop {
            let s = sim.stats();
            if s.citizen_messages == 12 && received == s.updates_queued {
                break;
            }
            let v = bot
                .call("getUpdates", json!({"offset": offset, "timeout": 5}))
                .await
                .1;
            let got = ids(&v);
            received += got.len();
            offset = got.last().map_or(offset, |id| id + 1);
        }
    })
    .await;
    assert!(reached.is_ok(), "steady traffic reached the limit");
    let v = bot
        .call("getUpdates", json!({"offset": offset, "timeout": 1}))
        .await
        .1;
    assert!(ids(&v).is_empty(), "nothing after the limit");
    assert_eq!(sim.stats().citizen_messages, 12);
    sim.shutdown().await;
}
