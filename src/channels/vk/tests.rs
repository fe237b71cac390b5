//! Parsing VK's wire shapes (written from VK's documented shapes and sample payloads) and
//! classifying its answers.

use serde_json::{Value, json};

use super::api::{Failure, envelope};
use super::longpoll::{Check, check_body};
use super::*;
use crate::wire::intake::{Command, Inbound};

const GROUP: i64 = 123456;

fn one(update: Value) -> Result<Inbound, String> {
    let (events, malformed) = parse::updates(&[update], GROUP);
    match (events.into_iter().next(), malformed.into_iter().next()) {
        (Some(e), _) => Ok(e.inbound),
        (None, Some(m)) => Err(m.reason),
        _ => Err("nothing".into()),
    }
}

fn message_new(message: Value) -> Value {
    json!({"type": "message_new", "event_id": "e1", "v": "5.199", "group_id": GROUP,
           "object": {"message": message, "client_info": {"keyboard": true}}})
}

#[test]
fn text_message_with_the_largest_photo_and_geo() {
    let u = message_new(json!({
        "id": 100, "conversation_message_id": 1234, "from_id": 5001, "peer_id": 5001,
        "date": 1_700_000_000, "text": "Яма на Северной", "out": 0,
        "attachments": [{"type": "photo", "photo": {"id": 1, "owner_id": 5001, "sizes": [
            {"type": "s", "url": "https://sun.userapi.com/small.jpg", "width": 75, "height": 56},
            {"type": "w", "url": "https://sun.userapi.com/big.jpg", "width": 1280, "height": 960},
            {"type": "m", "url": "https://sun.userapi.com/mid.jpg", "width": 130, "height": 97}
        ]}}, {"type": "sticker", "sticker": {"sticker_id": 9}}],
        "geo": {"type": "point", "coordinates": {"latitude": 45.03, "longitude": 38.97},
                "place": {"title": "ул. Северная", "city": "Краснодар"}}
    }));
    let (events, _) = parse::updates(std::slice::from_ref(&u), GROUP);
    assert_eq!(events[0].external_id, "msg:5001:100");
    let Inbound::Message(m) = &events[0].inbound else {
        panic!("a message: {:?}", events[0].inbound)
    };
    assert_eq!((m.chat.as_str(), m.message.as_str()), ("5001", "100"));
    assert_eq!(m.text, "Яма на Северной");
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(
        m.attachments[0].source.as_deref(),
        Some("https://sun.userapi.com/big.jpg")
    );
    let loc = m.location.clone().unwrap();
    assert_eq!((loc.lat, loc.lon), (Some(45.03), Some(38.97)));
    assert_eq!(loc.address.as_deref(), Some("ул. Северная, Краснодар"));
    assert_eq!(m.author.as_deref(), Some("vk.com/id5001"));
}

#[test]
fn old_versions_put_the_message_in_object_and_geo_as_text() {
    let u = json!({"type": "message_new", "object": {"id": 7, "peer_id": 9, "from_id": 9,
        "date": 1, "text": "", "geo": {"coordinates": "45.1 39.2"}}});
    let Inbound::Message(m) = one(u).unwrap() else {
        panic!()
    };
    assert_eq!(m.location.unwrap().lon, Some(39.2));
}

#[test]
fn commands_replies_and_chats_without_message_ids() {
    let start = message_new(json!({"id": 1, "peer_id": 9, "from_id": 9, "date": 1,
        "text": "Начать", "payload": "{\"command\":\"start\"}"}));
    assert!(matches!(
        one(start).unwrap(),
        Inbound::Command {
            command: Command::Start,
            ..
        }
    ));
    let status = message_new(
        json!({"id": 2, "peer_id": 9, "from_id": 9, "date": 1, "text": "/статус 2026-000017"}),
    );
    assert!(
        matches!(one(status).unwrap(), Inbound::Command { command: Command::Status(n), .. } if n == "2026-000017")
    );
    let reply = message_new(json!({"id": 3, "peer_id": 9, "from_id": 9, "date": 1,
        "text": "ещё не сделали", "reply_message": {"id": 77, "conversation_message_id": 4}}));
    let Inbound::Message(m) = one(reply).unwrap() else {
        panic!()
    };
    assert_eq!(m.reply_to.as_deref(), Some("77"));
    // In a group chat a community sees id 0: the conversation's own number is the key.
    let chat = message_new(json!({"id": 0, "conversation_message_id": 55,
        "peer_id": 2_000_000_001, "from_id": 9, "date": 1, "text": "в чате"}));
    let (events, _) = parse::updates(&[chat], GROUP);
    assert_eq!(events[0].external_id, "msg:2000000001:c55");
}

