//! Long-running commands — `mcu gateway` and `mcu console` — kept apart from the one-shot commands
//! in `mod.rs` because they start tasks (gateways, the sync loop, presence) and must stop them
//! cleanly on a signal or `q`. `mcu demo` is in demo.rs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

use super::Refused;
use super::channels::Adapters;
use crate::channels::gateway::{GatewayEvent, GatewayOptions};
use crate::channels::telegram::Telegram;
use crate::config::Config;
use crate::domain::catalog::hours;
use crate::store::Store;
use crate::store::ingest::IngestRules;
use crate::templates::BotTexts;

pub fn gateway_options(config: &Config, files_dir: PathBuf) -> GatewayOptions {
    GatewayOptions {
        rules: IngestRules {
            join_window: hours(config.gateway.join_window_hours),
            closed_policy: config.gateway.closed_policy,
            reopen_window: hours(config.gateway.reopen_window_days * 24.0),
            texts: BotTexts::shipped(&config.ui.language),
            status_words: crate::present::status::for_citizen(crate::lang::Lang::from_config(
                &config.ui.language,
            )),
            acknowledge: true,
            incidents: Some(config.incidents.clone()),
            topics: config.channels.platform.topics.clone(),
            departments: crate::config::departments::telegram_chats(&config.departments.each),
            department_mail: crate::config::departments::email_addresses(&config.departments.each),
        },
        lease_ttl: Duration::from_secs(15),
        idle_poll: Duration::from_millis(300),
        per_chat_interval: Duration::from_secs(1),
        global_interval: Duration::from_millis(34),
        files_dir: Some(files_dir),
        max_file_bytes: config.gateway.max_file_mb * 1024 * 1024,
        waiting_every: Duration::from_secs(5),
        escalation_chat: config.escalation.chat(),
        escalation_at_risk: config.escalation.at_risk,
        feedback_after: config.feedback.after(),
    }
}

pub(crate) fn telegram(
    config: &Config,
    api_url: Option<&str>,
    token: Option<&str>,
) -> anyhow::Result<Telegram> {
    let t = &config.channels.telegram;
    let token = token.unwrap_or(&t.token);
    if token.trim().is_empty() {
        return Err(Refused(
            "no Telegram token: set [channels.telegram] token or MCU_CHANNELS_TELEGRAM_TOKEN"
                .into(),
        )
        .into());
    }
    Telegram::new(
        api_url.unwrap_or(&t.api_url),
        token,
        Duration::from_secs(t.poll_timeout_secs.max(1)),
        Duration::from_secs(t.send_timeout_secs.max(1)),
    )
    .map_err(|e| Refused(e).into())
}

/// Logs go to a file next to the database: the terminal belongs to people.
pub fn init_logging(dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    std::fs::create_dir_all(dir).ok()?;
    let appender = tracing_appender::rolling::never(dir, "mcu.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("MCU_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

pub(super) fn shutdown_on_ctrl_c(limit: Option<f64>) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        match limit {
            Some(secs) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = tokio::time::sleep(Duration::from_secs_f64(secs)) => {}
                }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        let _ = tx.send(true);
    });
    rx
}

