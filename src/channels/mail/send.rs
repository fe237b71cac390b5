//! Sending one outbox part as a mail over SMTP (`lettre`). The Message-ID is named by the
//! part, so a mail sent again after a lost answer is the same message, and a department's
//! reply to either copy names it.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::channels::{OutboundPart, SendOutcome};
use crate::wire::mail;

pub(super) async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    domain: &str,
    part: &OutboundPart,
) -> SendOutcome {
    let to: Mailbox = match part.chat.parse() {
        Ok(m) => m,
        Err(e) => {
            return SendOutcome::Failed {
                reason: format!("`{}` is not an e-mail address: {e}", part.chat),
                unreachable: true,
            };
        }
    };
    let (message_id, part_no) = part.key.rsplit_once(':').unwrap_or((&part.key, "0"));
    let id = mail::message_id(message_id, part_no.parse().unwrap_or(0), domain);
    let (subject, body) = mail::parse(&part.text);
    // RFC 3834: a forward is generated, an answer to a mail is a reply; either way mailbox
    // robots (out-of-office) must not answer it.
    let auto = if part.reply_to.is_some() {
        "auto-replied"
    } else {
        "auto-generated"
    };
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject.unwrap_or("МЦУ"))
        .message_id(Some(format!("<{id}>")))
        .date_now()
        .header(ContentType::TEXT_PLAIN)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            auto.into(),
        ));
    // The id we answer came in a stranger's header: only its own characters go back out.
    let replied = part.reply_to.as_deref().map(|r| {
        r.chars()
            .filter(|c| !(c.is_whitespace() || c.is_control() || matches!(c, '<' | '>')))
            .collect::<String>()
    });
    if let Some(r) = replied.filter(|r| !r.is_empty()) {
        builder = builder
            .in_reply_to(format!("<{r}>"))
            .references(format!("<{r}>"));
    }
    let message = match builder.body(body.to_string()) {
        Ok(m) => m,
        Err(e) => {
            return SendOutcome::Failed {
                reason: format!("the mail could not be made: {e}"),
                unreachable: false,
            };
        }
    };
    match transport.send(message).await {
        Ok(_) => SendOutcome::Sent { external_id: id },
        Err(e) if e.is_permanent() => SendOutcome::Failed {
            reason: format!("the mail server refused: {e}"),
            unreachable: false,
        },
        // A mail server away, a 4xx, a timeout: tried again later. A mail may then arrive
        // twice, under one Message-ID; a lost forward would be worse.
        Err(e) => SendOutcome::RetryLater {
            reason: format!("mail: {e}"),
            after: None,
        },
    }
}
