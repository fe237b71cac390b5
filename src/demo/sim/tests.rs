//! The Bot API contract as a client sees it over HTTP: offsets, long polls, conflicts, files,
//! tokens and the control endpoints; shared helpers for the other test files.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::*;

/// Upper bound for anything that should happen promptly; never a wait for its own sake.
pub(super) const GUARD: Duration = Duration::from_secs(10);

pub(super) async fn sim(opts: SimOptions) -> Simulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    Simulator::start(listener, opts)
        .await
        .expect("start simulator")
}

pub(super) fn quiet() -> SimOptions {
    SimOptions {
        per_minute: 0.0,
        ..SimOptions::default()
    }
}

#[derive(Clone)]
pub(super) struct Bot {
    pub client: Client,
    pub base: String,
    pub files: String,
}

impl Bot {
    pub fn new(sim: &Simulator) -> Bot {
        Bot {
            client: Client::new(),
            base: format!("{}/bot{}", sim.api_url(), sim.token()),
            files: format!("{}/file/bot{}", sim.api_url(), sim.token()),
        }
    }

    pub async fn call(&self, method: &str, params: Value) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}/{method}", self.base))
            .json(&params)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        (status, resp.json().await.expect("JSON body"))
    }

    pub async fn send(&self, chat_id: i64, text: &str) -> (StatusCode, Value) {
        self.call("sendMessage", json!({"chat_id": chat_id, "text": text}))
            .await
    }
}

pub(super) fn ids(v: &Value) -> Vec<i64> {
    v["result"]
        .as_array()
        .map(|a| a.iter().filter_map(|u| u["update_id"].as_i64()).collect())
        .unwrap_or_default()
}

pub(super) fn assert_error(got: &(StatusCode, Value), code: u16, description: &str) {
    assert_eq!(got.0.as_u16(), code, "{}", got.1);
    assert_eq!(
        got.1,
        json!({"ok": false, "error_code": code, "description": description})
    );
}

