//! The region's channel (scenario 29's outbox lag): the project's Telegram simulator, speaking
//! the Bot API, as the bot of the home city; both replicas run its gateway (`mcu serve
//! --channels telegram`) and share it through the server's lease. Citizens write to it before
//! the live phase; during it the home city's consoles reply to them. A reply's lag runs from
//! the moment the console learned its push was applied to the moment the fake received the
//! sendMessage carrying it: the server, the gateway's sync, its outbox and the send together.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mcu_desk::demo::sim::Simulator;
use mcu_desk::domain::mutation::{Mutation, Op};
use mcu_desk::wire::sync::{PushRequest, PushResponse, Verdict};
use uuid::Uuid;

/// When each reply's push was answered "applied", by the reply's mutation id.
pub type Accepted = Arc<Mutex<HashMap<Uuid, DateTime<Utc>>>>;

/// A quiet simulator: it writes nothing by itself; the bench injects the citizens.
pub async fn start() -> Simulator {
    Simulator::quiet().await.expect("the simulator")
}

/// A replica's config: its city, the fake bot, and where the gateway keeps downloads.
pub fn config(sim: &Simulator, scope: &str, dir: &Path) -> String {
    format!(
        "[server]\nscope = \"{scope}\"\n[channels.telegram]\ntoken = \"{}\"\napi_url = \"{}\"\npoll_timeout_secs = 5\n[gateway]\nfiles_dir = \"{}\"\n",
        sim.token(),
        sim.api_url(),
        dir.join("files").display()
    )
}

/// `n` citizens write to the bot, each from their own chat; returns the ids of the requests
/// the gateway made of them, once the server has them all.
pub async fn citizens(sim: &Simulator, url: &str, scope: &str, n: usize) -> Vec<String> {
    let mut g = mcu_desk::demo::corpus::Generator::new(2029);
    for i in 0..n {
        sim.inject_text(700_000 + i as i64, &g.next_request().text);
    }
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect for the citizens");
    tokio::spawn(connection);
    let started = std::time::Instant::now();
    loop {
        let rows = client
            .query(
                "SELECT id FROM request_doc WHERE scope_id = $1 AND channel = 'telegram' ORDER BY number",
                &[&scope],
            )
            .await
            .expect("the gateway's requests");
        if rows.len() >= n {
            return rows.iter().map(|r| r.get(0)).collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the gateway made {} of {n} requests in 5 min",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An operator's reply to request `id`, marked `k` so the citizen's copy can be told apart.
pub fn reply(id: &str, user: &str, k: usize) -> (Mutation, String) {
    let marker = format!("(ответ {k})");
    let op = Op::Reply {
        message_id: Uuid::now_v7(),
        body: format!("Здравствуйте! Бригада направлена, работы начнутся сегодня. {marker}"),
    };
    let request = id.parse().expect("request id");
    (Mutation::new(request, user, Utc::now(), op), marker)
}

/// The replies a push carries, by mutation id.
pub fn replies(req: &PushRequest) -> HashSet<Uuid> {
    req.mutations
        .iter()
        .filter(|m| matches!(m.mutation.op, Op::Reply { .. }))
        .map(|m| m.mutation.id)
        .collect()
}

/// Notes when a push carrying `replies` was answered: each reply applied, at most once.
pub fn record(accepted: &Accepted, replies: &HashSet<Uuid>, resp: &PushResponse) {
    if replies.is_empty() {
        return;
    }
    let now = Utc::now();
    if let Ok(mut a) = accepted.lock() {
        for r in &resp.results {
            if r.status == Verdict::Applied && replies.contains(&r.uuid) {
                a.entry(r.uuid).or_insert(now);
            }
        }
    }
}

pub struct Lags {
    pub lags: Vec<Duration>,
    /// Replies whose push was never answered "applied" during the run.
    pub not_accepted: usize,
    /// Accepted, and not at the fake by the deadline.
    pub undelivered: usize,
    /// Replies the fake received more than once (must be none).
    pub repeated: usize,
}

/// Waits until every reply was applied and reached the fake, or `drain` passed; then
/// measures each.
pub async fn lags(
    sim: &Simulator,
    accepted: &Accepted,
    made: &[(Uuid, String)],
    drain: Duration,
) -> Lags {
    let until = std::time::Instant::now() + drain;
    loop {
        // The last replies may still be on their way to the server.
        let accepted = accepted.lock().expect("accepted").clone();
        let sent = sim.sent();
        let texts: Vec<_> = sent.chats.values().flatten().collect();
        let at = |marker: &str| -> Vec<DateTime<Utc>> {
            texts
                .iter()
                .filter(|m| m.text.contains(marker))
                .map(|m| m.at)
                .collect()
        };
        let waiting = made
            .iter()
            .filter(|(id, marker)| !accepted.contains_key(id) || at(marker).is_empty())
            .count();
        if waiting > 0 && std::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let mut out = Lags {
            lags: vec![],
            not_accepted: 0,
            undelivered: 0,
            repeated: 0,
        };
        for (id, marker) in made {
            let times = at(marker);
            if times.len() > 1 {
                out.repeated += 1;
            }
            match (accepted.get(id), times.first()) {
                (None, _) => out.not_accepted += 1,
                (Some(_), None) => out.undelivered += 1,
                (Some(a), Some(s)) => out.lags.push((*s - *a).to_std().unwrap_or_default()),
            }
        }
        return out;
    }
}
