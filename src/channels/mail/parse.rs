//! One mail from the inbox, as the store reads it: a department's answer (sender, Message-ID,
//! the reply's own words, its subject and which of our mails it answers) or a mail to leave
//! alone. Parsed by `mail-parser`; nothing in a mail is trusted — a mail that does not parse
//! is malformed, never a reason to stop reading the inbox, and the domain clips what it keeps.

use chrono::{DateTime, Utc};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

use crate::domain::request::{Attachment, AttachmentState};
use crate::wire::intake::{Inbound, InboundEvent, IncomingMessage};
use crate::wire::mail::ID_PREFIX;

/// A mail bigger than this is not read (a department's answer is words, maybe a photo).
pub const MAX_MAIL_BYTES: usize = 25 * 1024 * 1024;

/// What one mail is; `Err` says why it is no mail at all. `file` is its name in the Maildir,
/// which its attachments' sources point into.
pub fn event(
    raw: &[u8],
    file: &str,
    ours: &str,
    now: DateTime<Utc>,
) -> Result<InboundEvent, String> {
    if raw.len() > MAX_MAIL_BYTES {
        return Err(format!("larger than {} MB", MAX_MAIL_BYTES / 1024 / 1024));
    }
    let Some(msg) = MessageParser::default().parse(raw) else {
        return Err("not a mail message".into());
    };
    // Its id for the store's once-only: the Message-ID, or the mail's own hash without one.
    let external_id = match msg.message_id().map(str::trim).filter(|m| !m.is_empty()) {
        Some(id) => id.to_string(),
        None => {
            use sha2::Digest;
            let hash = sha2::Sha256::digest(raw);
            format!("sha256:{}", hex(&hash[..16]))
        }
    };
    let sender = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .and_then(|a| crate::domain::email::address(a).ok());
    let subject = msg.subject().map(str::to_string);
    let payload = format!(
        "from: {}\nsubject: {}\nmessage-id: {external_id}\nbytes: {}",
        sender.as_deref().unwrap_or("?"),
        subject.as_deref().unwrap_or(""),
        raw.len()
    );
    let ignored = |reason: &str| InboundEvent {
        external_id: external_id.clone(),
        payload: payload.clone(),
        inbound: Inbound::Ignored {
            reason: reason.into(),
        },
    };
    let Some(sender) = sender else {
        return Ok(ignored("no sender address"));
    };
    if let Some(why) = automatic(&msg, &sender, ours) {
        return Ok(ignored(why));
    }
    let ours_domain = crate::domain::email::domain_of(ours);
    let replied = [msg.in_reply_to(), msg.references()]
        .into_iter()
        .flat_map(ids)
        .find(|id| id.starts_with(ID_PREFIX) && id.ends_with(&format!("@{ours_domain}")));
    let text = msg
        .body_text(0)
        .map(|t| super::quote::own_words(&t))
        .unwrap_or_default();
    let at = msg
        .date()
        .and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0))
        .unwrap_or(now);
    let author = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.name())
        .map(str::to_string);
    Ok(InboundEvent {
        external_id: external_id.clone(),
        payload: payload.clone(),
        inbound: Inbound::Message(IncomingMessage {
            chat: sender,
            message: external_id,
            author,
            text,
            attachments: attachments(&msg, file),
            location: None,
            reply_to: replied,
            media_group: None,
            category: None,
            phone: None,
            subject,
            at,
        }),
    })
}

/// The files a mail carries, each pointing at its place in the mail (`mail:<file>#<n>`, the
/// n-th attachment) so that the fetcher reads it from the Maildir like any channel's file.
/// An image placed in an HTML body by its Content-ID (a signature's logo) is part of the text,
/// not something the department sent.
fn attachments(msg: &mail_parser::Message, file: &str) -> Vec<Attachment> {
    msg.attachments()
        .enumerate()
        .filter(|(_, part)| {
            let inline = part.content_disposition().is_some_and(|d| d.is_inline());
            !(inline && part.content_id().is_some())
        })
        .map(|(n, part)| {
            let image = part
                .content_type()
                .is_some_and(|t| t.ctype().eq_ignore_ascii_case("image"));
            Attachment {
                kind: if image { "photo" } else { "document" }.into(),
                name: part.attachment_name().map(str::to_string),
                size: Some(part.contents().len() as u64),
                source: Some(format!("{SOURCE}{file}#{n}")),
                local_path: None,
                state: AttachmentState::Pending,
            }
        })
        .collect()
}

/// How a mail attachment's source begins.
pub const SOURCE: &str = "mail:";

/// The n-th attachment of a mail, as `attachments` numbered it: its bytes and file name.
pub fn attachment(raw: &[u8], n: usize) -> Option<(Vec<u8>, Option<String>)> {
    let msg = MessageParser::default().parse(raw)?;
    let part = msg.attachments().nth(n)?;
    Some((
        part.contents().to_vec(),
        part.attachment_name().map(str::to_string),
    ))
}

