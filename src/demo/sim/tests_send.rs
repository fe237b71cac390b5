//! sendMessage as a client sees it: Telegram's validation, replies, faults before and after the
//! send, and the sent log.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::json;

use super::tests::{Bot, GUARD, assert_error, quiet, sim};
use super::*;

#[tokio::test]
async fn send_photo_takes_the_bots_own_file_ids_and_urls_with_a_caption() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    sim.inject_photo(42, Some("Яма"));
    let file_id = sim.photo()[0]["file_id"].as_str().unwrap().to_string();
    let photo =
        |photo: &str, caption: &str| json!({"chat_id": 42, "photo": photo, "caption": caption});
    let (status, body) = bot
        .call("sendPhoto", photo(&file_id, "📷 2026-000001"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["caption"], "📷 2026-000001");
    assert_eq!(body["result"]["photo"][0]["file_id"], file_id.as_str());
    let url = "https://sun9-1.userapi.com/photo.jpg";
    assert_eq!(
        bot.call("sendPhoto", photo(url, "")).await.0,
        StatusCode::OK
    );
    assert_error(
        &bot.call("sendPhoto", photo("AgACnotours", "")).await,
        400,
        "Bad Request: wrong remote file identifier specified: Wrong padding length",
    );
    assert_error(
        &bot.call("sendPhoto", photo(&file_id, &"я".repeat(1025)))
            .await,
        400,
        "Bad Request: message caption is too long",
    );
    assert_error(
        &bot.call("sendPhoto", json!({"chat_id": 42, "caption": "?"}))
            .await,
        400,
        "Bad Request: there is no photo in the request",
    );
    let sent = &sim.sent().chats["42"];
    let photos: Vec<_> = sent.iter().filter_map(|m| m.photo.as_deref()).collect();
    assert_eq!(photos, [file_id.as_str(), url]);
    sim.shutdown().await;
}

#[tokio::test]
async fn send_document_takes_a_documents_id_and_a_file_id_goes_only_as_its_own_type() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    sim.inject_text(42, "Фото файлом");
    let document = sim.picture_document("IMG_0042.JPG")["file_id"]
        .as_str()
        .unwrap()
        .to_string();
    let photo = sim.photo()[0]["file_id"].as_str().unwrap().to_string();
    let (status, body) = bot
        .call(
            "sendDocument",
            json!({"chat_id": 42, "document": document, "caption": "📎 2026-000001"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["document"]["file_id"], document.as_str());
    assert_eq!(body["result"]["caption"], "📎 2026-000001");
    for (method, field, id) in [
        ("sendPhoto", "photo", &document),
        ("sendDocument", "document", &photo),
    ] {
        assert_error(
            &bot.call(method, json!({"chat_id": 42, field: id})).await,
            400,
            "Bad Request: type of file mismatch",
        );
    }
    assert_error(
        &bot.call("sendDocument", json!({"chat_id": 42, "caption": "?"}))
            .await,
        400,
        "Bad Request: there is no document in the request",
    );
    let sent = &sim.sent().chats["42"];
    let documents: Vec<_> = sent.iter().filter_map(|m| m.document.as_deref()).collect();
    assert_eq!(documents, [document.as_str()]);
    sim.shutdown().await;
}

#[tokio::test]
async fn send_message_validates_like_telegram() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    sim.inject_text(42, "Яма на дороге");
    assert_error(
        &bot.send(42, "").await,
        400,
        "Bad Request: message text is empty",
    );
    assert_error(
        &bot.send(42, " \n ").await,
        400,
        "Bad Request: message text is empty",
    );
    let too_long = "Bad Request: message is too long";
    // 2048 emoji are 4096 UTF-16 units: the limit exactly; one more unit is over.
    let emoji = "😀".repeat(2048);
    assert_eq!(bot.send(42, &emoji).await.0, StatusCode::OK);
    assert_error(&bot.send(42, &format!("{emoji}я")).await, 400, too_long);
    // 4096 Cyrillic letters are 8192 bytes but 4096 units: fine.
    assert_eq!(bot.send(42, &"я".repeat(4096)).await.0, StatusCode::OK);
    assert_error(&bot.send(42, &"я".repeat(4097)).await, 400, too_long);
    assert_error(
        &bot.send(777, "Здравствуйте").await,
        400,
        "Bad Request: chat not found",
    );
    let no_chat = bot
        .call("sendMessage", json!({"text": "Здравствуйте"}))
        .await;
    assert_error(&no_chat, 400, "Bad Request: chat_id is empty");

    let block = bot.client.post(format!("{}/_sim/block", sim.api_url()));
    block
        .json(&json!({"chat_id": 42}))
        .send()
        .await
        .expect("block");
    let blocked = bot.send(42, "Ваша заявка закрыта").await;
    assert_error(&blocked, 403, "Forbidden: bot was blocked by the user");
    sim.block(42, false);
    assert_eq!(bot.send(42, "Ваша заявка закрыта").await.0, StatusCode::OK);

    assert_eq!(sim.sent().total, 3);
    let s = sim.stats().send;
    assert_eq!((s.ok, s.rejected), (3, 7));
    sim.shutdown().await;
}

