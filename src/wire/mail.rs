//! A mail in the outbox: the store queues one text per message, and a mail needs a subject
//! too, so the subject rides as the text's first line, a blank line before the body. The store
//! writes it (`store::department_chat`), the mail adapter reads it (`channels::mail`).

use serde::{Deserialize, Serialize};

/// How the connection to the mail server is protected (`[smtp] security`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain SMTP: only for a relay on this machine or a trusted network (port 25).
    None,
    /// Plain, then STARTTLS, which must succeed (port 587, the usual submission port).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// What our mail's Message-IDs begin with (`mcu.<uuid>.<part>@<our domain>`): a reply's
/// In-Reply-To or References naming one is a reply to us.
pub const ID_PREFIX: &str = "mcu.";

/// The outbox text of a mail: its subject on one line, then its body.
pub fn compose(subject: &str, body: &str) -> String {
    let subject: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{}\n\n{body}", subject.trim())
}

/// The subject and body of an outbox text; a text with no subject line (a later part of a
/// long one) is all body.
pub fn parse(text: &str) -> (Option<&str>, &str) {
    match text.split_once("\n\n") {
        Some((subject, body)) if !subject.contains('\n') => (Some(subject), body),
        _ => (None, text),
    }
}

/// Our Message-ID of a message's part, the same on every attempt, so a mail sent twice (a
/// retry after a lost answer from the server) is one message to mail clients, and a reply to
/// either copy names it.
pub fn message_id(message_id: &str, part_no: i64, domain: &str) -> String {
    format!("{ID_PREFIX}{message_id}.{part_no}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_rides_as_the_first_line() {
        let text = compose(
            "[МЦУ 2026-000123] Прорыв\r\nтрубы",
            "Здравствуйте!\n\nТекст",
        );
        assert_eq!(
            parse(&text),
            (
                Some("[МЦУ 2026-000123] Прорыв  трубы"),
                "Здравствуйте!\n\nТекст"
            )
        );
        assert_eq!(parse("одна строка\nи ещё"), (None, "одна строка\nи ещё"));
    }
}
