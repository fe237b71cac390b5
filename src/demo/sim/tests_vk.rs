//! The simulator's VK mode as a client sees it over HTTP: envelopes with HTTP 200, the token
//! and version checks, `random_id`/`guid` deduplication, and the long poll's `ts`, key and
//! `failed` answers, with the backfill methods still holding what the long poll lost.

use reqwest::Client;
use serde_json::{Value, json};

use super::tests::{quiet, sim};
use super::*;

struct Community {
    client: Client,
    api: String,
    token: String,
    group: i64,
}

impl Community {
    fn new(sim: &Simulator) -> Community {
        Community {
            client: Client::new(),
            api: sim.vk_api_url(),
            token: sim.vk_token().to_string(),
            group: sim.vk_group_id(),
        }
    }

    async fn call(&self, method: &str, params: &[(&str, String)]) -> Value {
        let mut form: Vec<(&str, String)> = params.to_vec();
        form.push(("access_token", self.token.clone()));
        form.push(("v", "5.199".into()));
        let resp = self
            .client
            .post(format!("{}/{method}", self.api))
            .form(&form)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200, "VK answers 200 even for errors");
        resp.json().await.expect("JSON")
    }

    async fn check(&self, server: &str, key: &str, ts: &str) -> Value {
        self.client
            .get(server)
            .query(&[("act", "a_check"), ("key", key), ("ts", ts), ("wait", "1")])
            .send()
            .await
            .expect("long poll")
            .json()
            .await
            .expect("JSON")
    }
}

