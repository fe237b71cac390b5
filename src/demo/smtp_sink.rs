//! A mail server that keeps what it is sent: the tests' and the demo's stand-in for the
//! city's SMTP server, as the simulator stands in for Telegram. It speaks enough real SMTP for
//! a real client (lettre): the greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA with its dot
//! stuffing, RSET, NOOP, QUIT. It can be told to refuse for now (4xx), for good (5xx), or to
//! be down (every connection dropped at once), to test the outbox's retries.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// One mail the sink took.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), dot stuffing undone.
    pub data: String,
}

/// How the sink answers a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// 451 to MAIL FROM: try again later.
    Busy,
    /// 550 to RCPT TO: never.
    Refuse,
    /// Every connection closed before the greeting.
    Down,
}

struct Shared {
    mode: Mode,
    received: Vec<Received>,
}

pub struct SmtpSink {
    addr: std::net::SocketAddr,
    shared: Arc<Mutex<Shared>>,
    arrived: Arc<Notify>,
    stop: watch::Sender<bool>,
}

/// The longest mail the sink keeps; past it, 552.
const MAX_DATA: usize = 30 * 1024 * 1024;

impl SmtpSink {
    /// Listens on 127.0.0.1, a free port.
    pub async fn start() -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared {
            mode: Mode::Accept,
            received: vec![],
        }));
        let arrived = Arc::new(Notify::new());
        let (stop, mut stopped) = watch::channel(false);
        let (s, a) = (shared.clone(), arrived.clone());
        tokio::spawn(async move {
            loop {
                let conn = tokio::select! {
                    c = listener.accept() => c,
                    _ = stopped.changed() => return,
                };
                let Ok((stream, _)) = conn else { continue };
                let (s, a) = (s.clone(), a.clone());
                tokio::spawn(async move {
                    let _ = session(stream, s, a).await;
                });
            }
        });
        Ok(SmtpSink {
            addr,
            shared,
            arrived,
            stop,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn set_mode(&self, mode: Mode) {
        self.lock().mode = mode;
    }

    /// Every mail taken so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Waits until at least `n` mails are in, or `limit` passes; the mails either way.
    pub async fn wait_for(&self, n: usize, limit: std::time::Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn session(
    stream: TcpStream,
    shared: Arc<Mutex<Shared>>,
    arrived: Arc<Notify>,
) -> std::io::Result<()> {
    let mode = || shared.lock().unwrap_or_else(|p| p.into_inner()).mode;
    if mode() == Mode::Down {
        return Ok(());
    }
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut from = String::new();
    let mut to = vec![];
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if verb.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if verb.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if verb.starts_with("MAIL FROM:") {
            if mode() == Mode::Busy {
                b"451 4.3.0 busy, try again later\r\n"
            } else {
                from = path(&line[10..]);
                to.clear();
                b"250 2.1.0 ok\r\n"
            }
        } else if verb.starts_with("RCPT TO:") {
            if mode() == Mode::Refuse {
                b"550 5.1.1 no such mailbox\r\n"
            } else {
                to.push(path(&line[8..]));
                b"250 2.1.5 ok\r\n"
            }
        } else if verb == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                if data.len() + unstuffed.len() <= MAX_DATA {
                    data.push_str(unstuffed);
                }
            }
            if data.len() >= MAX_DATA {
                b"552 5.3.4 too big\r\n"
            } else {
                shared
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .received
                    .push(Received {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        data,
                    });
                arrived.notify_waiters();
                b"250 2.0.0 queued\r\n"
            }
        } else if verb == "RSET" {
            from.clear();
            to.clear();
            b"250 2.0.0 ok\r\n"
        } else if verb == "NOOP" {
            b"250 2.0.0 ok\r\n"
        } else if verb == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 not here\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// The address of `<a@b> SIZE=…`.
fn path(rest: &str) -> String {
    let rest = rest.trim();
    match (rest.find('<'), rest.find('>')) {
        (Some(a), Some(b)) if a < b => rest[a + 1..b].to_string(),
        _ => rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}
