//! The binary's edge: parse arguments, load config, talk to the store, print.
//! Exit codes: 0 done; 2 the input was refused (unknown number, invalid transition, bad import
//! line, bad arguments); 1 the system failed (database unreadable or locked, I/O).

mod args;
mod channels;
mod demo;
mod files;
mod gateway;
mod groups;
mod handover;
pub(crate) mod import;
mod incident;
mod incidents;
mod install;
pub mod live;
mod macros;
mod mail_in;
mod output;
mod read;
mod reply;
mod report;
mod server;
mod shift;
mod team;
mod trainer;
mod triage;
mod views;

use clap::Parser;

use std::sync::Arc;
use uuid::Uuid;

use crate::config::Config;
use crate::domain::Channel;
use crate::domain::mutation::{Mutation, NewRequest, Op, Settle};
use crate::domain::request::Location;
use crate::store::{Env, Store, StoreError};
use args::{Cli, Command, Format};
use output::Labels;

/// An error the user caused and can fix: reported in one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// A finished command that still must say something with its exit code (`mcu sync`: 3 when
/// the server refused an action, 4 when it can't be reached).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return std::process::ExitCode::from(code);
        }
    };
    // Installing needs neither a config nor a store (nor a runtime).
    let installed = match &cli.command {
        Some(Command::Completions { shell }) => Some(install::completions(*shell)),
        Some(Command::Man { dir }) => Some(install::man(dir.as_deref())),
        _ => None,
    };
    if let Some(done) = installed {
        return match done {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mcu: {e}");
                std::process::ExitCode::from(1)
            }
        };
    }
    // The server answers many consoles at once; everything else is one person's command.
    let mut builder = if matches!(
        cli.command,
        Some(Command::Serve { .. } | Command::User { .. } | Command::Repair { server: true })
    ) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mcu: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // `mcu list | head`: the reader had enough; that is not the command failing.
        Err(e)
            if e.chain().any(|c| {
                let pipe = std::io::ErrorKind::BrokenPipe;
                // serde_json and csv keep the io error inside rather than as a source.
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == pipe)
                    || c.downcast_ref::<serde_json::Error>()
                        .is_some_and(|j| j.io_error_kind() == Some(pipe))
                    || c.downcast_ref::<csv::Error>().is_some_and(
                        |x| matches!(x.kind(), csv::ErrorKind::Io(io) if io.kind() == pipe),
                    )
            }) =>
        {
            std::process::ExitCode::SUCCESS
        }
        Err(e) if e.downcast_ref::<Exit>().is_some() => {
            let code = e.downcast_ref::<Exit>().map_or(1, |x| x.code);
            eprintln!("mcu: {}", format!("{e:#}").replace('\n', " "));
            std::process::ExitCode::from(code)
        }
        Err(e) => {
            let refused = refused_input(&e);
            let russian = !ENGLISH.load(std::sync::atomic::Ordering::Relaxed);
            let msg = match e
                .downcast_ref::<StoreError>()
                .and_then(crate::present::refusal::store_error_ru)
            {
                Some(ru) if russian => ru,
                // One line: the cause chain joined, newlines folded.
                _ => format!("{e:#}"),
            }
            .replace('\n', " ");
            eprintln!("mcu: {msg}");
            std::process::ExitCode::from(if refused { 2 } else { 1 })
        }
    }
}

/// Whether a failed command is the user's to fix (exit 2) rather than the system's (exit 1):
/// a refusal of ours, or the store refusing the input — never the disk or the database failing.
fn refused_input(e: &anyhow::Error) -> bool {
    e.downcast_ref::<Refused>().is_some()
        || e.downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_bad_input)
}

/// A topic as the operator typed it (id or name, as in the console's filter), resolved once at
/// the edge so the CLI and the console take the same words.
fn topic_id(catalog: &crate::domain::Catalog, typed: &str) -> Result<String, Refused> {
    catalog
        .find_topic(typed)
        .map(|t| t.id.clone())
        .ok_or_else(|| {
            Refused(if english() {
                format!("unknown topic `{typed}`")
            } else {
                format!("неизвестная тема `{typed}`")
            })
        })
}