#[tokio::test]
async fn sends_are_deduplicated_by_random_id_per_peer_and_by_guid_per_post() {
    let sim = sim(quiet()).await;
    let vk = Community::new(&sim);
    sim.vk_inject_text(501, "Яма у дома");
    sim.vk_inject_text(502, "Нет света");
    let send = |peer: i64, rid: &str| {
        vec![
            ("peer_id", peer.to_string()),
            ("message", "Принято".to_string()),
            ("random_id", rid.to_string()),
        ]
    };
    let first = vk.call("messages.send", &send(501, "777")).await;
    let again = vk.call("messages.send", &send(501, "777")).await;
    assert_eq!(first["response"], again["response"], "{first} {again}");
    let other = vk.call("messages.send", &send(502, "777")).await;
    assert!(other["response"].is_i64());
    assert_eq!(sim.sent().vk["501"].len(), 1);
    assert_eq!(sim.sent().vk["502"].len(), 1);
    assert_eq!(sim.vk_stats().deduplicated, 1);

    let post = sim.vk_inject_post(501, "Не вывозят мусор");
    let comment = |guid: &str| {
        vec![
            ("owner_id", (-vk.group).to_string()),
            ("post_id", post.to_string()),
            ("message", "Передано в департамент".to_string()),
            ("guid", guid.to_string()),
        ]
    };
    let c1 = vk.call("wall.createComment", &comment("g1")).await;
    let c2 = vk.call("wall.createComment", &comment("g1")).await;
    assert_eq!(c1["response"]["comment_id"], c2["response"]["comment_id"]);
    assert_eq!(sim.sent().vk[&format!("wall-{}_{post}", vk.group)].len(), 1);

    // Refusals: unknown citizen, wrong token, no version — all HTTP 200 with an error.
    let e = vk.call("messages.send", &send(999, "1")).await;
    assert_eq!(e["error"]["error_code"], 901);
    let resp: Value = vk
        .client
        .post(format!("{}/messages.send", vk.api))
        .form(&[("access_token", "wrong"), ("v", "5.199")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["error"]["error_code"], 5);
    let resp: Value = vk
        .client
        .post(format!("{}/groups.getLongPollServer", vk.api))
        .form(&[("access_token", vk.token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["error"]["error_code"], 8);
    sim.shutdown().await;
}

#[tokio::test]
async fn long_poll_ts_key_and_failures() {
    let sim = sim(quiet()).await;
    let vk = Community::new(&sim);
    let s = vk
        .call(
            "groups.getLongPollServer",
            &[("group_id", vk.group.to_string())],
        )
        .await;
    let (server, key, ts) = (
        s["response"]["server"].as_str().unwrap().to_string(),
        s["response"]["key"].as_str().unwrap().to_string(),
        s["response"]["ts"].as_str().unwrap().to_string(),
    );
    sim.vk_inject_text(601, "Первое");
    sim.vk_inject_text(601, "Второе");
    let a = vk.check(&server, &key, &ts).await;
    assert_eq!(a["updates"].as_array().unwrap().len(), 2, "{a}");
    assert_eq!(a["updates"][0]["type"], "message_new");
    let next = a["ts"].as_str().unwrap().to_string();
    // Nothing new: an empty answer at the end of `wait`, same ts.
    let idle = vk.check(&server, &key, &next).await;
    assert_eq!(idle, json!({"ts": next, "updates": []}));

    // failed 1: the waiting event is lost to the long poll, a new ts is given.
    sim.vk_inject_text(601, "Третье");
    sim.vk_fail_next(&[1]);
    let f = vk.check(&server, &key, &next).await;
    assert_eq!(f["failed"], 1);
    let after = f["ts"].as_str().unwrap().to_string();
    assert_eq!(vk.check(&server, &key, &next).await["failed"], 1);
    assert_eq!(vk.check(&server, &key, &after).await["updates"], json!([]));
    // …but the history still has it: that is what a backfill reads.
    let h = vk
        .call(
            "messages.getHistory",
            &[("peer_id", "601".into()), ("count", "10".into())],
        )
        .await;
    assert_eq!(h["response"]["items"][0]["text"], "Третье");
    let convs = vk
        .call("messages.getConversations", &[("count", "10".into())])
        .await;
    assert_eq!(
        convs["response"]["items"][0]["conversation"]["peer"]["id"],
        601
    );

    // failed 2: the key expired; the old ts still works with a new key.
    sim.vk_fail_next(&[2]);
    assert_eq!(vk.check(&server, &key, &after).await["failed"], 2);
    assert_eq!(vk.check(&server, &key, &after).await["failed"], 2);
    let s = vk
        .call(
            "groups.getLongPollServer",
            &[("group_id", vk.group.to_string())],
        )
        .await;
    let key2 = s["response"]["key"].as_str().unwrap().to_string();
    sim.vk_inject_text(601, "Четвёртое");
    let a = vk.check(&server, &key2, &after).await;
    assert_eq!(a["updates"][0]["object"]["message"]["text"], "Четвёртое");

    // failed 3: a new key and ts are needed.
    sim.vk_fail_next(&[3]);
    assert_eq!(vk.check(&server, &key2, &after).await["failed"], 3);
    assert_eq!(vk.check(&server, &key2, &after).await["failed"], 2);
    let st = sim.vk_stats();
    assert_eq!(st.failed[0], 2);
    assert_eq!(st.failed[2], 1);
    assert!(st.dropped >= 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_keyboard_is_kept_with_the_message_and_a_tap_sends_its_label_and_payload() {
    let sim = sim(quiet()).await;
    let vk = Community::new(&sim);
    sim.vk_inject_text(601, "Яма у дома");
    let keyboard = json!({"inline": true, "buttons": [[
        {"action": {"type": "text", "label": "Да", "payload": "{\"button\":\"fb:yes\"}"}, "color": "positive"},
        {"action": {"type": "text", "label": "Нет", "payload": "{\"button\":\"fb:no\"}"}, "color": "negative"},
    ]]});
    let sent = vk
        .call(
            "messages.send",
            &[
                ("peer_id", "601".into()),
                ("message", "Вопрос решён?".into()),
                ("random_id", "9".into()),
                ("keyboard", keyboard.to_string()),
            ],
        )
        .await;
    let id = sent["response"].as_i64().expect("a message id");
    let log = sim.sent().vk["601"].clone();
    assert_eq!(
        log[0].buttons,
        [
            ("Да".to_string(), "{\"button\":\"fb:yes\"}".to_string()),
            ("Нет".to_string(), "{\"button\":\"fb:no\"}".to_string()),
        ]
    );
    // The tap is the citizen's message: the label and the button's payload.
    let tap = sim.vk_tap(601, id, "Нет").expect("a button");
    let history = vk
        .call("messages.getHistory", &[("peer_id", "601".into())])
        .await;
    let newest = &history["response"]["items"][0];
    assert_eq!(newest["id"], tap);
    assert_eq!(newest["text"], "Нет");
    assert_eq!(newest["payload"], "{\"button\":\"fb:no\"}");
    assert_eq!(sim.vk_tap(601, id, "Может быть"), None);
    // A keyboard that does not read is VK's error 911, and nothing is sent.
    for bad in [
        "{\"buttons\": 5}",
        "not json",
        "{\"buttons\": [[{\"action\": {\"type\": \"text\"}}]]}",
    ] {
        let e = vk
            .call(
                "messages.send",
                &[
                    ("peer_id", "601".into()),
                    ("message", "Вопрос решён?".into()),
                    ("random_id", "10".into()),
                    ("keyboard", bad.into()),
                ],
            )
            .await;
        assert_eq!(e["error"]["error_code"], 911, "{bad}: {e}");
    }
    assert_eq!(sim.sent().vk["601"].len(), 1);
}
