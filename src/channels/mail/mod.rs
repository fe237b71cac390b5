//! Departments reached by e-mail (#21): forwards and reminders go out over SMTP (`send`), and
//! the departments' replies are read from a Maildir the city's mail server fills (`maildir`,
//! `parse`). One adapter, so the gateway gives mail what it gives every channel: a lease, the
//! outbox's retries and once-only sends, the intake's once-only store and its cursor.

mod maildir;
mod parse;
mod quote;
mod send;

pub use maildir::deliver;
pub use parse::MAX_MAIL_BYTES;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Adapter, FileOutcome, OutboundPart, PollError, SendOutcome};
use crate::wire::intake::{Batch, Malformed};
use crate::wire::mail::Security;

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: Option<String>,
    /// Our address (already checked by `domain::email`).
    pub from: String,
    pub maildir: Option<PathBuf>,
    pub timeout: Duration,
    /// How often `new/` is looked at.
    pub poll_every: Duration,
    /// The longest one poll waits for mail before it returns empty-handed.
    pub poll_wait: Duration,
}

pub struct Mail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    address: String,
    domain: String,
    settings: MailSettings,
}

impl Mail {
    pub fn new(s: MailSettings) -> Result<Mail, String> {
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| format!("smtp.from `{}`: {e}", s.from))?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_string()).map_err(|e| format!("smtp TLS for {host}: {e}"))
        };
        let security = match s.security {
            Security::None => Tls::None,
            Security::Starttls => Tls::Required(tls(&s.host)?),
            Security::Tls => Tls::Wrapper(tls(&s.host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
            .port(s.port)
            .tls(security)
            .timeout(Some(s.timeout));
        if !s.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                s.username.clone(),
                s.password.clone().unwrap_or_default(),
            ));
        }
        let domain = crate::domain::email::domain_of(&s.from).to_string();
        Ok(Mail {
            transport: builder.build(),
            from,
            address: s.from.clone(),
            domain,
            settings: s,
        })
    }

    pub fn address(&self) -> &str {
        &self.address
    }
}

impl Adapter for Mail {
    fn channel(&self) -> crate::domain::Channel {
        crate::domain::Channel::Email
    }

    fn account(&self) -> String {
        self.address.clone()
    }

    fn max_part_units(&self) -> usize {
        crate::domain::Channel::Email.max_message_units()
    }

    fn text_units(&self, s: &str) -> usize {
        s.chars().count()
    }

    async fn poll(&self, cursor: Option<String>) -> Result<Batch, PollError> {
        let Some(dir) = self.settings.maildir.clone() else {
            // Nothing to read: sending is all this gateway does.
            tokio::time::sleep(self.settings.poll_wait).await;
            return Ok(Batch::default());
        };
        let handled = maildir::handled(cursor.as_deref());
        let transient = |reason: String| PollError::Transient {
            reason,
            retry_after: None,
        };
        let settle_dir = dir.clone();
        tokio::task::spawn_blocking(move || maildir::settle(&settle_dir, &handled))
            .await
            .map_err(|e| transient(e.to_string()))?
            .map_err(|e| transient(format!("{}: {e}", dir.display())))?;
        let started = Instant::now();
        loop {
            let read_dir = dir.clone();
            let waiting = tokio::task::spawn_blocking(move || {
                maildir::waiting(&read_dir, parse::MAX_MAIL_BYTES)
            })
            .await
            .map_err(|e| transient(e.to_string()))?
            .map_err(transient)?;
            if !waiting.is_empty() {
                return Ok(self.batch(waiting));
            }
            if started.elapsed() >= self.settings.poll_wait {
                return Ok(Batch::default());
            }
            tokio::time::sleep(self.settings.poll_every).await;
        }
    }

    async fn send(&self, part: &OutboundPart) -> SendOutcome {
        send::send(&self.transport, &self.from, &self.domain, part).await
    }

    /// A mail sent twice carries one Message-ID: a part cut off mid-send is sent again rather
    /// than left for an operator, because a forward lost is worse than one read twice.
    fn idempotent_sends(&self) -> bool {
        true
    }

    /// A department's file, read back from its mail in the Maildir (`mail:<file>#<n>`): the
    /// mail stays there after it is read, in `cur/`.
    async fn fetch_file(&self, source: &str, max_bytes: u64) -> FileOutcome {
        let Some(dir) = self.settings.maildir.clone() else {
            return FileOutcome::Failed("no Maildir to read the file from".into());
        };
        let Some((file, n)) = source
            .strip_prefix(parse::SOURCE)
            .and_then(|s| s.rsplit_once('#'))
            .and_then(|(f, n)| Some((f.to_string(), n.parse::<usize>().ok()?)))
        else {
            return FileOutcome::Failed(format!("not a mail attachment: {source}"));
        };
        let read = tokio::task::spawn_blocking(move || {
            let path = maildir::find(&dir, &file)
                .ok_or_else(|| format!("the mail {file} is no longer in the Maildir"))?;
            maildir::read_capped(&path, parse::MAX_MAIL_BYTES)
        })
        .await;
        let raw = match read {
            Ok(Ok(raw)) => raw,
            Ok(Err(why)) => return FileOutcome::Failed(why),
            Err(e) => return FileOutcome::RetryLater(e.to_string()),
        };
        match parse::attachment(&raw, n) {
            None => FileOutcome::Failed(format!("the mail has no attachment {n}")),
            Some((bytes, _)) if bytes.len() as u64 > max_bytes => FileOutcome::TooLarge {
                size: Some(bytes.len() as u64),
            },
            Some((bytes, name)) => FileOutcome::Stored { bytes, name },
        }
    }
}

impl Mail {
    fn batch(&self, waiting: Vec<maildir::Waiting>) -> Batch {
        let now = chrono::Utc::now();
        let mut batch = Batch::default();
        let mut names = vec![];
        for w in waiting {
            let parsed = w
                .raw
                .and_then(|raw| parse::event(&raw, &w.name, &self.address, now));
            match parsed {
                Ok(ev) => batch.events.push(ev),
                Err(reason) => batch.malformed.push(Malformed {
                    external_id: Some(format!("file:{}", w.name)),
                    reason,
                }),
            }
            names.push(w.name);
        }
        batch.next_cursor = Some(names.join("\n"));
        batch
    }
}