#[tokio::test]
async fn replies_need_an_existing_message_unless_allowed_without() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    sim.inject_text(42, "Не вывозят мусор");
    let first = bot.call("getUpdates", json!({})).await;
    let mid = first.1["result"][0]["message"]["message_id"]
        .as_i64()
        .expect("message_id");

    let missing =
        json!({"chat_id": 42, "text": "Принято", "reply_parameters": {"message_id": 999}});
    let got = bot.call("sendMessage", missing).await;
    assert_error(&got, 400, "Bad Request: message to be replied not found");
    let allowed = json!({"chat_id": 42, "text": "Принято",
        "reply_parameters": {"message_id": 999, "allow_sending_without_reply": true}});
    let got = bot.call("sendMessage", allowed).await;
    assert_eq!(got.0, StatusCode::OK);
    assert!(got.1["result"].get("reply_to_message").is_none());

    let reply =
        json!({"chat_id": 42, "text": "Передано в УК", "reply_parameters": {"message_id": mid}});
    let got = bot.call("sendMessage", reply).await.1;
    let msg = &got["result"];
    assert_eq!(msg["reply_to_message"]["message_id"], mid);
    assert_eq!(msg["reply_to_message"]["text"], "Не вывозят мусор");
    assert_eq!(
        (msg["from"]["is_bot"].clone(), msg["chat"]["id"].clone()),
        (json!(true), json!(42))
    );
    assert_eq!(msg["text"], "Передано в УК");
    let legacy = json!({"chat_id": 42, "text": "Ещё раз", "reply_to_message_id": mid});
    assert_eq!(bot.call("sendMessage", legacy).await.0, StatusCode::OK);

    let log = &sim.sent().chats["42"];
    let replies: Vec<_> = log.iter().map(|m| m.reply_to_message_id).collect();
    assert_eq!(replies, [None, Some(mid), Some(mid)]);
    let ids: Vec<_> = log.iter().map(|m| m.message_id).collect();
    assert_eq!(
        ids,
        [mid + 1, mid + 2, mid + 3],
        "one message id sequence per chat"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limits_carry_retry_after_and_send_nothing() {
    let sim = sim(SimOptions {
        rate_limit_rate: 1.0,
        ..quiet()
    })
    .await;
    let bot = Bot::new(&sim);
    sim.inject_text(7, "Когда починят лифт?");
    for _ in 0..8 {
        let (status, v) = bot.send(7, "Заявка принята").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            (v["ok"].clone(), v["error_code"].clone()),
            (json!(false), json!(429))
        );
        let secs = v["parameters"]["retry_after"]
            .as_u64()
            .expect("retry_after");
        assert!((1..=3).contains(&secs), "{v}");
        assert_eq!(
            v["description"],
            format!("Too Many Requests: retry after {secs}")
        );
    }
    assert_eq!(bot.call("getMe", json!({})).await.0, StatusCode::OK);
    assert_eq!(sim.sent().total, 0);
    assert_eq!(sim.stats().send.rate_limited, 8);
    sim.shutdown().await;
}

#[tokio::test]
async fn failures_happen_before_anything_is_done() {
    let sim = sim(SimOptions {
        fail_rate: 1.0,
        ..quiet()
    })
    .await;
    let bot = Bot::new(&sim);
    let id = sim.inject_text(7, "Нет отопления");
    let mut codes = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let (status, v) = bot.send(7, "Принято").await;
        assert_eq!(v["error_code"].as_u64(), Some(u64::from(status.as_u16())));
        codes.insert(status.as_u16());
        let (status, _) = bot.call("getUpdates", json!({"offset": id + 1})).await;
        codes.insert(status.as_u16());
    }
    assert_eq!(codes.into_iter().collect::<Vec<_>>(), [500, 502]);
    assert_eq!(sim.sent().total, 0);
    let s = sim.stats();
    assert_eq!((s.highest_confirmed_offset, s.updates_pending), (0, 1));
    assert_eq!(s.send.failed, 12);
    sim.shutdown().await;
}

