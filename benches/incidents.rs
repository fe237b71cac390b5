//! Mass incidents' targets (#18), as a benchmark:
//! 1. a generated month of 30,000 requests (`MCU_INCIDENTS_MONTH` changes it) with 50 planted
//!    burst pipes (`demo::staged`: 5–12 citizens each, varied wording, mixed channels, half with
//!    coordinates and half with the address only) and planted same-citizen repeats, through the
//!    real store; the candidate groups found day by day are matched to the planted ones (a found
//!    group matches when it holds at least 80 % of a planted incident's members and nothing
//!    else): precision, recall, and candidates per 300 requests (`MCU_INCIDENTS_SEED` draws
//!    another month);
//! 2. finding the candidates for a new request on the 1,000,000-request benchmark database
//!    (`benches/common`), with the query plan of the place index;
//! 3. one answer to an incident of 200 members queued (every member's reply in the outbox).
//!
//! Topics are the generated ones (what an operator or triage gives): this measures the grouping
//! rule, not triage.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mcu_desk::demo::staged;
use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::domain::request::{ChannelRef, Location};
use mcu_desk::domain::{Catalog, Channel, ClockPolicy, Request};
use mcu_desk::incidents::{Rules, plan};
use mcu_desk::store::{Env, Store};
use mcu_desk::testkit::sample::Generator;
use uuid::Uuid;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()
}

struct Planted {
    batch: Vec<Mutation>,
    /// Each planted incident's member ids.
    incidents: Vec<BTreeSet<Uuid>>,
}

fn create(
    at: DateTime<Utc>,
    channel: Channel,
    chat: String,
    citizen: &str,
    text: &str,
    topic: &str,
    place: (Option<String>, Option<f64>, Option<f64>),
) -> Mutation {
    let mut new = NewRequest::new(channel, text, at);
    new.channel_ref = ChannelRef {
        chat: Some(chat),
        message: None,
    };
    new.citizen = Some(citizen.to_string());
    new.topic = (topic != "out_of_scope").then(|| topic.to_string());
    let (address, lat, lon) = place;
    if address.is_some() || lat.is_some() {
        new.location = Some(Location { lat, lon, address });
    }
    Mutation::new(Uuid::now_v7(), "bench", at, Op::Create(Box::new(new)))
}

/// A place of the ordinary month: the corpus knows nine streets, which would put a city's
/// month at nine spots; real requests spread over thousands of streets and the whole city.
fn spread(g: &mut Generator, had_address: bool) -> (Option<String>, Option<f64>, Option<f64>) {
    const SYLLABLES: [&str; 20] = [
        "ка", "ло", "ми", "ре", "су", "та", "во", "не", "ра", "ди", "му", "ба", "ге", "зо", "ки",
        "лу", "пи", "се", "то", "фа",
    ];
    if !had_address {
        return (None, None, None);
    }
    let mut name = String::new();
    for _ in 0..3 {
        name.push_str(SYLLABLES[g.below(20) as usize]);
    }
    let mut chars = name.chars();
    let name: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    let address = format!("ул. {name}ская, {}", 1 + g.below(100));
    let point = g.below(10) < 6;
    let unit = |g: &mut Generator| g.below(1 << 30) as f64 / (1u64 << 30) as f64;
    let (lat, lon) = (44.99 + unit(g) * 0.12, 38.91 + unit(g) * 0.23);
    (Some(address), point.then_some(lat), point.then_some(lon))
}