/// One line per gateway event, in the operator's language.
async fn print_events(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<(crate::domain::Channel, GatewayEvent)>,
    en: bool,
) {
    while let Some((channel, e)) = rx.recv().await {
        let t = store
            .now()
            .with_timezone(&store.env().policy.calendar.tz())
            .format("%H:%M:%S");
        tracing::info!(channel = channel.as_str(), ?e, "gateway");
        let line = match e {
            GatewayEvent::Started { account, epoch } => {
                if en {
                    format!("gateway for bot {account} started (lease epoch {epoch})")
                } else {
                    format!("шлюз бота {account} запущен (эпоха аренды {epoch})")
                }
            }
            GatewayEvent::Ingested(r) => {
                let mut parts = vec![];
                for n in &r.created {
                    let text = store
                        .resolve(&n.to_string())
                        .await
                        .map(|req| {
                            super::output::sanitize(&req.text)
                                .chars()
                                .take(70)
                                .collect::<String>()
                        })
                        .unwrap_or_default();
                    parts.push(if en {
                        format!("new request {n}: «{text}»")
                    } else {
                        format!("новое обращение {n}: «{text}»")
                    });
                }
                if r.appended > 0 {
                    parts.push(if en {
                        format!("{} message(s) added to open requests", r.appended)
                    } else {
                        format!("сообщений к открытым обращениям: {}", r.appended)
                    });
                }
                if r.edited > 0 {
                    parts.push(if en {
                        format!("{} edit(s)", r.edited)
                    } else {
                        format!("правок: {}", r.edited)
                    });
                }
                if r.commands > 0 {
                    parts.push(if en {
                        format!("{} command(s) answered", r.commands)
                    } else {
                        format!("команд: {}", r.commands)
                    });
                }
                if r.malformed > 0 {
                    parts.push(if en {
                        format!("{} malformed update(s) skipped", r.malformed)
                    } else {
                        format!("пропущено испорченных обновлений: {}", r.malformed)
                    });
                }
                if parts.is_empty() {
                    continue;
                }
                parts.join("\n")
            }
            GatewayEvent::Waiting { reminded, closed } => {
                if en {
                    format!("unanswered questions: {reminded} reminded, {closed} closed")
                } else {
                    format!("вопросы без ответа: напомнили {reminded}, закрыли {closed}")
                }
            }
            GatewayEvent::DepartmentPosts(n) => {
                if en {
                    format!("{n} forwarded request(s) and reminder(s) sent to departments")
                } else {
                    format!("департаментам отправлено обращений и напоминаний: {n}")
                }
            }
            GatewayEvent::Escalated(n) => {
                if en {
                    format!("{n} breach(es) told to the shift leads' chat")
                } else {
                    format!("старшим смены сообщено о просрочках: {n}")
                }
            }
            GatewayEvent::FeedbackAsked(n) => {
                if en {
                    format!("{n} citizen(s) asked whether it helped")
                } else {
                    format!("спросили «Вопрос решён?»: {n}")
                }
            }
            GatewayEvent::Sent { chat, part, .. } => {
                if en {
                    format!("delivered to chat {chat} (part {})", part + 1)
                } else {
                    format!("доставлено в чат {chat} (часть {})", part + 1)
                }
            }
            GatewayEvent::Retry {
                chat,
                reason,
                after,
            } => {
                if en {
                    format!(
                        "chat {chat}: {reason}; retry in {:.1} s",
                        after.as_secs_f64()
                    )
                } else {
                    format!(
                        "чат {chat}: {reason}; повтор через {:.1} с",
                        after.as_secs_f64()
                    )
                }
            }
            GatewayEvent::Unknown { chat, reason } => {
                if en {
                    format!("chat {chat}: delivery UNKNOWN ({reason}) — not resent, check by hand")
                } else {
                    format!(
                        "чат {chat}: доставка НЕИЗВЕСТНА ({reason}) — не переотправляется, проверьте вручную"
                    )
                }
            }
            GatewayEvent::Failed { chat, reason } => {
                if en {
                    format!("chat {chat}: delivery failed: {reason}")
                } else {
                    format!("чат {chat}: не доставлено: {reason}")
                }
            }
            GatewayEvent::File { source, state } => {
                let short: String = source
                    .chars()
                    .rev()
                    .take(8)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let what = match (state, en) {
                    (crate::domain::request::AttachmentState::Stored, false) => "сохранён",
                    (crate::domain::request::AttachmentState::TooLarge, false) => {
                        "слишком большой, не загружен"
                    }
                    (_, false) => "не удалось загрузить",
                    (crate::domain::request::AttachmentState::Stored, true) => "stored",
                    (crate::domain::request::AttachmentState::TooLarge, true) => {
                        "too large, not downloaded"
                    }
                    (_, true) => "could not be downloaded",
                };
                if en {
                    format!("file …{short}: {what}")
                } else {
                    format!("файл …{short}: {what}")
                }
            }
            GatewayEvent::Alarm(a) => format!("{}: {a}", if en { "ALARM" } else { "ТРЕВОГА" }),
            GatewayEvent::Warning(w) => format!("{}: {w}", if en { "warning" } else { "внимание" }),
            GatewayEvent::Stopped => {
                if en {
                    "gateway stopped".into()
                } else {
                    "шлюз остановлен".into()
                }
            }
        };
        let label = crate::present::channel::name(
            channel,
            crate::present::channel::Width::Badge,
            if en {
                crate::lang::Lang::En
            } else {
                crate::lang::Lang::Ru
            },
        );
        for l in line.lines() {
            println!("{t} {label} {l}");
        }
    }
}

pub async fn gateway(
    store: Store,
    config: &Config,
    db: &Path,
    duration: Option<f64>,
) -> anyhow::Result<()> {
    let adapters = Adapters::from_config(config)?;
    if adapters.is_empty() {
        return Err(Refused(if config.ui.language == "en" {
            "no channel configured: set [channels.telegram] token, [channels.vk] token, or a department's email with [smtp]".into()
        } else {
            "не настроен ни один канал: укажите [channels.telegram] token, [channels.vk] token или email департамента и [smtp]"
                .into()
        })
        .into());
    }
    let _log = init_logging(db.parent().unwrap_or(Path::new(".")));
    let _trainer = super::trainer::TriageTrainer::spawn(store.clone(), config.triage.clone());
    run_gateway(
        store,
        adapters,
        gateway_options(config, config.files_dir()),
        config.ui.language == "en",
        shutdown_on_ctrl_c(duration),
    )
    .await
}