#[test]
fn wall_posts_and_comments_become_threads_and_our_own_are_ignored() {
    // The fixture's post is by the community itself (from_id = -group): not a request.
    let ours = json!({"type": "wall_post_new", "group_id": GROUP, "object": {"id": 28,
        "from_id": -GROUP, "owner_id": -GROUP, "date": 1519631591, "post_type": "post",
        "text": "Post text", "comments": {"count": 0}}});
    assert!(matches!(one(ours).unwrap(), Inbound::Ignored { .. }));
    let citizen = json!({"type": "wall_post_new", "group_id": GROUP, "object": {"id": 29,
        "from_id": 5001, "owner_id": -GROUP, "date": 1519631591, "post_type": "post",
        "text": "Не горят фонари на Красной"}});
    let (events, _) = parse::updates(&[citizen], GROUP);
    assert_eq!(events[0].external_id, format!("wall:-{GROUP}_29"));
    let Inbound::Message(m) = &events[0].inbound else {
        panic!()
    };
    assert_eq!(m.chat, format!("wall-{GROUP}_29:5001"));
    assert_eq!(m.message, "p29");
    let comment = json!({"type": "wall_reply_new", "event_id": "x", "group_id": GROUP,
        "object": {"id": 410, "from_id": 5002, "post_id": 28, "owner_id": -GROUP,
        "post_owner_id": -GROUP, "date": 1519631600, "text": "А у нас во дворе тоже",
        "reply_to_comment": 400, "parents_stack": [400]}});
    let (events, _) = parse::updates(&[comment], GROUP);
    assert_eq!(events[0].external_id, format!("wall:-{GROUP}_28:c410"));
    let Inbound::Message(m) = &events[0].inbound else {
        panic!()
    };
    assert_eq!(
        Target::parse(&m.chat),
        Some(Target::Wall {
            owner_id: -GROUP,
            post_id: 28,
            author: 5002
        })
    );
    assert_eq!(m.reply_to.as_deref(), Some("400"));
    let our_comment = json!({"type": "wall_reply_new", "object": {"id": 411, "from_id": -GROUP,
        "post_id": 28, "owner_id": -GROUP, "date": 1519631601, "text": "Ответ МЦУ"}});
    assert!(matches!(one(our_comment).unwrap(), Inbound::Ignored { .. }));
}

#[test]
fn malformed_updates_are_reported_one_by_one() {
    let updates = vec![
        json!({"type": "message_new", "event_id": "a", "object": {"message": {"id": 1, "date": 1, "text": "no peer"}}}),
        json!({"type": "message_new", "event_id": "b", "object": {"message": {"id": 2, "peer_id": 5, "date": 1, "text": 5}}}),
        json!({"type": "wall_reply_new", "object": {"id": 3, "from_id": 1, "date": 1}}),
        json!({"object": {}}),
        json!("not an object"),
        message_new(json!({"id": 4, "peer_id": 5, "from_id": 5, "date": 1, "text": "ok"})),
        json!({"type": "group_join", "event_id": "c", "object": {"user_id": 1}}),
    ];
    let (events, malformed) = parse::updates(&updates, GROUP);
    assert_eq!(malformed.len(), 5, "{malformed:?}");
    assert_eq!(malformed[0].external_id.as_deref(), Some("event:a"));
    assert_eq!(events.len(), 2);
    assert!(matches!(events[1].inbound, Inbound::Ignored { .. }));
    assert_eq!(events[1].external_id, "event:c");
}

