//! The region's history written straight into the server's PostgreSQL tables by `COPY`, in
//! the server's own format: each request made by the domain's `apply` (as the engine makes a
//! created one), stored as its JSON document with its number from the city's counter, one
//! change-log row per request whose seq is the document's version, and the scope's head and
//! epoch; so the store's invariants hold (`server::invariants`) and `mcu serve` takes it as
//! its own. Requests only: their creation messages and audit events are not written (a
//! console pulls what the server has, so both sides agree; the texts are the demo corpus's).

use std::collections::HashMap;

use chrono::{Datelike, Duration, Utc};
use futures::SinkExt;
use mcu_desk::demo::corpus::Generator;
use mcu_desk::domain::mutation::{Ctx, Mutation, NewRequest, Op};
use mcu_desk::domain::{Catalog, Channel, ClockPolicy, RequestNumber};

pub struct Loaded {
    /// Each scope's head seq (its last change).
    pub heads: HashMap<String, i64>,
    pub per_scope: HashMap<String, i64>,
    /// A few request ids of each scope, for the consoles to act on.
    pub sample_ids: HashMap<String, Vec<String>>,
}

/// A row of fields; None is SQL's NULL.
fn row(out: &mut Vec<u8>, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match f {
            Some(f) => super::serve::copy_text(out, f.as_bytes()),
            None => out.extend_from_slice(b"\\N"),
        }
    }
    out.push(b'\n');
}

type Sink = std::pin::Pin<Box<tokio_postgres::CopyInSink<axum::body::Bytes>>>;

async fn copy_in(client: &tokio_postgres::Client, sql: &str) -> Sink {
    Box::pin(client.copy_in(sql).await.expect("copy in"))
}

async fn send(sink: &mut Sink, buf: &mut Vec<u8>) {
    let chunk = std::mem::take(buf);
    sink.send(axum::body::Bytes::from(chunk))
        .await
        .expect("copy chunk");
}

/// Loads `n` requests spread evenly over `scopes`, received over the year before now.
pub async fn load(url: &str, scopes: &[String], n: usize) -> Loaded {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect for load");
    tokio::spawn(connection);
    let (docs_client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect for load");
    tokio::spawn(connection);
    let catalog = Catalog::krasnodar();
    let policy = ClockPolicy::default();
    let now = Utc::now();
    let per = n / scopes.len().max(1);
    let mut loaded = Loaded {
        heads: HashMap::new(),
        per_scope: HashMap::new(),
        sample_ids: HashMap::new(),
    };
    let mut docs = copy_in(
        &docs_client,
        "COPY request_doc(id, scope_id, number, channel, external_id, doc, version, department_seq, assignee_seq) FROM STDIN",
    )
    .await;
    let mut log = copy_in(
        &client,
        "COPY change_log(scope_id, seq, entity, entity_id) FROM STDIN",
    )
    .await;
    let (mut dbuf, mut lbuf) = (Vec::with_capacity(1 << 21), Vec::with_capacity(1 << 20));
    let mut counters: Vec<(String, i32, i64)> = vec![];
    let mut g = Generator::new(29);
    for (si, scope) in scopes.iter().enumerate() {
        let mut numbers: HashMap<i32, u32> = HashMap::new();
        let mut ids = vec![];
        for i in 0..per {
            // Oldest first, over a year, so each city's numbers rise with time.
            let back = Duration::seconds(((per - i) as i64 * 365 * 86_400) / per.max(1) as i64);
            let at = now - back - Duration::seconds(si as i64);
            let year = at.with_timezone(&policy.calendar.tz()).year();
            let seq = numbers.entry(year).or_insert(0);
            *seq += 1;
            let sample = g.next_request();
            let mut new = NewRequest::new(Channel::Phone, &sample.text, at);
            new.citizen = Some(sample.citizen);
            let id = uuid::Uuid::now_v7();
            let m = Mutation::new(id, "import", at, Op::Create(Box::new(new)));
            let ctx = Ctx {
                catalog: &catalog,
                policy: &policy,
                now: at + Duration::seconds(1),
                new_number: Some(RequestNumber::new(year, *seq)),
            };
            let out = mcu_desk::domain::apply(None, &m, &ctx).expect("a generated request");
            let r = out.request;
            let doc = serde_json::to_string(&r).expect("json");
            let version = (i + 1).to_string();
            let id = r.id.to_string();
            row(
                &mut dbuf,
                &[
                    Some(&id),
                    Some(scope),
                    Some(&r.number.to_string()),
                    Some(r.channel.as_str()),
                    None,
                    Some(&doc),
                    Some(&version),
                    Some("0"),
                    Some("0"),
                ],
            );
            row(
                &mut lbuf,
                &[Some(scope), Some(&version), Some("request"), Some(&id)],
            );
            if i + 50 >= per {
                ids.push(id);
            }
            if dbuf.len() >= 1 << 21 {
                send(&mut docs, &mut dbuf).await;
            }
            if lbuf.len() >= 1 << 20 {
                send(&mut log, &mut lbuf).await;
            }
        }
        for (year, last) in numbers {
            counters.push((scope.clone(), year, i64::from(last)));
        }
        loaded.heads.insert(scope.clone(), per as i64);
        loaded.per_scope.insert(scope.clone(), per as i64);
        loaded.sample_ids.insert(scope.clone(), ids);
    }
    send(&mut docs, &mut dbuf).await;
    send(&mut log, &mut lbuf).await;
    docs.as_mut().finish().await.expect("copy docs");
    log.as_mut().finish().await.expect("copy log");
    for s in scopes {
        client
            .execute(
                "INSERT INTO sync_scope(scope_id, seq, epoch) VALUES ($1, $2, $3)",
                &[s, &loaded.heads[s], &uuid::Uuid::now_v7().to_string()],
            )
            .await
            .expect("scope");
    }
    for (s, year, last) in &counters {
        client
            .execute(
                "INSERT INTO number_seq(scope_id, year, last) VALUES ($1, $2, $3)",
                &[s, year, last],
            )
            .await
            .expect("number counter");
    }
    client.batch_execute("ANALYZE").await.expect("analyze");
    loaded
}

/// What the server's invariant queries find broken (`server::invariants`).
pub async fn invariants(url: &str) -> Vec<String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect for the check");
    tokio::spawn(connection);
    let mut out = vec![];
    for (what, sql) in mcu_desk::server::invariants::QUERIES {
        for r in client.query(*sql, &[]).await.expect("invariant query") {
            out.push(format!("{what}: {:?}", r.get::<_, Option<String>>(0)));
        }
    }
    out
}
