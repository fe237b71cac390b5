//! A department reached by e-mail (#21 items 3–4), through the real gateway, a real SMTP
//! client against the SMTP sink, and a real Maildir: a forwarded request is mailed once (its
//! number in the subject, never the citizen's contacts); the department's reply — matched by
//! In-Reply-To or by the number in its subject — is recorded as its answer without the quoted
//! forward; a mail with no or a wrong number, from a stranger, or from a robot is attached to
//! nothing; a mail server away or refusing is retried or shown failed, and sent once.

mod common;

use common::{count, until};
use mcu_desk::channels::gateway::{self, GatewayEvent};
use mcu_desk::channels::mail::{Mail, MailSettings, deliver};
use mcu_desk::demo::smtp_sink::{Mode, Received, SmtpSink};
use mcu_desk::domain::Channel;
use mcu_desk::domain::Status;
use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::store::Store;
use mcu_desk::wire::mail::Security;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

const DEPT: &str = "dispatch@economy.city.example";
const US: &str = "mcu@city.example";

struct MailRig {
    _dir: tempfile::TempDir,
    db: PathBuf,
    maildir: PathBuf,
    store: Store,
    sink: SmtpSink,
    stop: watch::Sender<bool>,
    gw: tokio::task::JoinHandle<Result<(), gateway::GatewayError>>,
    events: mpsc::UnboundedReceiver<GatewayEvent>,
}