fn month(n: usize, planted: usize) -> Planted {
    let seed = std::env::var("MCU_INCIDENTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(18);
    let mut g = Generator::new(seed);
    let days = 30.0;
    let channels = [Channel::Telegram, Channel::Vk, Channel::Pos];
    let mut batch = Vec::with_capacity(n + planted * 12);
    let mut citizens: Vec<(Channel, String, String, &'static str)> = vec![];
    let at_fraction = |f: f64| start() + Duration::seconds((f * days * 86_400.0) as i64);
    let ordinary = n - planted * 10;
    for i in 0..ordinary {
        let at = at_fraction(i as f64 / ordinary as f64);
        // One in twenty writes again about the same thing one to three days later.
        if i > 100 && g.below(20) == 0 {
            let (channel, chat, name, topic) =
                citizens[g.below(citizens.len() as u64) as usize].clone();
            let text = g.follow_up(topic);
            let later = at + Duration::hours(24 + g.below(48) as i64);
            batch.push(create(
                later,
                channel,
                chat,
                &name,
                &text,
                topic,
                (None, None, None),
            ));
            continue;
        }
        let s = g.next_request();
        let channel = channels[g.below(3) as usize];
        let chat = format!("c{i}");
        citizens.push((channel, chat.clone(), s.citizen.clone(), s.topic));
        let place = spread(&mut g, s.address.is_some());
        batch.push(create(
            at, channel, chat, &s.citizen, &s.text, s.topic, place,
        ));
    }
    let mut incidents = vec![];
    for k in 0..planted {
        let begins = at_fraction((k as f64 + 0.5) / planted as f64);
        let members = 5 + g.below(8) as usize;
        let mut ids = BTreeSet::new();
        for (j, r) in staged::incident(&mut g, members, 2).into_iter().enumerate() {
            let at = begins + Duration::minutes(g.below(120) as i64);
            let m = create(
                at,
                channels[j % 3],
                format!("p{k}-{j}"),
                &r.citizen,
                &r.text,
                r.topic,
                (r.address, r.lat, r.lon),
            );
            if r.member {
                ids.insert(m.request_id);
            }
            batch.push(m);
        }
        incidents.push(ids);
    }
    Planted { batch, incidents }
}

/// For `MCU_INCIDENTS_DEBUG`: a line per request.
fn show(rs: &[Request]) {
    for r in rs {
        eprintln!(
            "  {} {:?} {:?} {}",
            r.topic.as_deref().unwrap_or("-"),
            r.location.as_ref().and_then(|l| l.address.clone()),
            r.location.as_ref().and_then(|l| l.lat),
            r.text.chars().take(90).collect::<String>()
        );
    }
}

fn root(parent: &mut HashMap<Uuid, Uuid>, mut x: Uuid) -> Uuid {
    while let Some(&p) = parent.get(&x) {
        if p == x {
            break;
        }
        x = p;
    }
    x
}

async fn planted_month() {
    let n: usize = std::env::var("MCU_INCIDENTS_MONTH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30_000);
    let planted = month(n, 50);
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(Mutex::new(start() + Duration::days(40)));
    let c = clock.clone();
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(move || *c.lock().unwrap()),
    };
    let store = Store::open(&dir.path().join("month.sqlite3"), env)
        .await
        .expect("store");
    let total = planted.batch.len();
    let began = Instant::now();
    for chunk in planted.batch.chunks(2_000) {
        store
            .apply_batch(chunk.to_vec())
            .await
            .map_err(|(_, e)| e)
            .expect("stored");
    }
    eprintln!(
        "month: {total} requests stored in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    // Day by day, as a shift lead would look: the groups found, merged where they share members.
    let rules = Rules::default();
    let mut parent: HashMap<Uuid, Uuid> = HashMap::new();
    let mut found_ids: BTreeSet<Uuid> = BTreeSet::new();
    let mut slowest = 0.0f64;
    let mut again = 0.0f64;
    for day in 1..=32 {
        *clock.lock().unwrap() = start() + Duration::days(day);
        let t0 = Instant::now();
        let groups = store
            .incident_candidates(rules.clone())
            .await
            .expect("groups");
        slowest = slowest.max(t0.elapsed().as_secs_f64());
        // The console asks again every half minute: what the same search costs the next time.
        let t1 = Instant::now();
        store
            .incident_candidates(rules.clone())
            .await
            .expect("groups");
        again = again.max(t1.elapsed().as_secs_f64());
        for g in groups {
            let first = g.member_ids[0];
            for id in &g.member_ids {
                found_ids.insert(*id);
                let (a, b) = (root(&mut parent, first), root(&mut parent, *id));
                parent.insert(a, a);
                parent.insert(b, a);
            }
        }
    }
    let mut groups: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
    for id in &found_ids {
        let r = root(&mut parent, *id);
        groups.entry(r).or_default().insert(*id);
    }
    let groups: Vec<BTreeSet<Uuid>> = groups.into_values().collect();
    let matches =
        |g: &BTreeSet<Uuid>, p: &BTreeSet<Uuid>| g.is_subset(p) && g.len() * 5 >= p.len() * 4;
    let good = groups
        .iter()
        .filter(|g| planted.incidents.iter().any(|p| matches(g, p)))
        .count();
    let recalled = planted
        .incidents
        .iter()
        .filter(|p| groups.iter().any(|g| matches(g, p)))
        .count();
    if std::env::var("MCU_INCIDENTS_DEBUG").is_ok() {
        for g in groups
            .iter()
            .filter(|g| !planted.incidents.iter().any(|p| matches(g, p)))
            .take(6)
        {
            let rs = store
                .requests_of(g.iter().copied().collect())
                .await
                .expect("read");
            eprintln!("--- a group that matches none ({} members)", rs.len());
            show(&rs);
        }
    }
    if std::env::var("MCU_INCIDENTS_DEBUG").is_ok() {
        for p in planted
            .incidents
            .iter()
            .filter(|p| !groups.iter().any(|g| matches(g, p)))
        {
            let parts: Vec<(usize, usize)> = groups
                .iter()
                .filter(|g| !g.is_disjoint(p))
                .map(|g| (g.intersection(p).count(), g.len()))
                .collect();
            eprintln!(
                "--- a planted incident not found ({} members): overlapping groups (shared, size) {parts:?}",
                p.len()
            );
            {
                let rs = store
                    .requests_of(p.difference(&found_ids).copied().collect())
                    .await
                    .expect("read");
                show(&rs);
            }
        }
    }
    let precision = good as f64 / groups.len().max(1) as f64;
    let recall = recalled as f64 / planted.incidents.len() as f64;
    println!(
        "planted month: {total} requests, {} planted incidents, {} groups found: precision {precision:.3}, recall {recall:.3}, {:.2} candidates per 300 requests; the slowest day's search {:.0} ms, {:.0} ms asked again",
        planted.incidents.len(),
        groups.len(),
        groups.len() as f64 * 300.0 / total as f64,
        slowest * 1e3,
        again * 1e3
    );
}

fn at_a_million() {
    let path = common::database();
    let conn = mcu_desk::store::db::open(&path).expect("open");
    let n = common::requests(&conn);
    for line in mcu_desk::store::places::plan(&conn).expect("plan") {
        println!("query plan, {line}");
    }
    let rids: Vec<i64> = conn
        .prepare(
            "SELECT rid FROM request WHERE status != 'closed'
               AND (place_key IS NOT NULL OR cell_x IS NOT NULL)
             ORDER BY received_at DESC LIMIT 1000",
        )
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let rules = Rules::default();
    let now = common::now();
    // The words' rarity is learnt once per ten minutes; the first search learns it.
    if let Some(rid) = rids.first() {
        let t0 = Instant::now();
        mcu_desk::store::places::candidates_for(&conn, *rid, &rules, now).expect("search");
        println!(
            "learning the words' rarity over the window: {:.0} ms",
            t0.elapsed().as_secs_f64() * 1e3
        );
    }
    let mut us: Vec<f64> = rids
        .iter()
        .map(|rid| {
            let t0 = Instant::now();
            std::hint::black_box(
                mcu_desk::store::places::candidates_for(&conn, *rid, &rules, now).expect("search"),
            );
            t0.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    us.sort_by(f64::total_cmp);
    let at = |p: f64| us[((us.len() - 1) as f64 * p).round() as usize];
    println!(
        "candidates for a new request at {n} requests ({} placed open requests tried): p50 {:.0} µs, p99 {:.0} µs",
        us.len(),
        at(0.5),
        at(0.99)
    );
}

async fn fan_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(Utc::now),
    };
    let store = Store::open(&dir.path().join("fan.sqlite3"), env)
        .await
        .expect("store");
    let now = store.now();
    let batch: Vec<Mutation> = (0..200)
        .map(|i| {
            create(
                now - Duration::minutes(200 - i),
                [Channel::Telegram, Channel::Vk][i as usize % 2],
                format!("{}", 1000 + i),
                "Житель",
                "Прорвало трубу на ул. Северная, 12",
                "utilities",
                (Some("ул. Северная, 12".into()), None, None),
            )
        })
        .collect();
    let ids: Vec<Uuid> = batch.iter().map(|m| m.request_id).collect();
    store
        .apply_batch(batch)
        .await
        .map_err(|(_, e)| e)
        .expect("made");
    let members = store.requests_of(ids).await.expect("read");
    let refs: Vec<&Request> = members.iter().collect();
    let (id, confirm) =
        plan::confirm(&refs, "Прорыв", Some("utilities"), "bench", now).expect("plan");
    store
        .apply_batch(confirm)
        .await
        .map_err(|(_, e)| e)
        .expect("confirmed");
    let t0 = Instant::now();
    let incident = store.resolve(&id.to_string()).await.expect("incident");
    let members = store.incident_members(id).await.expect("members");
    let refs: Vec<&Request> = members.iter().collect();
    let body = |r: &Request| format!("Обращение {}: бригада на месте", r.number);
    let replies = plan::reply(&incident, &refs, &body, "bench", now);
    let n = replies.len();
    store
        .apply_batch(replies)
        .await
        .map_err(|(_, e)| e)
        .expect("queued");
    println!(
        "one answer to {} members: {n} replies queued in {:.0} ms",
        members.len(),
        t0.elapsed().as_secs_f64() * 1e3
    );
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(planted_month());
    rt.block_on(fan_out());
    if std::env::var("MCU_INCIDENTS_SKIP_MILLION").is_err() {
        at_a_million();
    }
}
