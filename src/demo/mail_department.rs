//! The demo's department reached by e-mail: the SMTP sink takes what the center mails it, and
//! this plays the department's dispatcher, answering most forwards a while later by writing a
//! reply into the center's Maildir, as the city's mail server would deliver it. One forward in
//! three is left unanswered, so the reminders show too.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::smtp_sink::{Received, SmtpSink};

/// What the dispatcher answers, in turn.
const ANSWERS: [&str; 2] = [
    "Принято в работу. Бригада выедет сегодня, о результате сообщим.",
    "Выезжали на место: работы выполнены, проверьте, пожалуйста.",
];

pub struct MailDepartment {
    pub sink: Arc<SmtpSink>,
    pub maildir: PathBuf,
    /// The department's address (the replies' sender) and ours (their recipient).
    pub address: String,
    pub center: String,
    pub answer_after: Duration,
}

impl MailDepartment {
    /// Answers forwards until the process ends.
    pub fn play(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut seen = 0;
            let mut forwards = 0usize;
            loop {
                let got = self
                    .sink
                    .wait_for(seen + 1, Duration::from_secs(3600))
                    .await;
                for m in got.iter().skip(seen) {
                    let Some(reply) = self.reply_to(m, forwards) else {
                        continue;
                    };
                    forwards += 1;
                    let Some(reply) = reply else { continue };
                    let (dir, after) = (self.maildir.clone(), self.answer_after);
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        if let Err(e) = crate::channels::mail::deliver(&dir, reply.as_bytes()) {
                            tracing::warn!(error = %e, "the demo department's reply");
                        }
                    });
                }
                seen = got.len();
            }
        })
    }

    /// None: not a forward (a reminder, a «how to answer»); Some(None): a forward left
    /// unanswered; Some(Some(mail)): the reply.
    fn reply_to(&self, m: &Received, n: usize) -> Option<Option<String>> {
        let parsed = mail_parser::MessageParser::default().parse(m.data.as_bytes())?;
        let body = parsed.body_text(0)?;
        if !(body.contains("передано вам") || body.contains("is passed to you")) {
            return None;
        }
        if n % 3 == 2 {
            return Some(None);
        }
        let subject = parsed
            .subject()
            .unwrap_or_default()
            .replace(['\r', '\n'], " ");
        let id = parsed.message_id()?;
        let quoted: String = body.lines().map(|l| format!("> {l}\r\n")).collect();
        Some(Some(format!(
            "From: Диспетчер <{}>\r\nTo: {}\r\nSubject: Re: {subject}\r\n\
             Message-ID: <{}@demo.example>\r\nIn-Reply-To: <{id}>\r\nReferences: <{id}>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n{}\r\n\r\nДиспетчер пишет:\r\n{quoted}",
            self.address,
            self.center,
            uuid::Uuid::now_v7(),
            ANSWERS[n % ANSWERS.len()],
        )))
    }
}