impl MailRig {
    async fn start() -> MailRig {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mcu.sqlite3");
        let maildir = dir.path().join("Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let sink = SmtpSink::start().await.unwrap();
        let store = Store::open(&db, common::env()).await.unwrap();
        let mail = Mail::new(MailSettings {
            host: "127.0.0.1".into(),
            port: sink.port(),
            security: Security::None,
            username: String::new(),
            password: None,
            from: US.into(),
            maildir: Some(maildir.clone()),
            timeout: Duration::from_secs(5),
            poll_every: Duration::from_millis(50),
            poll_wait: Duration::from_secs(1),
        })
        .unwrap();
        let mut opts = common::options(Some(dir.path().join("files")));
        opts.rules
            .department_mail
            .insert("city_economy".into(), DEPT.into());
        let (tx, events) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let gw = tokio::spawn(gateway::run(
            store.clone(),
            Arc::new(mail),
            opts,
            tx,
            stop_rx,
        ));
        // Mailing starts at the newest forward when first turned on: wait for that mark.
        until(Duration::from_secs(10), "the mail sweep's start", || {
            count(
                &db,
                "SELECT count(*) FROM meta WHERE key = 'department_mail_cursor'",
            ) == 1
        })
        .await;
        MailRig {
            _dir: dir,
            db,
            maildir,
            store,
            sink,
            stop,
            gw,
            events,
        }
    }

    async fn finish(self) {
        let _ = self.stop.send(true);
        self.gw.await.unwrap().unwrap();
    }

    /// A citizen's request, forwarded to `to` with a note: its number.
    async fn forwarded(&self, text: &str, to: &str) -> String {
        self.forwarded_with(text, to, vec![]).await
    }

    /// As [`forwarded`], the request carrying `attachments`.
    async fn forwarded_with(
        &self,
        text: &str,
        to: &str,
        attachments: Vec<mcu_desk::domain::request::Attachment>,
    ) -> String {
        let now = chrono::Utc::now();
        let mut new = NewRequest::new(Channel::Telegram, text, now);
        new.attachments = attachments;
        new.channel_ref.chat = Some("4242".into());
        new.citizen = Some("Вера Петрова".into());
        new.phone = Some("+79181112233".into());
        let id = Uuid::now_v7();
        let r = self
            .store
            .apply(Mutation::new(id, "gw", now, Op::Create(Box::new(new))))
            .await
            .unwrap()
            .request;
        let op = Op::Forward {
            department: Some(to.into()),
            note_id: Uuid::now_v7(),
            note: Some("Прошу проверить и ответить".into()),
        };
        self.store
            .apply(Mutation::new(id, "anna", now, op))
            .await
            .unwrap();
        r.number.to_string()
    }

    fn deliver(&self, raw: &str) {
        deliver(&self.maildir, raw.replace('\n', "\r\n").as_bytes()).unwrap();
    }

    /// Waits until `n` mails have been taken from `new/` into `cur/`.
    async fn read(&self, n: usize) {
        let (new, cur) = (self.maildir.join("new"), self.maildir.join("cur"));
        until(Duration::from_secs(20), "the mails read", || {
            files(&new) == 0 && files(&cur) == n
        })
        .await;
    }

    fn answers(&self, number: &str) -> Vec<(String, String)> {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        let mut st = c
            .prepare(
                "SELECT n.author, n.body FROM note n JOIN request r ON r.rid = n.request_rid
                 WHERE r.number = ?1 AND n.kind = 'department_answer'",
            )
            .unwrap();
        st.query_map([number], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn parsed(m: &Received) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(m.data.as_bytes())
        .expect("a mail")
}

fn reply(from: &str, subject: &str, in_reply_to: Option<&str>, body: &str) -> String {
    let threading = in_reply_to
        .map(|id| format!("In-Reply-To: <{id}>\nReferences: <{id}>\n"))
        .unwrap_or_default();
    format!(
        "From: =?utf-8?b?0JTQuNGB0L/QtdGC0YfQtdGA?= <{from}>\nTo: {US}\nSubject: {subject}\nMessage-ID: <{}@economy.city.example>\n{threading}Date: Mon, 7 Dec 2026 12:00:00 +0300\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n",
        Uuid::now_v7()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citizens_photo_goes_with_the_forward_mail() {
    use mail_parser::MimeHeaders;
    use mcu_desk::domain::request::{Attachment, AttachmentState};
    let rig = MailRig::start().await;
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7u8; 2000], &[0xFF, 0xD9]].concat();
    let on_disk = rig._dir.path().join("files").join("AgACAgIAAxk.jpg");
    std::fs::create_dir_all(on_disk.parent().unwrap()).unwrap();
    std::fs::write(&on_disk, &jpeg).unwrap();
    let photo = |path: &str, state| Attachment {
        kind: "photo".into(),
        name: None,
        size: Some(jpeg.len() as u64),
        source: Some("AgACAgIAAxk".into()),
        local_path: Some(path.into()),
        state,
    };
    let number = rig
        .forwarded_with(
            "Яма во дворе, вот фото",
            "city_economy",
            vec![
                photo(&on_disk.display().to_string(), AttachmentState::Stored),
                // Not fetched yet: nothing to attach.
                photo("/nowhere/x.jpg", AttachmentState::Pending),
            ],
        )
        .await;
    let got = rig.sink.wait_for(1, Duration::from_secs(20)).await;
    let m = parsed(&got[0]);
    assert!(m.subject().unwrap_or_default().contains(&number));
    assert!(
        m.body_text(0).unwrap().contains("Яма во дворе"),
        "the forward's text still reads first"
    );
    let attached: Vec<_> = m.attachments().collect();
    assert_eq!(attached.len(), 1, "the stored photo, once");
    assert_eq!(attached[0].attachment_name(), Some("фото-1.jpg"));
    assert_eq!(attached[0].contents(), jpeg.as_slice());
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_answers_by_mail_and_only_its_requests_take_it() {
    let rig = MailRig::start().await;
    let ours = rig
        .forwarded("Прорвало трубу во дворе, ул. Мира 5", "city_economy")
        .await;
    let second = rig
        .forwarded("Не вывезли мусор с площадки у дома 12", "city_economy")
        .await;
    let elsewhere = rig
        .forwarded("Яма на дороге у школы", "transport_roads")
        .await;

    let got = rig.sink.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(
        got.len(),
        2,
        "one mail per forward to the mailed department"
    );
    let first = got
        .iter()
        .find(|m| parsed(m).subject().unwrap_or_default().contains(&ours))
        .expect("the forward of ours");
    assert_eq!(first.to, vec![DEPT.to_string()]);
    assert_eq!(first.from, US);
    let m = parsed(first);
    assert_eq!(
        m.subject().unwrap(),
        format!("[МЦУ {ours}] Прорвало трубу во дворе, ул. Мира 5")
    );
    let body = m.body_text(0).unwrap().to_string();
    assert!(body.contains("Прорвало трубу во дворе"), "{body}");
    assert!(body.contains("Прошу проверить и ответить"), "{body}");
    assert!(body.contains("Ответ нужен до"), "{body}");
    assert!(
        !first.data.contains("Вера") && !body.contains("Вера") && !body.contains("918"),
        "the citizen's name and phone are not the department's: {body}"
    );
    assert_eq!(
        m.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-generated")
    );
    let message_id = m.message_id().unwrap().to_string();
    assert!(message_id.starts_with("mcu.") && message_id.ends_with("@city.example"));

    // A reply to our mail, quoting it, and a new mail naming the other request in its subject.
    rig.deliver(&reply(
        DEPT,
        &format!("Re: [МЦУ {ours}] Прорвало трубу"),
        Some(&message_id),
        &format!(
            "Бригада выехала, устраним к 18:00.\n\nOn Mon, 7 Dec 2026 at 12:00, {US} wrote:\n> Здравствуйте!\n> Обращение {ours} передано вам"
        ),
    ));
    rig.deliver(&reply(
        &DEPT.to_uppercase(),
        &format!("По обращению {second}"),
        None,
        "Вывезли.",
    ));
    rig.read(2).await;
    let answers = rig.answers(&ours);
    assert_eq!(
        answers,
        vec![(
            "Департамент городского хозяйства и ТЭК".to_string(),
            "Бригада выехала, устраним к 18:00.".to_string()
        )],
        "recorded under the department's name, without the quoted forward"
    );
    assert_eq!(
        rig.store.resolve(&ours).await.unwrap().status,
        Status::InWork
    );
    assert_eq!(
        rig.answers(&second).len(),
        1,
        "matched by the subject's number"
    );
    assert_eq!(
        rig.store.resolve(&elsewhere).await.unwrap().status,
        Status::WaitingDepartment
    );
    rig.finish().await;
}

/// A reply with a photo attached, and the signature's logo placed in the text by its
/// Content-ID, as mail programs send them.
fn photo_reply(subject: &str, body: &str) -> String {
    format!(
        "From: <{DEPT}>\nTo: {US}\nSubject: {subject}\nMessage-ID: <{}@economy.city.example>\nDate: Mon, 7 Dec 2026 12:00:00 +0300\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n--b1\nContent-Type: image/png\nContent-Disposition: inline\nContent-ID: <logo@economy.city.example>\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b1\nContent-Type: image/jpeg; name=\"site.jpg\"\nContent-Disposition: attachment; filename=\"site.jpg\"\nContent-Transfer-Encoding: base64\n\n/9j/4AAQSkZJRgAB\n--b1--\n",
        Uuid::now_v7()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_s_photo_by_mail_joins_the_request_and_is_fetched_from_the_maildir() {
    let rig = MailRig::start().await;
    let ours = rig
        .forwarded("Прорвало трубу во дворе, ул. Мира 5", "city_economy")
        .await;
    rig.sink.wait_for(1, Duration::from_secs(20)).await;

    rig.deliver(&photo_reply(
        &format!("Re: [МЦУ {ours}] Прорвало трубу"),
        "Бригада на месте, фото прилагаем.",
    ));
    rig.read(1).await;
    until(Duration::from_secs(30), "the photo fetched", || {
        count(&rig.db, "SELECT count(*) FROM file_job") == 0
    })
    .await;
    assert_eq!(
        rig.answers(&ours),
        vec![(
            "Департамент городского хозяйства и ТЭК".to_string(),
            "Бригада на месте, фото прилагаем.\n📎 Департамент приложил файлы: 1 — во вложениях обращения."
                .to_string()
        )],
        "the logo in the signature is not counted as a file"
    );
    let r = rig.store.resolve(&ours).await.unwrap();
    assert_eq!(r.attachments.len(), 1, "{:?}", r.attachments);
    let a = &r.attachments[0];
    assert_eq!(
        (a.kind.as_str(), a.name.as_deref()),
        ("photo", Some("site.jpg"))
    );
    let path = a.local_path.as_deref().expect("stored");
    assert_eq!(
        std::fs::read(path).unwrap(),
        [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01
        ],
        "the JPEG's bytes, decoded from the mail"
    );
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_naming_nothing_of_theirs_is_attached_to_nothing_and_answered_once() {
    let rig = MailRig::start().await;
    let ours = rig
        .forwarded("Нет отопления в доме 7", "city_economy")
        .await;
    let elsewhere = rig
        .forwarded("Яма на дороге у школы", "transport_roads")
        .await;
    let forward = rig.sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(forward.len(), 1);

    // No number: attached to nothing, and told how to answer.
    rig.deliver(&reply(
        DEPT,
        "Вопрос",
        None,
        "Кто-нибудь знает, что с водой?",
    ));
    let got = rig.sink.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 2);
    let told = parsed(&got[1]);
    assert_eq!(got[1].to, vec![DEPT.to_string()]);
    assert_eq!(told.subject(), Some("Re: Вопрос"));
    assert!(
        told.body_text(0)
            .unwrap()
            .contains("Не нашли, к какому обращению"),
        "{:?}",
        told.body_text(0)
    );
    assert_eq!(
        told.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-replied")
    );
    assert!(told.in_reply_to().as_text().is_some());
    rig.read(1).await;

    // Another department's number; a stranger naming ours; the department's robot; our own
    // mail come back: none is an answer, and none is answered (one «how to answer» an hour).
    rig.deliver(&reply(
        DEPT,
        &format!("[МЦУ {elsewhere}]"),
        None,
        "Дорогу отремонтируем",
    ));
    rig.deliver(&reply(
        "someone@mail.example",
        &format!("Re: [МЦУ {ours}]"),
        None,
        "Я тоже жду отопления",
    ));
    rig.deliver(
        &reply(
            DEPT,
            &format!("Автоответ: [МЦУ {ours}]"),
            None,
            "Я в отпуске",
        )
        .replace("MIME-Version", "Auto-Submitted: auto-replied\nMIME-Version"),
    );
    rig.deliver(&reply(US, &format!("[МЦУ {ours}]"), None, "петля"));
    rig.read(5).await;
    assert!(rig.answers(&ours).is_empty());
    assert!(rig.answers(&elsewhere).is_empty());
    assert_eq!(
        rig.store.resolve(&ours).await.unwrap().status,
        Status::WaitingDepartment
    );
    assert_eq!(
        count(
            &rig.db,
            "SELECT count(*) FROM outbox WHERE channel = 'email' AND reply_to IS NOT NULL"
        ),
        1,
        "one «how to answer» for the department, none for the rest"
    );
    assert_eq!(
        count(
            &rig.db,
            "SELECT count(*) FROM inbound_event WHERE channel = 'email'"
        ),
        5
    );
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_away_is_retried_and_a_refusal_shows_failed() {
    let mut rig = MailRig::start().await;
    rig.sink.set_mode(Mode::Down);
    let number = rig
        .forwarded("Не горит фонарь у дома 3", "city_economy")
        .await;
    let mut retried = 0;
    while retried < 2 {
        match tokio::time::timeout(Duration::from_secs(20), rig.events.recv())
            .await
            .expect("a retry")
        {
            Some(GatewayEvent::Retry { chat, .. }) if chat == DEPT => retried += 1,
            Some(GatewayEvent::Sent { .. }) => panic!("sent while the server was down"),
            Some(_) => {}
            None => panic!("the gateway stopped"),
        }
    }
    rig.sink.set_mode(Mode::Accept);
    let got = rig.sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 1);
    assert!(parsed(&got[0]).subject().unwrap().contains(&number));
    until(Duration::from_secs(10), "the part sent", || {
        count(
            &rig.db,
            "SELECT count(*) FROM outbox WHERE channel = 'email' AND state = 'sent'",
        ) == 1
    })
    .await;

    rig.sink.set_mode(Mode::Refuse);
    rig.forwarded("Упало дерево на ул. Садовой", "city_economy")
        .await;
    until(Duration::from_secs(20), "the refusal recorded", || {
        count(
            &rig.db,
            "SELECT count(*) FROM outbox WHERE channel = 'email' AND state = 'failed' AND error LIKE '%550%'",
        ) == 1
    })
    .await;
    let mut failed = false;
    while let Ok(e) = rig.events.try_recv() {
        failed |= matches!(e, GatewayEvent::Failed { chat, .. } if chat == DEPT);
    }
    assert!(failed, "the failure is told to whoever shows the gateway");
    assert_eq!(rig.sink.received().len(), 1, "each mail sent once");
    rig.finish().await;
}

#[test]
fn mail_in_delivers_a_piped_mail_into_the_maildir_or_asks_the_mta_to_keep_it() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let run = |config: &str, mail: &str| {
        std::fs::write(dir.path().join("mail.toml"), config).unwrap();
        let mut child = common::mcu_in(dir.path(), "mail.toml")
            .arg("mail-in")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(mail.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let mail = reply(DEPT, "[МЦУ 2026-000001]", None, "Сделано.");
    let out = run("", &mail);
    assert_eq!(
        out.status.code(),
        Some(75),
        "no Maildir set: the MTA keeps the mail"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("inbox_maildir"));
    let config = format!("[smtp]\ninbox_maildir = \"{}\"\n", maildir.display());
    let out = run(&config, &mail);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new: Vec<_> = std::fs::read_dir(maildir.join("new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(new.len(), 1);
    assert_eq!(std::fs::read_to_string(&new[0]).unwrap(), mail);
    assert_eq!(
        files(&maildir.join("tmp")),
        0,
        "written in tmp/, then moved"
    );
}
