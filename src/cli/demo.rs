//! `mcu simulate` and `mcu demo`: the simulator alone, or with the gateways and the console on
//! a throw-away database.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::Refused;
use super::args::{DemoArgs, SimArgs};
use super::channels::Adapters;
use super::live::{
    gateway_options, init_logging, run_gateway, settings, shutdown_on_ctrl_c, telegram,
    with_gateways,
};
use crate::config::Config;
use crate::demo::sim::{SimOptions, Simulator};
use crate::store::{Env, Store};

fn sim_options(a: &SimArgs) -> anyhow::Result<SimOptions> {
    for (name, v) in [
        ("--fail-rate", a.fail_rate),
        ("--rate-limit-rate", a.rate_limit_rate),
        ("--ambiguous-rate", a.ambiguous_rate),
        ("--malformed-rate", a.malformed_rate),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(Refused(format!("{name} must be between 0 and 1, got {v}")).into());
        }
    }
    if !(a.per_minute.is_finite() && a.per_minute >= 0.0) {
        return Err(Refused(format!(
            "--per-minute must be zero or positive, got {}",
            a.per_minute
        ))
        .into());
    }
    Ok(SimOptions {
        token: a.token.clone(),
        seed: a.seed,
        per_minute: a.per_minute,
        burst: a.burst,
        limit: a.limit,
        fail_rate: a.fail_rate,
        rate_limit_rate: a.rate_limit_rate,
        ambiguous_rate: a.ambiguous_rate,
        latency: Duration::from_millis(a.latency_ms),
        malformed_rate: a.malformed_rate,
        ..SimOptions::default()
    })
}

pub async fn simulate(listen: std::net::SocketAddr, a: &SimArgs) -> anyhow::Result<()> {
    let opts = sim_options(a)?;
    crate::demo::sim::run_until_ctrl_c(listen, opts)
        .await
        .with_context(|| format!("simulator on {listen}"))
}

/// The demo's shift leads' Telegram group (negative, as group ids are).
const LEADS_CHAT: i64 = -1_001_000_000_001;
/// The city economy department's group, which the simulator plays: it answers each request
/// posted there by replying to the post (`[departments.city_economy]`).
const ECONOMY_CHAT: i64 = -1_001_000_000_002;
/// The roads department, which the demo reaches by e-mail: the SMTP sink takes its mail and
/// the simulator answers from this address into the demo's Maildir.
const ROADS_MAIL: &str = "dispatch@roads.demo.example";
/// The center's own address in the demo.
const CENTER_MAIL: &str = "mcu@demo.example";
/// The citizen whose request waited overnight.
const OVERNIGHT_CHAT: i64 = 990_001;