/// A department as the operator typed it (id or a part of its name).
fn department_id(catalog: &crate::domain::Catalog, typed: &str) -> Result<String, Refused> {
    catalog
        .find_department(typed)
        .map(|d| d.id.clone())
        .ok_or_else(|| {
            Refused(if english() {
                format!("unknown department `{typed}`")
            } else {
                format!("неизвестный департамент `{typed}`")
            })
        })
}

fn english() -> bool {
    ENGLISH.load(std::sync::atomic::Ordering::Relaxed)
}

/// Set once the config is read, so errors are worded in the operator's language.
static ENGLISH: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// One `mcu` command line at work: the opened store and how to print.
struct Invocation {
    store: Store,
    /// The ready replies `mcu reply --template` picks from: shipped, with the center's own.
    templates: Vec<crate::templates::ReplyTemplate>,
    /// The macros `mcu macro` runs: shipped, with the center's own.
    macros: Vec<crate::macros::Macro>,
    /// `[server]` in team mode: actions go to it before the command answers (`team`).
    server: Option<crate::config::ServerConfig>,
    operator: String,
    format: Format,
    labels: Labels,
    shift_hours: f64,
    triage: crate::triage::Settings,
    incidents: crate::incidents::Rules,
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let env_vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("MCU_"))
        .collect();
    let config =
        Config::load(cli.config.as_deref(), &env_vars).map_err(|e| Refused(e.to_string()))?;
    ENGLISH.store(
        config.ui.language == "en",
        std::sync::atomic::Ordering::Relaxed,
    );
    let catalog = config.catalog().map_err(|e| Refused(e.to_string()))?;
    let policy = config.policy().map_err(|e| Refused(e.to_string()))?;
    let command = match cli.command.unwrap_or(Command::Console {
        readonly: false,
        dashboard: false,
    }) {
        Command::Simulate { listen, sim } => return demo::simulate(listen, &sim).await,
        Command::MailIn => return mail_in::mail_in(&config),
        Command::Demo(a) => return demo::demo(a, config, cli.db.clone()).await,
        // The server's store is not the console's file: no default from the config.
        Command::Serve {
            command: Some(args::ServeCommand::Backup { out }),
            ..
        } => return server::backup(cli.db.as_deref(), &out).await,
        Command::Serve {
            command: None,
            listen,
            channels,
            gateway_db,
            lease_secs,
            seed_db,
            no_seed,
            after_restore,
            compact_every_secs,
        } => {
            let gateways = server::Gateways {
                channels,
                db: gateway_db,
                lease_secs,
                seed: (!no_seed).then_some(seed_db),
                after_restore,
                compact_every_secs,
            };
            return server::serve(
                cli.db.as_deref(),
                listen,
                &config,
                catalog,
                policy,
                gateways,
            )
            .await;
        }
        Command::Repair { server: true } => {
            return server::repair(cli.db.as_deref(), cli.output.unwrap_or(Format::Table)).await;
        }
        Command::Shift { command } => {
            return shift::shift(&config, command, cli.output.unwrap_or(Format::Table)).await;
        }
        Command::Triage {
            command: args::TriageCommand::Eval(a),
        } if a.holdout_days.is_none() => {
            let report = triage::eval_files(&a, &catalog, config.triage.min_history)?;
            return match cli.output.unwrap_or(Format::Table) {
                Format::Table => {
                    triage::print_table(&report, config.ui.language == "en");
                    Ok(())
                }
                _ => {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    Ok(())
                }
            };
        }
        Command::User { mut command } => {
            let format = cli.output.unwrap_or(Format::Table);
            // Departments named as the operator would (id or name), checked against this
            // city's catalog once, here.
            if let args::UserCommand::Add { departments, .. }
            | args::UserCommand::Grant { departments, .. } = &mut command
            {
                for d in departments.iter_mut() {
                    *d = department_id(&catalog, d)?;
                }
            }
            return server::user(
                cli.db.as_deref(),
                command,
                format,
                policy.calendar.tz(),
                &config.server.scope,
            )
            .await;
        }
        other => other,
    };
    let db = cli.db.clone().unwrap_or_else(|| config.db_path());
    let env = Env {
        catalog,
        policy,
        // With a server every action is also kept for it until it confirms.
        journal: config.server.team(),
        now: Arc::new(chrono::Utc::now),
    };
    let store = Store::open(&db, env).await?;
    store.configure_triage(config.triage.clone()).await?;
    let labels = Labels {
        en: config.ui.language == "en",
    };
    if let Command::Gateway { duration } = command {
        if config.server.team() {
            // Two gateways would answer one citizen: in a team, the server's runs the channel.
            return Err(Refused(if config.ui.language == "en" {
                "in team mode the channels run in the server: `mcu serve --channels telegram`"
                    .into()
            } else {
                "в командном режиме каналы работают на сервере: `mcu serve --channels telegram`"
                    .into()
            })
            .into());
        }
        return live::gateway(store, &config, &db, duration).await;
    }
    if let Command::Console {
        readonly,
        dashboard,
    } = command
    {
        return live::console(store, &config, &db, readonly, dashboard).await;
    }
    if let Command::Sync = command {
        return live::sync_command(&store, &config, cli.output.unwrap_or(Format::Table)).await;
    }
    if let Command::Repair { .. } = command {
        return files::repair(&store, cli.output.unwrap_or(Format::Table)).await;
    }
    let templates = crate::templates::merged(&config.templates);
    let app = Invocation {
        macros: crate::macros::merged(&config.macros, &store.env().catalog, &templates),
        templates,
        server: config.server.team().then(|| config.server.clone()),
        operator: config.operator(),
        store,
        format: cli.output.unwrap_or(Format::Table),
        labels,
        shift_hours: config.ui.shift_hours,
        triage: config.triage.clone(),
        incidents: config.incidents.clone(),
    };
    app.dispatch(command).await
}

