//! A department reached through the city's bot (#21 item 3), through the real gateway and the
//! simulator: a forwarded request is posted to the department's Telegram group once; the
//! department's reply to the post is recorded as its answer; a message there that names no
//! request of theirs (none, or another department's) is attached to nothing, and the bot says
//! how to answer.

mod common;

use common::{Rig, count, until};
use mcu_desk::demo::sim::SimOptions;
use mcu_desk::domain::Status;
use mcu_desk::domain::mutation::{Mutation, Op};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

const ECONOMY: i64 = -100_880_001;

fn citizen(chat: i64, id: i64, text: &str) -> serde_json::Value {
    json!({"message": {
        "message_id": id,
        "from": {"id": chat, "is_bot": false, "first_name": "Вера"},
        "chat": {"id": chat, "type": "private", "first_name": "Вера"},
        "date": chrono::Utc::now().timestamp(),
        "text": text,
    }})
}

fn department(id: i64, text: &str, reply_to: Option<i64>) -> serde_json::Value {
    let mut m = json!({
        "message_id": id,
        "from": {"id": 555, "is_bot": false, "first_name": "Диспетчер ЖКХ"},
        "chat": {"id": ECONOMY, "type": "supergroup", "title": "ЖКХ — обращения МЦУ"},
        "date": chrono::Utc::now().timestamp(),
        "text": text,
    });
    if let Some(r) = reply_to {
        m["reply_to_message"] = json!({
            "message_id": r,
            "from": {"id": 1, "is_bot": true, "first_name": "mcu_bot"},
            "chat": {"id": ECONOMY, "type": "supergroup", "title": "ЖКХ — обращения МЦУ"},
            "date": chrono::Utc::now().timestamp(),
            "text": "…",
        });
    }
    json!({ "message": m })
}

/// A gateway that knows the economy department's group, and a quiet simulator with it open.
async fn rig() -> Rig {
    let mut gateway = common::options(None);
    gateway
        .rules
        .departments
        .insert("city_economy".into(), ECONOMY.to_string());
    let opts = SimOptions {
        per_minute: 0.0,
        burst: 0,
        ..SimOptions::default()
    };
    let rig = Rig::start_full(opts, Duration::from_secs(2), common::env(), gateway).await;
    rig.sim.open_chat(ECONOMY);
    rig
}

/// Every photo report so far was taken: the bot never answered how to reply.
fn no_one_told_how_to_answer(rig: &Rig) {
    let told = rig
        .bot_messages(ECONOMY)
        .into_iter()
        .filter(|(_, t)| t.contains("Не нашли, к какому обращению"))
        .count();
    assert_eq!(
        told, 0,
        "a photo report is not a message that names nothing"
    );
}

/// The department's answer as recorded on the request.
async fn answer_on(rig: &Rig, number: &str) -> mcu_desk::domain::request::Note {
    let d = rig.store.detail(number).await.unwrap();
    d.notes
        .into_iter()
        .find(|n| n.kind == mcu_desk::domain::request::NoteKind::DepartmentAnswer)
        .expect("recorded")
}

