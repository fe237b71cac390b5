//! A department reached by e-mail in team mode (#21 item 3), through `mcu serve --channels
//! telegram,email` on both server stores: a team console forwards a request, the server's
//! mail gateway mails it to the department once (to the SMTP sink), and the department's
//! reply, delivered into the server's Maildir, reaches the console as its answer.

mod common;

use mcu_desk::demo::smtp_sink::SmtpSink;
use serde_json::Value;
use std::time::Duration;

use common::{team_console as console, until};

const SCOPE: &str = "krasnodar";
const DEPT: &str = "dispatch@economy.city.example";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_answers_by_mail_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    answers(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_answers_by_mail_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    answers(db, tempfile::tempdir().unwrap()).await;
}

async fn answers(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sink = SmtpSink::start().await.unwrap();
    let maildir = d.join("Maildir");
    let extra = format!(
        "[departments.city_economy]\nemail = \"{DEPT}\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"mcu@city.example\"\n\
         inbox_maildir = \"{}\"\npoll_secs = 0.1\n",
        sink.port(),
        maildir.display()
    );
    let sim = common::three_channels_setup(d, SCOPE, &extra).await;
    let token = common::add_account(d, &db, "anna", "operator");
    sim.inject_text(5001, "Прорвало трубу во дворе, ул. Мира 5");
    let served = common::serve_channels(d, &db, "telegram,email");
    let base = served.base.clone();
    let listed = common::listed(d, &base, &token, 1).await;
    let number = listed[0]["number"].as_str().unwrap().to_owned();
    console(
        d,
        &base,
        &token,
        &[
            "forward",
            &number,
            "--department",
            "city_economy",
            "--note",
            "Срочно",
        ],
    );
    console(d, &base, &token, &["sync"]);
    let got = sink.wait_for(1, Duration::from_secs(40)).await;
    assert_eq!(got.len(), 1, "the forward mailed");
    let mail = mail_parser::MessageParser::default()
        .parse(got[0].data.as_bytes())
        .unwrap();
    let subject = mail.subject().unwrap_or_default().to_string();
    assert!(subject.contains(&format!("[МЦУ {number}]")), "{subject}");
    assert!(mail.body_text(0).unwrap().contains("Срочно"));
    let ours = mail.message_id().unwrap().to_string();
    let reply = format!(
        "From: {DEPT}\r\nTo: mcu@city.example\r\nSubject: Re: {subject}\r\n\
         Message-ID: <r1@economy.city.example>\r\nIn-Reply-To: <{ours}>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nБригада на месте, к 18:00 устраним\r\n"
    );
    mcu_desk::channels::mail::deliver(&maildir, reply.as_bytes()).unwrap();
    let mut shown = Value::Null;
    until(Duration::from_secs(40), "the answer on the console", || {
        console(d, &base, &token, &["sync"]);
        shown = console(d, &base, &token, &["show", &number]);
        shown["status"] == "in_work"
    })
    .await;
    assert!(
        shown
            .to_string()
            .contains("Бригада на месте, к 18:00 устраним"),
        "{shown}"
    );
    assert_eq!(sink.received().len(), 1, "mailed once");
}