impl Invocation {
    async fn dispatch(&self, command: Command) -> anyhow::Result<()> {
        match command {
            Command::Triage { command } => self.triage(command).await,
            Command::Incidents => self.incidents().await,
            Command::Incident { command } => self.incident(command).await,
            Command::List(a) => self.list(a).await,
            Command::Views { command } => self.views(command).await,
            Command::Handover { hours } => {
                let hours = hours.unwrap_or(self.shift_hours);
                self.handover(hours).await
            }
            Command::Show { number } => self.show(&number).await,
            Command::New(a) => {
                let channel = a.channel.parse::<Channel>().map_err(Refused)?;
                let catalog = &self.store.env().catalog;
                let topic = a.topic.map(|t| topic_id(catalog, &t)).transpose()?;
                let department = a
                    .department
                    .map(|d| department_id(catalog, &d))
                    .transpose()?;
                let phone = a
                    .phone
                    .map(|p| {
                        crate::domain::phone::normalise(&p).map_err(|e| {
                            Refused(format!("--phone `{}`: {e}", crate::sanitize::line(&p)))
                        })
                    })
                    .transpose()?;
                let new = NewRequest {
                    citizen: a.citizen,
                    phone,
                    location: a.address.map(|addr| Location {
                        lat: None,
                        lon: None,
                        address: Some(addr),
                    }),
                    topic,
                    department,
                    ..NewRequest::new(channel, a.text, self.store.now())
                };
                let m = Mutation::new(
                    Uuid::now_v7(),
                    &self.operator,
                    self.store.now(),
                    Op::Create(Box::new(new)),
                );
                let applied = self.store.apply(m).await?;
                self.settle().await?;
                let request = self.settled(applied.request.id).await?;
                self.print_requests(&[request])
            }
            Command::Claim { number } => self.act(&number, vec![Op::Claim]).await,
            Command::Release { number } => self.act(&number, vec![Op::Release]).await,
            Command::Assign {
                number,
                to,
                nobody: _,
            } => self.act(&number, vec![Op::Assign { assignee: to }]).await,
            Command::Tag(a) => {
                let mut ops = vec![];
                let catalog = &self.store.env().catalog;
                if let Some(t) = a.topic {
                    // An explicit --department wins over the topic's default.
                    ops.push(Op::SetTopic {
                        topic: Some(topic_id(catalog, &t)?),
                        department_follows: a.department.is_none(),
                    });
                }
                if let Some(d) = a.department {
                    ops.push(Op::SetDepartment {
                        department: Some(department_id(catalog, &d)?),
                    });
                }
                if let Some(p) = a.priority {
                    ops.push(Op::SetPriority {
                        priority: p.parse().map_err(Refused)?,
                    });
                }
                ops.extend(a.add.into_iter().map(|tag| Op::Tag { tag }));
                ops.extend(a.remove.into_iter().map(|tag| Op::Untag { tag }));
                if ops.is_empty() {
                    return Err(Refused("nothing to change: give --topic, --department, --priority, --add or --remove".into()).into());
                }
                self.act(&a.number, ops).await
            }
            Command::Note { number, text } => {
                self.act(
                    &number,
                    vec![Op::AddNote {
                        note_id: Uuid::now_v7(),
                        body: text,
                    }],
                )
                .await
            }
            Command::Reply {
                number,
                text,
                template,
                wait,
            } => {
                let body = self.reply_text(&number, text, template).await?;
                let message_id = Uuid::now_v7();
                let op = if wait {
                    Op::Ask { message_id, body }
                } else {
                    Op::Reply { message_id, body }
                };
                self.act(&number, vec![op]).await
            }
            Command::Resend { number } => {
                let d = self.store.detail(&number).await?;
                let Some(body) = d.undelivered_reply().map(|m| m.body.clone()) else {
                    return Err(Refused(
                        self.labels
                            .lang()
                            .pick(
                                "у обращения нет недоставленного ответа",
                                "the request has no undelivered reply",
                            )
                            .into(),
                    )
                    .into());
                };
                self.act(
                    &number,
                    vec![Op::Reply {
                        message_id: Uuid::now_v7(),
                        body,
                    }],
                )
                .await
            }
            Command::Phoned { number, text } => {
                self.act(
                    &number,
                    vec![Op::SettleReply {
                        how: Settle::Phoned {
                            message_id: Uuid::now_v7(),
                            body: text,
                        },
                    }],
                )
                .await
            }
            Command::Unreachable { number } => {
                self.act(
                    &number,
                    vec![Op::SettleReply {
                        how: Settle::Unreachable,
                    }],
                )
                .await
            }
            Command::Forward {
                number,
                department,
                note,
            } => {
                let department = department
                    .map(|d| department_id(&self.store.env().catalog, &d))
                    .transpose()?;
                self.act(
                    &number,
                    vec![Op::Forward {
                        department,
                        note_id: Uuid::now_v7(),
                        note,
                    }],
                )
                .await
            }
            Command::Answer { number, text } => {
                self.act(
                    &number,
                    vec![Op::DepartmentAnswer {
                        note_id: Uuid::now_v7(),
                        body: text,
                        attachments: vec![],
                    }],
                )
                .await
            }
            Command::Close { number, reason } => {
                let reason = reason.parse().map_err(Refused)?;
                self.act(&number, vec![Op::Close { reason }]).await
            }
            Command::Reopen { number } => self.act(&number, vec![Op::Reopen]).await,
            Command::Return { number, reason } => {
                self.act(
                    &number,
                    vec![Op::Return {
                        note_id: Uuid::now_v7(),
                        reason,
                    }],
                )
                .await
            }
            Command::Split { number, message } => {
                let d = self.store.detail(&number).await?;
                let lang = self.labels.lang();
                let chosen = match message.parse::<usize>() {
                    Ok(n) if n >= 1 => d.messages.get(n - 1),
                    _ => d.messages.iter().find(|m| m.id.to_string() == message),
                };
                let Some(m) = chosen else {
                    return Err(Refused(format!(
                        "{} `{}`",
                        lang.pick("в обращении нет сообщения", "the request has no message"),
                        crate::sanitize::line(&message)
                    ))
                    .into());
                };
                let (id, batch) =
                    crate::domain::split::split(&d.request, m, &self.operator, self.store.now())
                        .map_err(|e| Refused(crate::present::merge::split_refusal(&e, lang)))?;
                self.store.apply_batch(batch).await.map_err(|(_, e)| e)?;
                self.settle().await?;
                let made = self.settled(id).await?;
                self.print_requests(&[made])
            }
            Command::Link {
                number,
                duplicate_of,
            } => {
                // The citizen is told which request handles it, as the console does
                // (`incidents::plan::join_duplicate`).
                let parent = self.store.resolve(&duplicate_of).await?;
                let repeat = self.store.resolve(&number).await?;
                let batch = crate::incidents::plan::join_duplicate(
                    &repeat,
                    &parent,
                    Some(self.labels.lang()),
                    &self.operator,
                    self.store.now(),
                );
                self.store.apply_batch(batch).await.map_err(|(_, e)| e)?;
                self.settle().await?;
                let repeat = self.settled(repeat.id).await?;
                self.print_requests(&[repeat])
            }
            Command::Merge { number, into } => {
                let into = self.store.resolve(&into).await?;
                let other = self.store.resolve(&number).await?;
                let into_target = match crate::domain::mutation::merged_into(&into) {
                    Some(next) => Some(
                        self.store
                            .resolve(&next.to_string())
                            .await?
                            .number
                            .to_string(),
                    ),
                    None => None,
                };
                let lang = self.labels.lang();
                let batch = crate::domain::merge::merge(
                    &other,
                    &into,
                    into_target,
                    Some(crate::present::merge::told(lang, &other, &into)),
                    &self.operator,
                    self.store.now(),
                )
                .map_err(|e| anyhow::anyhow!(crate::present::merge::merge_refusal(&e, lang)))?;
                self.store.apply_batch(batch).await.map_err(|(_, e)| e)?;
                self.settle().await?;
                let other = self.settled(other.id).await?;
                self.print_requests(&[other])
            }
            Command::Import { file } => self.import(&file).await,
            Command::Templates => self.list_templates(),
            Command::Macros => self.list_macros(),
            Command::Macro { id, number } => self.run_macro(&id, &number).await,
            Command::Generate { count, seed, days } => {
                files::generate(count, seed, days, self.store.now())
            }
            Command::Export { out } => self.export(out.as_deref()).await,
            Command::Report(a) => self.report(a).await,
            Command::Alarms { clear } => self.alarms(clear).await,
            Command::Gateway { .. }
            | Command::MailIn
            | Command::Sync
            | Command::Simulate { .. }
            | Command::Demo(_)
            | Command::Serve { .. }
            | Command::User { .. }
            | Command::Shift { .. }
            | Command::Repair { .. }
            | Command::Completions { .. }
            | Command::Man { .. }
            | Command::Console { .. } => Ok(()),
        }
    }

    /// Applies the operations to one request, all or nothing.
    async fn act(&self, number: &str, ops: Vec<Op>) -> anyhow::Result<()> {
        let request = self.store.resolve(number).await?;
        let now = self.store.now();
        let batch: Vec<Mutation> = ops
            .into_iter()
            .map(|op| Mutation::new(request.id, &self.operator, now, op))
            .collect();
        self.store.apply_batch(batch).await.map_err(|(_, e)| e)?;
        let applied = self.store.resolve(&request.id.to_string()).await?;
        self.settle().await?;
        // A request the server took away meanwhile (a department's, once it returned it) is
        // shown as the action left it.
        let request = match self.settled(request.id).await {
            Err(e) if matches!(e.downcast_ref(), Some(StoreError::UnknownRequest(_))) => applied,
            other => other?,
        };
        self.print_requests(&[request])
    }
}