/// Why a mail is a machine's, not a person's — an out-of-office, a list, a bounce, our own —
/// so that we never answer it (RFC 3834) and it never counts as a department's answer.
fn automatic(msg: &mail_parser::Message, sender: &str, ours: &str) -> Option<&'static str> {
    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    if sender == ours {
        return Some("our own mail");
    }
    if header("Auto-Submitted").is_some_and(|v| !v.starts_with("no")) {
        return Some("auto-submitted");
    }
    if header("Precedence")
        .is_some_and(|v| ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()))
    {
        return Some("bulk mail");
    }
    if header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || header("X-Auto-Response-Suppress").is_some_and(|v| v.contains("all"))
    {
        return Some("auto-reply");
    }
    if header("List-Id").is_some() {
        return Some("mailing list");
    }
    let local = sender.split('@').next().unwrap_or_default();
    if ["mailer-daemon", "postmaster"].contains(&local) {
        return Some("delivery report");
    }
    if header("Content-Type").is_some_and(|v| v.starts_with("multipart/report")) {
        return Some("delivery report");
    }
    None
}

/// The message ids a header names (In-Reply-To, References), the latest first.
fn ids(v: &HeaderValue) -> Vec<String> {
    let mut all: Vec<String> = match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => vec![],
    };
    all.reverse();
    all
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: &str = "mcu@city.example";

    fn message(raw: &str) -> IncomingMessage {
        match event(raw.replace('\n', "\r\n").as_bytes(), "m1", US, Utc::now())
            .unwrap()
            .inbound
        {
            Inbound::Message(m) => m,
            other => panic!("not a message: {other:?}"),
        }
    }

    fn ignored(raw: &str) -> String {
        match event(raw.as_bytes(), "m1", US, Utc::now()).unwrap().inbound {
            Inbound::Ignored { reason } => reason,
            other => panic!("not ignored: {other:?}"),
        }
    }

    #[test]
    fn a_reply_names_our_mail_its_sender_and_its_own_words() {
        let m = message(
            "From: =?utf-8?b?0JTQuNGB0L/QtdGC0YfQtdGA?= <Dispatch@Economy.City.Example>\n\
             To: mcu@city.example\nSubject: =?koi8-r?b?8MzBzg==?=\n\
             Message-ID: <r1@economy.city.example>\n\
             In-Reply-To: <mcu.0193.0@city.example>\n\
             References: <x@elsewhere.example> <mcu.0193.0@city.example>\n\
             Content-Type: text/plain; charset=windows-1251\n\
             Content-Transfer-Encoding: base64\n\n\
             z/Do7f/y7g0KDQo+IPbo8uDy4A0K\n",
        );
        assert_eq!(m.chat, "dispatch@economy.city.example");
        assert_eq!(m.message, "r1@economy.city.example");
        assert_eq!(m.author.as_deref(), Some("Диспетчер"));
        assert_eq!(m.reply_to.as_deref(), Some("mcu.0193.0@city.example"));
        assert_eq!(m.subject.as_deref(), Some("План"));
        assert_eq!(m.text, "Принято");
    }

    #[test]
    fn robots_lists_bounces_and_our_own_mail_are_left_alone() {
        let base = "From: a@city.example\nSubject: x\nMessage-ID: <1@city.example>\n";
        let body = "\nтекст\n";
        assert_eq!(
            ignored(&format!("{base}Auto-Submitted: auto-replied{body}")),
            "auto-submitted"
        );
        assert_eq!(
            ignored(&format!("{base}Precedence: bulk{body}")),
            "bulk mail"
        );
        assert_eq!(
            ignored(&format!("{base}List-Id: <l.city.example>{body}")),
            "mailing list"
        );
        assert_eq!(
            ignored(&format!("From: {US}\nSubject: x{body}")),
            "our own mail"
        );
        assert_eq!(
            ignored(&format!(
                "From: MAILER-DAEMON@city.example\nSubject: x{body}"
            )),
            "delivery report"
        );
        assert_eq!(ignored("Subject: no sender\n\ntext"), "no sender address");
        // A person's mail that says so is a person's.
        assert!(matches!(
            event(
                format!("{base}Auto-Submitted: no{body}").as_bytes(),
                "m1",
                US,
                Utc::now()
            )
            .unwrap()
            .inbound,
            Inbound::Message(_)
        ));
    }

    #[test]
    fn hostile_mail_is_read_without_trusting_it() {
        // Escape sequences and a header injection attempt stay text; the intake's bounds
        // clip and the console's sanitising strips them (`domain::fields`, `sanitize`).
        let m = message(
            "From: x <dispatch@economy.city.example>\nSubject: \u{1b}[2J[МЦУ 2026-000001]\n\
             Message-ID: <h@economy.city.example>\n\n\u{1b}]52;c;AAAA\u{7}Ответ\n",
        );
        assert!(m.text.contains("Ответ"));
        assert!(m.subject.unwrap().contains("2026-000001"));
        // No Message-ID: named by its own hash, the same each time it is read.
        let raw = b"From: dispatch@economy.city.example\r\nSubject: x\r\n\r\nbody\r\n";
        let a = event(raw, "m1", US, Utc::now()).unwrap().external_id;
        assert!(a.starts_with("sha256:"));
        assert_eq!(a, event(raw, "m1", US, Utc::now()).unwrap().external_id);
        assert!(event(&vec![b'a'; MAX_MAIL_BYTES + 1], "m1", US, Utc::now()).is_err());
    }
}