#[tokio::test]
async fn ambiguous_sends_are_recorded_though_the_client_never_learns() {
    let sim = sim(SimOptions {
        ambiguous_rate: 1.0,
        ambiguous_delay: Duration::from_secs(1),
        ..quiet()
    })
    .await;
    let bot = Bot::new(&sim);
    sim.inject_text(7, "Спасибо за помощь");
    let url = format!("{}/sendMessage", bot.base);

    // A client whose read timeout is shorter than the hold times out.
    let impatient = Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let body = json!({"chat_id": 7, "text": "Заявка закрыта"});
    let err = impatient
        .post(&url)
        .json(&body)
        .send()
        .await
        .expect_err("must time out");
    assert!(err.is_timeout(), "{err:?}");

    // A patient client sees the connection closed with no response at all.
    let body = json!({"chat_id": 7, "text": "Заявка закрыта, оцените работу"});
    let patient = bot.client.post(&url).json(&body).send();
    let err = tokio::time::timeout(GUARD, patient)
        .await
        .expect("closed in time");
    let err = err.expect_err("no response may arrive");
    assert!(
        !err.is_timeout() && !err.is_connect() && err.status().is_none(),
        "{err:?}"
    );

    let log: SentLog = bot
        .client
        .get(format!("{}/_sim/sent", sim.api_url()))
        .send()
        .await
        .expect("get sent")
        .json()
        .await
        .expect("SentLog");
    let texts: Vec<_> = log.chats["7"].iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["Заявка закрыта", "Заявка закрыта, оцените работу"]);
    assert_eq!((sim.stats().send.ambiguous, sim.stats().send.ok), (2, 0));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_sent_log_groups_by_chat_in_order() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    sim.inject_text(1, "Первая заявка");
    sim.inject_text(2, "Вторая заявка");
    let mut returned = Vec::new();
    for (chat, text) in [(1, "a1"), (2, "b1"), (1, "a2"), (2, "b2"), (1, "a3")] {
        let v = bot.send(chat, text).await.1;
        returned.push((
            chat,
            v["result"]["message_id"].as_i64().expect("message_id"),
        ));
    }
    let log: SentLog = bot
        .client
        .get(format!("{}/_sim/sent", sim.api_url()))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("SentLog");
    assert_eq!(log, sim.sent());
    assert_eq!(log.total, 5);
    let texts = |chat: &str| {
        log.chats[chat]
            .iter()
            .map(|m| m.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(texts("1"), ["a1", "a2", "a3"]);
    assert_eq!(texts("2"), ["b1", "b2"]);
    for (chat, msgs) in &log.chats {
        assert!(msgs.iter().all(|m| m.chat_id.to_string() == *chat));
        assert!(
            msgs.windows(2)
                .all(|w| w[0].message_id < w[1].message_id && w[0].at <= w[1].at)
        );
    }
    let logged: Vec<_> = log.chats["1"].iter().map(|m| (1, m.message_id)).collect();
    let from_api: Vec<_> = returned.iter().copied().filter(|(c, _)| *c == 1).collect();
    assert_eq!(logged, from_api);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_citizen_answers_a_question_but_not_the_bots_own_texts() {
    let sim = sim(SimOptions {
        answer_questions_after: Some(Duration::from_millis(50)),
        ..quiet()
    })
    .await;
    let bot = Bot::new(&sim);
    sim.inject_text(42, "Яма на дороге");
    sim.inject_text(43, "Не горит фонарь");
    let before = sim.updates().len();
    let ack = "Здравствуйте! Ваше обращение зарегистрировано под номером 2026-000001.";
    assert_eq!(bot.send(43, ack).await.0, StatusCode::OK);
    let ask = "Уточните, пожалуйста, номер дома (2026-000002).";
    assert_eq!(bot.send(42, ask).await.0, StatusCode::OK);
    let start = std::time::Instant::now();
    while sim.updates().len() == before {
        assert!(start.elapsed() < Duration::from_secs(10), "no answer came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let updates = sim.updates();
    let fresh = &updates[before..];
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    assert_eq!(
        fresh[0].chat_id,
        Some(42),
        "the asked citizen answers: {fresh:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_department_replies_to_the_request_posted_in_its_chat() {
    let sim = sim(SimOptions {
        answer_questions_after: Some(Duration::from_millis(50)),
        ..quiet()
    })
    .await;
    let bot = Bot::new(&sim);
    sim.open_chat(-1005);
    let before = sim.updates().len();
    let post = "📋 Обращение 2026-000009 передано вам (ЖКХ). Ответ нужен до 08.12 14:00.";
    assert_eq!(bot.send(-1005, post).await.0, StatusCode::OK);
    let start = std::time::Instant::now();
    while sim.updates().len() == before {
        assert!(start.elapsed() < Duration::from_secs(10), "no answer came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = sim.updates().last().cloned().expect("an update");
    assert_eq!(last.chat_id, Some(-1005));
    let m = sim.shared.lock().world.chats[&-1005].messages[&last.message_id.unwrap()].clone();
    assert!(
        m["reply_to_message"]["message_id"].as_i64().is_some(),
        "a reply to the post: {m}"
    );
    assert_eq!(m["from"]["first_name"], "Диспетчер", "{m}");
    sim.shutdown().await;
}