async fn forwarded(rig: &Rig, chat: i64, text: &str, to: &str) -> String {
    let number = rig.new_request(chat, citizen(chat, 1, text)).await;
    let r = rig.store.resolve(&number).await.unwrap();
    let op = Op::Forward {
        department: Some(to.into()),
        note_id: Uuid::now_v7(),
        note: Some("Прошу проверить и ответить".into()),
    };
    rig.store
        .apply(Mutation::new(r.id, "anna", chrono::Utc::now(), op))
        .await
        .unwrap();
    number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_answers_in_its_chat_and_only_its_requests_take_it() {
    let rig = rig().await;
    let ours = forwarded(
        &rig,
        8_880_001,
        "Прорвало трубу во дворе, ул. Мира 5",
        "city_economy",
    )
    .await;
    let elsewhere = forwarded(&rig, 8_880_002, "Яма на дороге у школы", "transport_roads").await;

    let post = rig
        .bot_said(ECONOMY, &format!("Обращение {ours} передано вам"))
        .await;
    let posts = rig.bot_messages(ECONOMY);
    let (_, text) = posts.iter().find(|(id, _)| *id == post).unwrap();
    assert!(text.contains("Прорвало трубу во дворе"), "{text}");
    assert!(text.contains("Прошу проверить и ответить"), "{text}");
    assert!(
        !text.contains("Вера"),
        "the citizen's name is not the department's: {text}"
    );

    // A message naming nothing, then one naming another department's request.
    rig.sim
        .inject_raw(department(10, "Кто-нибудь знает, что с водой?", None));
    rig.sim.inject_raw(department(
        11,
        &format!("По {elsewhere}: дорогу отремонтируем"),
        None,
    ));
    until(
        Duration::from_secs(10),
        "two answers that match nothing",
        || {
            rig.bot_messages(ECONOMY)
                .iter()
                .filter(|(_, t)| t.contains("Не нашли, к какому обращению"))
                .count()
                == 2
        },
    )
    .await;
    let other = rig.store.resolve(&elsewhere).await.unwrap();
    assert_eq!(
        other.status,
        Status::WaitingDepartment,
        "not theirs to answer"
    );

    // The reply to the post is the answer.
    rig.sim.inject_raw(department(
        12,
        "Бригада выехала, воду дадут к 18:00",
        Some(post),
    ));
    let sql =
        format!("SELECT count(*) FROM request WHERE number = '{ours}' AND status = 'in_work'");
    until(Duration::from_secs(10), "the department's answer", || {
        count(&rig.db, &sql) == 1
    })
    .await;
    let r = rig.store.resolve(&ours).await.unwrap();
    assert!(
        r.department_answer_waiting(),
        "the operator sees it to send on"
    );
    let answer = answer_on(&rig, &ours).await;
    assert_eq!(answer.body, "Бригада выехала, воду дадут к 18:00");
    assert_eq!(answer.author, "Диспетчер ЖКХ");
    assert_eq!(
        count(&rig.db, "SELECT count(*) FROM request"),
        2,
        "the department's chat made no request"
    );
    // Posted once, whatever the sweeps (one each 50 ms) did meanwhile.
    let posted = rig
        .bot_messages(ECONOMY)
        .iter()
        .filter(|(_, t)| t.contains("передано вам"))
        .count();
    assert_eq!(posted, 1);
    rig.finish().await;
}

/// A citizen's message with one file (`field`: `photo` or `document`) and a caption, made a
/// request and forwarded to the economy department; its number and the file's attachment.
async fn forwarded_with_file(
    rig: &Rig,
    chat: i64,
    caption: &str,
    field: &str,
    file: serde_json::Value,
) -> (String, mcu_desk::domain::request::Attachment) {
    let mut update = citizen(chat, 1, "");
    let m = update["message"].as_object_mut().unwrap();
    m.remove("text");
    m.insert("caption".into(), json!(caption));
    m.insert(field.into(), file);
    let number = rig.new_request(chat, update).await;
    let r = rig.store.resolve(&number).await.unwrap();
    let op = Op::Forward {
        department: Some("city_economy".into()),
        note_id: Uuid::now_v7(),
        note: None,
    };
    rig.store
        .apply(Mutation::new(r.id, "anna", chrono::Utc::now(), op))
        .await
        .unwrap();
    (number, r.attachments[0].clone())
}

/// The brigade answers under the bot's message `under`: the request takes it as the answer.
async fn answered_under(rig: &Rig, number: &str, id: i64, text: &str, under: i64) {
    rig.sim.inject_raw(department(id, text, Some(under)));
    let sql =
        format!("SELECT count(*) FROM request WHERE number = '{number}' AND status = 'in_work'");
    until(Duration::from_secs(10), "the answer under the file", || {
        count(&rig.db, &sql) == 1
    })
    .await;
    assert_eq!(answer_on(rig, number).await.body, text);
    no_one_told_how_to_answer(rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citizens_photo_follows_the_post_and_a_reply_to_it_is_the_answer() {
    let rig = rig().await;
    let photo = rig.sim.photo();
    let (number, file) = forwarded_with_file(
        &rig,
        8_880_007,
        "Яма во дворе, ул. Мира 7 — вот она",
        "photo",
        photo,
    )
    .await;
    let file_id = file.source.expect("the photo's file_id");
    let post = rig
        .bot_said(ECONOMY, &format!("Обращение {number} передано вам"))
        .await;
    let photo = rig
        .bot_said(ECONOMY, &format!("📷 Фото к обращению {number}"))
        .await;
    assert!(photo > post, "the photo after the post");
    let sent = rig.sim.sent();
    let to_department = &sent.chats[&ECONOMY.to_string()];
    let photos: Vec<_> = to_department.iter().filter(|m| m.photo.is_some()).collect();
    assert_eq!(photos.len(), 1, "one photo, once: {to_department:?}");
    assert_eq!(photos[0].photo.as_deref(), Some(file_id.as_str()));
    // The brigade answers under the photo: that is an answer to the request too.
    answered_under(&rig, &number, 30, "Засыплем яму до пятницы", photo).await;
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_sent_as_a_file_follows_the_post_as_a_document_and_a_reply_to_it_is_the_answer() {
    let rig = rig().await;
    // Sent "as a file" to keep its quality: Telegram delivers it as a document.
    let document = rig.sim.picture_document("IMG_0042.JPG");
    let caption = "Провал асфальта у дома 3, фото в полном качестве";
    let (number, file) = forwarded_with_file(&rig, 8_880_008, caption, "document", document).await;
    assert_eq!(file.kind, "document");
    assert!(file.is_picture(), "the card draws it");
    let file_id = file.source.expect("its file_id");
    let post = rig
        .bot_said(ECONOMY, &format!("Обращение {number} передано вам"))
        .await;
    let sent_file = rig
        .bot_said(ECONOMY, &format!("📎 Файл к обращению {number}"))
        .await;
    assert!(sent_file > post, "the file after the post");
    let sent = rig.sim.sent();
    let to_department = &sent.chats[&ECONOMY.to_string()];
    // By sendDocument: Telegram refuses a document's id in sendPhoto.
    let documents: Vec<_> = to_department
        .iter()
        .filter_map(|m| m.document.as_deref())
        .collect();
    assert_eq!(documents, [file_id.as_str()], "{to_department:?}");
    assert!(to_department.iter().all(|m| m.photo.is_none()));
    answered_under(&rig, &number, 31, "Асфальт положим в среду", sent_file).await;
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_report_without_a_word_is_the_answer_and_its_photo_reaches_the_request() {
    let rig = rig().await;
    let ours = forwarded(&rig, 8_880_003, "Сломана лавочка в сквере", "city_economy").await;
    let post = rig
        .bot_said(ECONOMY, &format!("Обращение {ours} передано вам"))
        .await;

    // A photo, no caption, in reply to the post: what a brigade sends from the site.
    let mut report = department(20, "", Some(post));
    let m = report["message"].as_object_mut().unwrap();
    m.remove("text");
    m.insert("photo".into(), rig.sim.photo());
    rig.sim.inject_raw(report);
    let sql =
        format!("SELECT count(*) FROM request WHERE number = '{ours}' AND status = 'in_work'");
    until(
        Duration::from_secs(10),
        "the photo report as the answer",
        || count(&rig.db, &sql) == 1,
    )
    .await;
    until(Duration::from_secs(30), "the photo fetched", || {
        count(&rig.db, "SELECT count(*) FROM file_job") == 0
    })
    .await;
    let r = rig.store.resolve(&ours).await.unwrap();
    assert_eq!(r.attachments.len(), 1, "{:?}", r.attachments);
    let path = r.attachments[0].local_path.as_deref().expect("stored");
    assert!(
        std::fs::read(path).unwrap().starts_with(&[0xFF, 0xD8]),
        "a JPEG on disk"
    );
    let answer = answer_on(&rig, &ours).await;
    assert_eq!(
        answer.body,
        "📎 Департамент приложил файлы: 1 — во вложениях обращения."
    );
    no_one_told_how_to_answer(&rig);
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_report_sent_as_an_album_keeps_every_photo() {
    let rig = rig().await;
    let ours = forwarded(
        &rig,
        8_880_004,
        "Упало дерево на детской площадке",
        "city_economy",
    )
    .await;
    let post = rig
        .bot_said(ECONOMY, &format!("Обращение {ours} передано вам"))
        .await;

    // Two photos at once: Telegram sends them as two messages of one album, the caption on
    // the first.
    for (id, caption) in [(30, "Дерево убрали"), (31, "")] {
        let mut photo = department(id, caption, Some(post));
        let m = photo["message"].as_object_mut().unwrap();
        m.remove("text");
        if !caption.is_empty() {
            m.insert("caption".into(), json!(caption));
        }
        m.insert("media_group_id".into(), json!("13579"));
        m.insert("photo".into(), rig.sim.photo());
        rig.sim.inject_raw(photo);
    }
    until(Duration::from_secs(30), "both photos fetched", || {
        count(
            &rig.db,
            "SELECT count(*) FROM inbound_event WHERE outcome LIKE 'department_%'",
        ) == 2
            && count(&rig.db, "SELECT count(*) FROM file_job") == 0
    })
    .await;
    let r = rig.store.resolve(&ours).await.unwrap();
    assert_eq!(r.status, Status::InWork);
    assert_eq!(r.attachments.len(), 2, "{:?}", r.attachments);
    assert!(
        r.attachments.iter().all(|a| a.local_path.is_some()),
        "{:?}",
        r.attachments
    );
    let answer = answer_on(&rig, &ours).await;
    assert_eq!(
        answer.body,
        "Дерево убрали\n📎 Департамент приложил файлы: 1 — во вложениях обращения."
    );
    no_one_told_how_to_answer(&rig);
    rig.finish().await;
}