pub(super) async fn run_gateway(
    store: Store,
    adapters: Adapters,
    opts: GatewayOptions,
    en: bool,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    let printer = tokio::spawn(print_events(store.clone(), rx, en));
    let running = adapters.spawn(&store, &opts, &tx, &shutdown);
    drop(tx);
    let mut result = Ok(());
    for gw in running {
        match gw.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e.into()),
            Err(e) => result = Err(e.into()),
        }
    }
    let _ = printer.await;
    result
}

/// The console's settings from the config, as `mcu` builds them (the console benchmark too).
pub fn settings(
    config: &Config,
    readonly: bool,
    catalog: crate::domain::Catalog,
) -> anyhow::Result<crate::tui::app::Settings> {
    let macros = crate::macros::merged(
        &config.macros,
        &catalog,
        &crate::templates::merged(&config.templates),
    );
    Ok(crate::tui::app::Settings {
        lang: crate::tui::strings::Lang::from_config(&config.ui.language),
        me: config.operator(),
        readonly,
        keymap: crate::tui::keymap::Keymap::with_overrides(&config.keys)
            .map_err(|e| Refused(e.to_string()))?,
        catalog: Arc::new(catalog),
        tz: config
            .policy()
            .map_err(|e| Refused(e.to_string()))?
            .calendar
            .tz(),
        // https://no-color.org: any value turns colours off.
        theme: crate::tui::theme::Theme::new(
            config.ui.theme,
            std::env::var_os("NO_COLOR").is_none(),
        ),
        templates: crate::templates::merged(&config.templates),
        macros,
        open_command: config
            .ui
            .open_command
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        photos: config.ui.photos,
        dashboard: false,
        alerts: {
            let a = &config.alerts;
            (a.at_risk || a.breached || a.due_within_minutes > 0)
                .then(|| a.rules(&config.operator()))
        },
        bell: config.alerts.bell,
        shift_hours: config.ui.shift_hours,
        incidents: config.incidents.clone(),
    })
}

/// The console's screen takes stdin and stdout over; run from a script, a pipe or a service
/// there is no terminal to take, and the operator gets the reason (exit 2) instead of a panic
/// with a backtrace from the terminal library.
pub(super) fn need_terminal(en: bool) -> Result<(), Refused> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(());
    }
    Err(Refused(if en {
        "the console needs a terminal: run it in a terminal window; scripts use commands such as \
         `mcu list -o json`"
            .into()
    } else {
        "консоли нужен терминал: запустите её в окне терминала; скриптам — команды вроде \
         `mcu list -o json`"
            .into()
    }))
}

/// The console; with a Telegram token configured it runs the gateway in the same process.
pub async fn console(
    store: Store,
    config: &Config,
    db: &Path,
    readonly: bool,
    dashboard: bool,
) -> anyhow::Result<()> {
    need_terminal(config.ui.language == "en")?;
    let _log = init_logging(db.parent().unwrap_or(Path::new(".")));
    let _trainer = super::trainer::TriageTrainer::spawn(store.clone(), config.triage.clone());
    let mut settings = settings(config, readonly, store.env().catalog.clone())?;
    settings.dashboard = dashboard;
    if config.server.team() {
        // In team mode the server runs the channels; this console keeps its file in sync.
        let s = &config.server;
        let transport =
            crate::sync::client::Http::new(&s.url, &s.token).map_err(|e| Refused(e.to_string()))?;
        let presence = crate::sync::presence::PresenceLink::new(&s.url, &s.token, &s.scope)
            .map_err(|e| Refused(e.to_string()))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let kick = Arc::new(tokio::sync::Notify::new());
        let runner = tokio::spawn(crate::sync::runner::run(
            store.clone(),
            transport,
            s.scope.clone(),
            tx,
            kick.clone(),
        ));
        let pokes = tokio::spawn(crate::sync::runner::listen_pokes(
            s.url.clone(),
            s.token.clone(),
            s.scope.clone(),
            kick.clone(),
        ));
        let (here, here_rx) = tokio::sync::watch::channel(crate::sync::presence::Here::default());
        let reporter = tokio::spawn(crate::sync::presence::report(presence.clone(), here_rx));
        let (presence_tx, presence_rx) = mpsc::unbounded_channel();
        let listener = tokio::spawn(crate::sync::presence::listen(presence, presence_tx));
        let team_link = crate::sync::team::TeamLink::new(&s.url, &s.token, &s.scope)
            .map_err(|e| Refused(e.to_string()))?;
        let (team_tx, team_rx) = mpsc::unbounded_channel();
        let (marks_tx, marks_rx) = mpsc::unbounded_channel();
        let team = tokio::spawn(crate::sync::team::run(
            team_link,
            marks_rx,
            team_tx,
            crate::sync::team::EVERY,
        ));
        let files = crate::sync::files::FileLink::new(
            &s.url,
            &s.token,
            &s.scope,
            config.files_dir().join("from-server"),
        )
        .map_err(|e| Refused(e.to_string()))?;
        let sync = crate::tui::SyncLink {
            status: rx,
            kick,
            here,
            presence: presence_rx,
            team: team_rx,
            marks: marks_tx,
            files,
        };
        let result = crate::tui::run(store, settings, None, Some(sync)).await;
        runner.abort();
        team.abort();
        pokes.abort();
        listener.abort();
        // The screen closed its end: the reporter says goodbye, so the others stop seeing
        // this operator now rather than in 15 s. Not worth a longer wait at quit.
        if tokio::time::timeout(std::time::Duration::from_secs(1), reporter)
            .await
            .is_err()
        {
            tracing::debug!("presence goodbye not sent within 1 s");
        }
        return result;
    }
    let adapters = Adapters::from_config(config)?;
    if readonly || adapters.is_empty() {
        return crate::tui::run(store, settings, None, None).await;
    }
    let opts = gateway_options(config, config.files_dir());
    with_gateways(store, settings, &adapters, &opts).await
}