pub async fn demo(a: DemoArgs, config: Config, db: Option<PathBuf>) -> anyhow::Result<()> {
    let en = config.ui.language == "en";
    // Before the simulator starts: a demo that can't show its console shows nothing.
    if !a.headless {
        super::live::need_terminal(en)?;
    }
    let (_tmp, db) = match db {
        Some(p) => (None, p),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("mcu-demo-")
                .tempdir()
                .context("cannot create a temporary directory")?;
            let p = dir.path().join("mcu.sqlite3");
            (Some(dir), p)
        }
    };
    super::channels::check_demo_channels(&a.channels, en)?;
    let with = |name: &str| a.channels.iter().any(|c| c == name);
    let dir = db.parent().unwrap_or(Path::new(".")).to_path_buf();
    let _log = init_logging(&dir);
    let listener = tokio::net::TcpListener::bind(a.sim_listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.sim_listen))?;
    let mut sim_opts = sim_options(&a.sim)?;
    // The simulated citizens split between the channels the demo runs.
    sim_opts.vk.share = match (with("telegram"), with("vk")) {
        (_, false) => 0.0,
        (true, true) => 0.5,
        (false, true) => 1.0,
    };
    // A burst pipe reported across the channels: a group forms, one answer reaches everyone.
    sim_opts.staging = Some(crate::demo::sim::staging::Staging {
        first_after: Duration::from_secs(20),
        every: Duration::from_secs(600),
        telegram: with("telegram"),
        vk: with("vk"),
        platform: with("open311"),
    });
    // Asked something (Shift-W), a simulated citizen answers after a while: the request
    // waits «ждёт заявителя» and then comes back into work.
    sim_opts.answer_questions_after = Some(Duration::from_secs(20));
    let (per_minute, burst) = (sim_opts.per_minute, sim_opts.burst);
    let messengers = ["telegram", "vk"].iter().filter(|c| with(c)).count();
    let shares = messengers + usize::from(with("open311"));
    sim_opts.per_minute = per_minute * messengers as f64 / shares as f64;
    sim_opts.burst = burst * messengers / shares;
    let sim = Simulator::start(listener, sim_opts)
        .await
        .context("cannot start the simulator")?;
    if with("open311") {
        sim.platform_traffic(per_minute / shares as f64, burst / shares);
    }
    let env = Env {
        catalog: config.catalog().map_err(|e| Refused(e.to_string()))?,
        policy: config.policy().map_err(|e| Refused(e.to_string()))?,
        journal: config.server.team(),
        now: Arc::new(chrono::Utc::now),
    };
    let store = Store::open(&db, env).await?;
    store.configure_triage(config.triage.clone()).await?;
    // Regular citizens with requests from weeks ago: when they write again, the card lists
    // their earlier ones. A file of the operator's own (`--db`) keeps what it has.
    // And one left unanswered overnight, which the shift leads' chat hears of at once.
    if with("telegram") && _tmp.is_some() {
        let mut history = crate::demo::history::earlier_requests(&sim.regulars(4), store.now());
        sim.open_chat(OVERNIGHT_CHAT);
        history.push(crate::demo::history::overnight_request(
            OVERNIGHT_CHAT,
            store.now(),
        ));
        store.apply_batch(history).await.map_err(|(_, e)| e)?;
    }
    let mut adapters = Adapters {
        telegram: with("telegram")
            .then(|| telegram(&config, Some(&sim.api_url()), Some(sim.token())))
            .transpose()?
            .map(Arc::new),
        vk: with("vk")
            .then(|| {
                super::channels::vk(
                    &config,
                    Some(&sim.vk_api_url()),
                    Some(sim.vk_token()),
                    Some(sim.vk_group_id()),
                )
            })
            .transpose()?
            .map(Arc::new),
        platform: with("open311")
            .then(|| {
                crate::channels::open311::Open311Client::new(crate::channels::open311::Options {
                    url: sim.platform_url(),
                    api_key: sim.platform_key().to_string(),
                    jurisdiction: String::new(),
                    publish: crate::channels::open311::Publish::Updates,
                    // A demo shows a request within seconds of its filing.
                    every: Duration::from_secs(3),
                    backfill: chrono::Duration::days(1),
                })
                .map_err(Refused)
            })
            .transpose()?
            .map(Arc::new),
        mail: None,
    };
    let db_s = db.display();
    if en {
        println!(
            "simulator (fake {}): {} — what was sent: GET {}/_sim/sent",
            a.channels.join(", "),
            sim.api_url(),
            sim.api_url()
        );
        println!(
            "database: {db_s}{}",
            if _tmp.is_some() {
                " (deleted on exit)"
            } else {
                ""
            }
        );
        println!("answer from another shell: mcu reply NUMBER --text '...' --db {db_s}");
        println!("stop: Ctrl-C");
    } else {
        println!(
            "симулятор (поддельные {}): {} — что отправлено: GET {}/_sim/sent",
            a.channels.join(", "),
            sim.api_url(),
            sim.api_url()
        );
        println!(
            "база: {db_s}{}",
            if _tmp.is_some() {
                " (удалится при выходе)"
            } else {
                ""
            }
        );
        println!("ответить из другого терминала: mcu reply НОМЕР --text '...' --db {db_s}");
        println!("остановить: Ctrl-C");
    }
    let mut opts = gateway_options(&config, dir.join("files"));
    // The shift leads' chat, unless the config names one: `/_sim/sent` lists what it got.
    if opts.escalation_chat.is_none() {
        sim.open_chat(LEADS_CHAT);
        opts.escalation_chat = Some(LEADS_CHAT.to_string());
        // The demo's leads hear of clocks at risk too, to show what the setting does.
        opts.escalation_at_risk = true;
    }
    if opts.rules.departments.is_empty() {
        sim.open_chat(ECONOMY_CHAT);
        opts.rules
            .departments
            .insert("city_economy".into(), ECONOMY_CHAT.to_string());
    }
    let mail_department = if opts.rules.department_mail.is_empty() {
        let played = mail_department(&dir, en).await?;
        opts.rules
            .department_mail
            .insert("transport_roads".into(), ROADS_MAIL.into());
        adapters.mail = Some(Arc::new(played.0));
        Some(played.1)
    } else {
        None
    };
    let result = if a.headless {
        run_gateway(store, adapters, opts, en, shutdown_on_ctrl_c(a.duration)).await
    } else {
        let settings = settings(&config, false, store.env().catalog.clone())?;
        let _trainer = super::trainer::TriageTrainer::spawn(store.clone(), config.triage.clone());
        with_gateways(store, settings, &adapters, &opts).await
    };
    sim.shutdown().await;
    if let Some(played) = mail_department {
        played.abort();
    }
    result
}

/// The demo's roads department by e-mail: the mail adapter to the SMTP sink, and the
/// simulated dispatcher answering from the sink into the Maildir in `dir`.
async fn mail_department(
    dir: &Path,
    en: bool,
) -> anyhow::Result<(crate::channels::mail::Mail, tokio::task::JoinHandle<()>)> {
    use crate::channels::mail::{Mail, MailSettings};
    let sink = Arc::new(
        crate::demo::smtp_sink::SmtpSink::start()
            .await
            .context("cannot start the demo's mail server")?,
    );
    let maildir = dir.join("Maildir");
    let mail = Mail::new(MailSettings {
        host: "127.0.0.1".into(),
        port: sink.port(),
        security: crate::wire::mail::Security::None,
        username: String::new(),
        password: None,
        from: CENTER_MAIL.into(),
        maildir: Some(maildir.clone()),
        timeout: Duration::from_secs(10),
        poll_every: Duration::from_millis(500),
        poll_wait: Duration::from_secs(25),
    })
    .map_err(Refused)?;
    if en {
        println!(
            "the roads department by e-mail ({ROADS_MAIL}): SMTP 127.0.0.1:{}, its replies in {}",
            sink.port(),
            maildir.display()
        );
    } else {
        println!(
            "дорожный департамент по почте ({ROADS_MAIL}): SMTP 127.0.0.1:{}, его ответы в {}",
            sink.port(),
            maildir.display()
        );
    }
    let played = crate::demo::mail_department::MailDepartment {
        sink,
        maildir,
        address: ROADS_MAIL.into(),
        center: CENTER_MAIL.into(),
        answer_after: Duration::from_secs(20),
    }
    .play();
    Ok((mail, played))
}
