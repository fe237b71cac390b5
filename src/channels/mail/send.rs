//! Sending one outbox part as a mail over SMTP (`lettre`). The Message-ID is named by the
//! part, so a mail sent again after a lost answer is the same message, and a department's
//! reply to either copy names it.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
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
    let attached = attachments(&part.files).await;
    let message = if attached.is_empty() {
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
    } else {
        let mut mixed = MultiPart::mixed().singlepart(SinglePart::plain(body.to_string()));
        for a in attached {
            mixed = mixed.singlepart(a);
        }
        builder.multipart(mixed)
    };
    let message = match message {
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

/// The most a forward mail carries in files: mail servers commonly refuse messages over
/// 25 MB, and base64 makes files a third larger.
const MAX_ATTACHED: u64 = 15 * 1024 * 1024;

/// The files as attachments, named by their kind and place (`фото-1.jpg`): the gateway's own
/// file names are channel ids, meaningless to a department. A file gone from the disk, or one
/// past the size bound, is left out and logged; the mail still goes.
async fn attachments(files: &[String]) -> Vec<SinglePart> {
    let mut out = vec![];
    let mut total = 0u64;
    for (i, path) in files.iter().enumerate() {
        let bytes = match tokio::fs::read(path).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(%path, error = %e, "a forward's file left out");
                continue;
            }
        };
        total += bytes.len() as u64;
        if total > MAX_ATTACHED {
            tracing::warn!(%path, "a forward's file left out: the mail is full");
            continue;
        }
        let ext = std::path::Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
            .unwrap_or("bin")
            .to_ascii_lowercase();
        let (kind, mime) = match ext.as_str() {
            "jpg" | "jpeg" => ("фото", "image/jpeg"),
            "png" => ("фото", "image/png"),
            "webp" => ("фото", "image/webp"),
            "pdf" => ("файл", "application/pdf"),
            _ => ("файл", "application/octet-stream"),
        };
        let Ok(content_type) = ContentType::parse(mime) else {
            continue;
        };
        let name = format!("{kind}-{}.{ext}", i + 1);
        out.push(Attachment::new(name).body(bytes, content_type));
    }
    out
}