/// The console with the channels' gateways in this process; they stop when it closes.
pub(super) async fn with_gateways(
    store: Store,
    settings: crate::tui::app::Settings,
    adapters: &Adapters,
    opts: &GatewayOptions,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (stop_tx, stop) = watch::channel(false);
    let running = adapters.spawn(&store, opts, &tx, &stop);
    drop(tx);
    let result = crate::tui::run(store, settings, Some(rx), None).await;
    let _ = stop_tx.send(true);
    for gw in running {
        let _ = gw.await;
    }
    result
}

/// `mcu sync`: one round against `[server] url`, refusals printed, the exit code saying how it
/// went.
pub async fn sync_command(
    store: &Store,
    config: &Config,
    format: crate::cli::Format,
) -> anyhow::Result<()> {
    use crate::sync::client::{Http, SyncError, sync_once};
    let en = config.ui.language == "en";
    let s = &config.server;
    if !s.team() {
        return Err(Refused(if en {
            "no server: set [server] url (and token) in the config, or MCU_SERVER_URL".into()
        } else {
            "сервер не задан: укажите [server] url (и token) в настройках или MCU_SERVER_URL".into()
        })
        .into());
    }
    let t = Http::new(&s.url, &s.token).map_err(|e| Refused(e.to_string()))?;
    let report = match sync_once(store, &t, &s.scope).await {
        Ok(r) => r,
        Err(SyncError::Unavailable(e)) => {
            return Err(super::Exit {
                code: 4,
                message: if en {
                    format!("the server can't be reached ({e}); the actions wait for the next sync")
                } else {
                    format!(
                        "сервер недоступен ({e}); действия отправятся при следующей синхронизации"
                    )
                },
            }
            .into());
        }
        Err(e) => return Err(super::team::sync_failed(e)),
    };
    // Shown here: the console will not show them a second time.
    let refused = store.take_rejections().await?;
    match format {
        crate::cli::Format::Json | crate::cli::Format::Jsonl => {
            let out = serde_json::json!({
                "from_copy": report.from_copy,
                "server_restored": report.server_restored,
                "pushed": report.pushed,
                "pulled": report.pulled,
                "pending": report.pending,
                "rejected": refused,
            });
            println!("{out}");
        }
        _ => {
            if let Some(n) = report.from_copy {
                if en {
                    println!("started from the server's copy: {n} requests");
                } else {
                    println!("начало с копии сервера: обращений {n}");
                }
            }
            if report.server_restored {
                if en {
                    println!(
                        "the server was restored from a backup: work it had lost is sent again, what it no longer has is gone from here"
                    );
                } else {
                    println!(
                        "сервер восстановлен из резервной копии: утраченные им действия отправлены заново, чего у него больше нет — убрано и здесь"
                    );
                }
            }
            if en {
                println!(
                    "sent {}, received {} changes, waiting {}",
                    report.pushed, report.pulled, report.pending
                );
            } else {
                println!(
                    "отправлено {}, получено изменений {}, ждут отправки {}",
                    report.pushed, report.pulled, report.pending
                );
            }
            for line in super::team::refusal_lines(&refused, store, en) {
                println!("{line}");
            }
        }
    }
    if !report.rejected.is_empty() {
        return Err(super::Exit {
            code: 3,
            message: if en {
                format!("the server refused {} action(s)", report.rejected.len())
            } else {
                format!("сервер отклонил действий: {}", report.rejected.len())
            },
        }
        .into());
    }
    Ok(())
}