#[test]
fn long_poll_answers() {
    assert_eq!(
        check_body(r#"{"ts":"42","updates":[]}"#),
        Ok(Check::Updates {
            ts: "42".into(),
            updates: vec![]
        })
    );
    // The shared fixture's event uses a numeric ts.
    assert!(matches!(check_body(r#"{"ts":1,"updates":[{"type":"x"}]}"#),
        Ok(Check::Updates { ts, updates }) if ts == "1" && updates.len() == 1));
    assert_eq!(
        check_body(r#"{"failed":1,"ts":"77"}"#),
        Ok(Check::Failed {
            code: 1,
            ts: Some("77".into())
        })
    );
    assert_eq!(
        check_body(r#"{"failed":3}"#),
        Ok(Check::Failed { code: 3, ts: None })
    );
    assert_eq!(
        check_body(r#"{"failed":999}"#),
        Ok(Check::Failed {
            code: 999,
            ts: None
        })
    );
    assert!(check_body("<html>").is_err());
    assert!(check_body(r#"{"updates":[]}"#).is_err());
}

#[test]
fn api_envelopes_and_what_errors_mean_for_a_send() {
    assert_eq!(envelope(r#"{"response":17}"#), Ok(json!(17)));
    let internal = r#"{"error":{"error_code":10,"error_msg":"Internal server error: Unknown error, try later"}}"#;
    let e = envelope(internal).unwrap_err();
    assert!(matches!(e, Failure::Api { code: 10, .. }));
    assert!(matches!(
        send_outcome(e),
        SendOutcome::RetryLater { after: None, .. }
    ));
    let api = |code| Failure::Api {
        code,
        message: "m".into(),
    };
    assert!(matches!(
        send_outcome(api(6)),
        SendOutcome::RetryLater { after: Some(_), .. }
    ));
    assert!(matches!(
        send_outcome(api(9)),
        SendOutcome::RetryLater { after: Some(d), .. } if d >= std::time::Duration::from_secs(30)
    ));
    assert!(matches!(
        send_outcome(api(5)),
        SendOutcome::RetryLater { .. }
    ));
    assert!(matches!(
        send_outcome(api(901)),
        SendOutcome::Failed {
            unreachable: true,
            ..
        }
    ));
    assert!(matches!(
        send_outcome(api(15)),
        SendOutcome::Failed {
            unreachable: false,
            ..
        }
    ));
    // Whatever may have reached VK is retried: the random_id makes a repeat harmless.
    assert!(matches!(
        send_outcome(Failure::Transport("read timeout".into())),
        SendOutcome::RetryLater { .. }
    ));
    assert!(envelope(r#"{"ok":true}"#).is_err());
    // The poller stops only for what needs an admin.
    assert!(matches!(
        longpoll::poll_error(api(5)),
        PollError::Unauthorized(_)
    ));
    assert!(matches!(
        longpoll::poll_error(api(10)),
        PollError::Transient { .. }
    ));
}

#[test]
fn random_ids_are_stable_in_int32_and_distinct() {
    let a = random_id("0191a2b3-0000-7000-8000-000000000001:0");
    assert_eq!(a, random_id("0191a2b3-0000-7000-8000-000000000001:0"));
    assert!(a > 0);
    assert_ne!(a, random_id("0191a2b3-0000-7000-8000-000000000001:1"));
    let ids: std::collections::HashSet<i64> =
        (0..1000).map(|i| random_id(&format!("m{i}:0"))).collect();
    assert_eq!(ids.len(), 1000);
    assert!(ids.iter().all(|i| (1..=i64::from(i32::MAX)).contains(i)));
    assert!(
        ids.iter().any(|i| *i > 1 << 30),
        "the whole 31-bit range is used"
    );
}

#[test]
fn targets_round_trip() {
    for chat in ["5001", "2000000001", "wall-123_28:5001"] {
        assert_eq!(Target::parse(chat).unwrap().chat(), chat);
    }
    assert_eq!(Target::parse("wall-123_28"), None);
    assert_eq!(Target::parse("abc"), None);
}

#[test]
fn the_feedback_keyboard_is_an_inline_row_of_text_buttons_with_our_payloads() {
    let k: Value = serde_json::from_str(&keyboard(&[
        ("Да".into(), "fb:yes".into()),
        ("Нет".into(), "fb:no".into()),
    ]))
    .unwrap();
    assert_eq!(k["inline"], json!(true));
    let row = k["buttons"][0].as_array().unwrap();
    assert_eq!(row.len(), 2);
    assert_eq!(row[0]["action"]["type"], "text");
    assert_eq!(row[0]["action"]["label"], "Да");
    assert_eq!(row[0]["color"], "positive");
    assert_eq!(row[1]["color"], "negative");
    // VK wants the payload as a JSON string of at most 255 characters.
    let payload = row[1]["action"]["payload"].as_str().unwrap();
    assert!(payload.len() <= 255);
    assert_eq!(
        serde_json::from_str::<Value>(payload).unwrap()["button"],
        "fb:no"
    );
}

#[test]
fn a_tapped_feedback_button_is_the_answer_and_other_payloads_are_skipped() {
    let tap = |id: i64, text: &str, payload: Value| {
        one(message_new(json!({
            "id": id, "from_id": 5001, "peer_id": 5001, "date": 1_700_000_000, "out": 0,
            "text": text, "payload": payload,
        })))
    };
    let Ok(Inbound::Message(m)) = tap(1, "No", json!(parse::button_payload("fb:no"))) else {
        panic!("an answer")
    };
    assert_eq!((m.chat.as_str(), m.text.as_str()), ("5001", "No"));
    // A label that does not say the answer is replaced by the button's own words.
    let Ok(Inbound::Message(m)) = tap(2, "?", json!(parse::button_payload("fb:yes"))) else {
        panic!("an answer")
    };
    assert_eq!(m.text, "Да");
    for (id, payload) in [
        (3, json!("{\"button\":\"menu:1\"}")),
        (4, json!("{not json")),
        (5, json!("{\"button\":7}")),
        (6, json!(42)),
    ] {
        let skipped = tap(id, "Меню", payload);
        assert!(
            matches!(skipped, Ok(Inbound::Ignored { .. })),
            "{id}: {skipped:?}"
        );
    }
}