#[tokio::test]
async fn offsets_confirm_and_unconfirmed_updates_come_back() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    let a = sim.inject_text(10, "Во дворе нет света");
    let b = sim.inject_text(10, "Уже третий день");
    let c = sim.inject_text(11, "Яма на Красной");
    assert_eq!((b, c), (a + 1, a + 2));
    assert!(a >= 100_000_000);

    let all = bot.call("getUpdates", json!({})).await;
    assert_eq!(all.0, StatusCode::OK);
    assert_eq!(ids(&all.1), [a, b, c]);
    assert_eq!(all.1["result"][0]["message"]["text"], "Во дворе нет света");
    assert_eq!(all.1["result"][2]["message"]["chat"]["id"], 11);
    // Not confirmed yet: delivered again, and limit cuts from the front.
    assert_eq!(
        ids(&bot.call("getUpdates", json!({"limit": 2})).await.1),
        [a, b]
    );

    assert_eq!(
        ids(&bot.call("getUpdates", json!({"offset": b})).await.1),
        [b, c]
    );
    assert_eq!(ids(&bot.call("getUpdates", json!({})).await.1), [b, c]);
    assert!(ids(&bot.call("getUpdates", json!({"offset": c + 1})).await.1).is_empty());
    // A lower offset later cannot resurrect confirmed updates.
    assert!(ids(&bot.call("getUpdates", json!({"offset": a})).await.1).is_empty());

    let d = sim.inject_text(10, "Спасибо");
    assert_eq!(d, c + 1, "update ids are never reused");
    assert_eq!(
        ids(&bot.call("getUpdates", json!({"offset": a})).await.1),
        [d]
    );
    let s = sim.stats();
    assert_eq!(s.highest_confirmed_offset, c + 1);
    assert_eq!((s.updates_queued, s.updates_pending), (4, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn parameters_arrive_as_query_form_or_json() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    let a = sim.inject_text(10, "первое");
    let b = sim.inject_text(10, "второе");
    let url = format!("{}/getUpdates?offset={b}&limit=1", bot.base);
    let v: Value = bot
        .client
        .get(url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(ids(&v), [b]);
    assert!(a < b);

    let form = [
        ("chat_id", "10"),
        ("text", "Заявка принята"),
        ("reply_parameters", r#"{"message_id":2}"#),
    ];
    let resp = bot
        .client
        .post(format!("{}/sendmessage", bot.base))
        .form(&form)
        .send()
        .await;
    let v: Value = resp.expect("post").json().await.expect("json");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["result"]["reply_to_message"]["text"], "второе");
    assert_eq!(v["result"]["message_id"], 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn long_poll_answers_as_soon_as_an_update_arrives_and_empty_on_timeout() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    let poller = bot.clone();
    let poll = tokio::spawn(async move {
        let started = Instant::now();
        let got = poller.call("getUpdates", json!({"timeout": 30})).await;
        (got, started.elapsed())
    });
    tokio::time::timeout(GUARD, sim.poll_held())
        .await
        .expect("poll is held");
    let id = sim.inject_text(5, "Не горит фонарь");
    let ((status, v), elapsed) = tokio::time::timeout(GUARD, poll)
        .await
        .expect("answered before the guard")
        .expect("poll task");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&v), [id]);
    assert!(elapsed < GUARD);

    let started = Instant::now();
    let empty = bot
        .call("getUpdates", json!({"offset": id + 1, "timeout": 1}))
        .await;
    assert_eq!(empty.1, json!({"ok": true, "result": []}));
    assert!(started.elapsed() >= Duration::from_millis(900));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_second_poller_terminates_the_held_one_with_409() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    let first = tokio::spawn({
        let bot = bot.clone();
        async move { bot.call("getUpdates", json!({"timeout": 30})).await }
    });
    tokio::time::timeout(GUARD, sim.poll_held())
        .await
        .expect("first held");
    let second = tokio::spawn({
        let bot = bot.clone();
        async move { bot.call("getUpdates", json!({"timeout": 30})).await }
    });
    let lost = tokio::time::timeout(GUARD, first)
        .await
        .expect("first answered");
    assert_error(
        &lost.expect("first task"),
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance \
         is running",
    );
    // The newcomer is the poller now and still gets the update.
    let id = sim.inject_text(5, "Опять нет воды");
    let won = tokio::time::timeout(GUARD, second)
        .await
        .expect("second answered");
    let won = won.expect("second task");
    assert_eq!((won.0, ids(&won.1)), (StatusCode::OK, vec![id]));
    assert_eq!(sim.stats().conflicts, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_webhook_blocks_get_updates_until_deleted() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    const WEBHOOK: &str = "Conflict: can't use getUpdates method while webhook is active; use \
                           deleteWebhook to delete the webhook first";
    let set = bot.client.post(format!("{}/_sim/webhook", sim.api_url()));
    let resp = set
        .json(&json!({"set": true}))
        .send()
        .await
        .expect("set webhook");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_error(&bot.call("getUpdates", json!({})).await, 409, WEBHOOK);
    let info = bot.call("getWebhookInfo", json!({})).await;
    assert_ne!(info.1["result"]["url"], "");

    assert_eq!(
        bot.call("deleteWebhook", json!({})).await.1,
        json!({"ok": true, "result": true})
    );
    assert_eq!(bot.call("getUpdates", json!({})).await.0, StatusCode::OK);

    // A poll already held when the webhook appears is answered with the same conflict.
    let held = tokio::spawn({
        let bot = bot.clone();
        async move { bot.call("getUpdates", json!({"timeout": 30})).await }
    });
    tokio::time::timeout(GUARD, sim.poll_held())
        .await
        .expect("held");
    sim.set_webhook(true);
    let got = tokio::time::timeout(GUARD, held).await.expect("answered");
    assert_error(&got.expect("task"), 409, WEBHOOK);
    assert_eq!(sim.stats().conflicts, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn file_links_expire_and_get_file_again_refreshes_them() {
    let sim = sim(SimOptions {
        file_ttl: Duration::from_millis(1500),
        ..quiet()
    })
    .await;
    let bot = Bot::new(&sim);
    sim.inject_photo(3, Some("Сломанная скамейка в сквере"));
    let v = bot.call("getUpdates", json!({})).await.1;
    let photo = v["result"][0]["message"]["photo"]
        .as_array()
        .cloned()
        .expect("photo sizes");
    assert_eq!(photo.len(), 3);
    assert!(
        photo
            .windows(2)
            .all(|p| p[0]["width"].as_u64() < p[1]["width"].as_u64())
    );
    let largest = &photo[2];
    let file_id = largest["file_id"].as_str().expect("file_id");

    let path_of = |v: &Value| {
        v["result"]["file_path"]
            .as_str()
            .map(str::to_owned)
            .expect("path")
    };
    let got = bot.call("getFile", json!({"file_id": file_id})).await.1;
    assert_eq!(got["result"]["file_size"], largest["file_size"]);
    assert_eq!(got["result"]["file_unique_id"], largest["file_unique_id"]);
    let old = path_of(&got);
    let fetch = |path: String| {
        let client = bot.client.clone();
        let url = format!("{}/{path}", bot.files);
        async move {
            let resp = client.get(url).send().await.expect("download");
            (resp.status(), resp.bytes().await.expect("bytes"))
        }
    };
    let (status, bytes) = fetch(old.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(Some(bytes.len() as u64), largest["file_size"].as_u64());
    assert!(bytes.starts_with(&[0xFF, 0xD8]) && bytes.ends_with(&[0xFF, 0xD9]));

    // Time passing is what is under test; there is no event to await.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (status, body) = fetch(old.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body: Value = serde_json::from_slice(&body).expect("json 404");
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 404, "description": "Not Found"})
    );

    let fresh = path_of(&bot.call("getFile", json!({"file_id": file_id})).await.1);
    assert_ne!(fresh, old);
    assert_eq!(fetch(fresh.clone()).await.0, StatusCode::OK);
    assert_eq!(fetch(old).await.0, StatusCode::NOT_FOUND);
    sim.expire_files();
    assert_eq!(fetch(fresh).await.0, StatusCode::NOT_FOUND);
    sim.shutdown().await;
}

#[tokio::test]
async fn files_over_20_mb_are_too_big_and_unknown_ids_invalid() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    sim.inject_document(3, "Скан_обращения.pdf", 25 * 1024 * 1024);
    sim.inject_document(3, "Акт.pdf", 90_000);
    let v = bot.call("getUpdates", json!({})).await.1;
    let big = &v["result"][0]["message"]["document"];
    assert_eq!(big["file_size"], 25 * 1024 * 1024);
    assert_eq!(big["file_name"], "Скан_обращения.pdf");
    let got = bot
        .call("getFile", json!({"file_id": big["file_id"]}))
        .await;
    assert_error(&got, 400, "Bad Request: file is too big");

    let small = &v["result"][1]["message"]["document"];
    let got = bot
        .call("getFile", json!({"file_id": small["file_id"]}))
        .await
        .1;
    let path = got["result"]["file_path"].as_str().expect("path");
    let resp = bot
        .client
        .get(format!("{}/{path}", bot.files))
        .send()
        .await
        .expect("download");
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let bytes = resp.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() == 90_000);

    let got = bot
        .call("getFile", json!({"file_id": "AgACAgIAAxkBAAInvalid"}))
        .await;
    assert_error(&got, 400, "Bad Request: invalid file_id");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_unknown_methods_not_found() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    let client = &bot.client;
    for url in [
        format!("{}/bot999:WRONG/getMe", sim.api_url()),
        format!("{}/file/bot999:WRONG/photos/file_1.jpg", sim.api_url()),
    ] {
        let resp = client.get(url).send().await.expect("request");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let v: Value = resp.json().await.expect("json");
        assert_eq!(
            v,
            json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
        );
    }
    let me = bot.call("getMe", json!({})).await.1;
    assert_eq!(
        (me["result"]["id"].clone(), me["result"]["is_bot"].clone()),
        (json!(123456), json!(true))
    );
    assert_error(&bot.call("sendSticker", json!({})).await, 404, "Not Found");
    let resp = client
        .get(format!("{}/nobot/getMe", sim.api_url()))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    sim.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_inject_generate_and_report() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    let post = |path: &str, body: Value| {
        let req = bot
            .client
            .post(format!("{}/_sim/{path}", sim.api_url()))
            .json(&body);
        async move {
            let resp = req.send().await.expect("post");
            (resp.status(), resp.json::<Value>().await.expect("json"))
        }
    };
    let (status, v) = post("inject", json!({"chat_id": 9, "text": "Где автобус 10?"})).await;
    assert_eq!(status, StatusCode::OK);
    let id = v["update_id"].as_i64().expect("update_id");
    let (status, v) = post("inject", json!({"chat": 9})).await;
    assert_eq!(
        (status, v["ok"].clone()),
        (StatusCode::BAD_REQUEST, json!(false))
    );
    let (_, v) = post("generate", json!({"n": 3})).await;
    assert_eq!(v["generated"], 3);

    let got = bot.call("getUpdates", json!({})).await.1;
    assert_eq!(got["result"][0]["update_id"], id);
    assert_eq!(got["result"][0]["message"]["text"], "Где автобус 10?");
    let stats: SimStats = bot
        .client
        .get(format!("{}/_sim/stats", sim.api_url()))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("SimStats");
    assert_eq!(stats.citizen_messages, 3);
    assert_eq!(stats, sim.stats());
    let updates: Vec<UpdateSummary> = bot
        .client
        .get(format!("{}/_sim/updates", sim.api_url()))
        .send()
        .await
        .expect("updates")
        .json()
        .await
        .expect("summaries");
    assert_eq!(updates, sim.updates());
    assert_eq!(updates[0].chat_id, Some(9));
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_releases_a_held_poll() {
    let sim = sim(quiet()).await;
    let bot = Bot::new(&sim);
    let held = tokio::spawn(async move { bot.call("getUpdates", json!({"timeout": 60})).await });
    tokio::time::timeout(GUARD, sim.poll_held())
        .await
        .expect("held");
    tokio::time::timeout(GUARD, sim.shutdown())
        .await
        .expect("shut down promptly");
    let got = tokio::time::timeout(GUARD, held)
        .await
        .expect("answered")
        .expect("task");
    assert_eq!(got.1, json!({"ok": true, "result": []}));
}
