//! The operator console. One task owns the `App`; keys, store answers, gateway events and a
//! 1 Hz tick arrive as messages; `update` is pure and returns commands, which run on other
//! tasks against the store (its own thread) and answer with messages. The screen is drawn
//! after the queue is drained, so it never waits on disk or network.

mod alerts;
pub mod app;
mod assign;
mod audit;
mod bulk;
mod card;
mod citizen;
mod compose_view;
mod dashboard;
mod dashboard_view;
mod dashboard_wide;
mod department_mode;
mod editor;
pub(crate) mod filter;
mod handover;
mod incidents;
mod incidents_view;
pub mod keymap;
mod link;
mod macros;
mod perform;
mod photo;
mod popups;
mod request_keys;
mod returned;
mod saved;
mod saved_keys;
mod saved_view;
mod shift_view;
pub mod strings;
mod suggest;
mod tags;
mod team;
mod team_view;
pub mod theme;
mod undelivered;
pub mod update;
pub mod view;

use crossterm::event::{Event, EventStream, KeyEventKind, MouseButton, MouseEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::channels::gateway::GatewayEvent;
use crate::store::Store;
use app::{App, Settings};
use update::{Cmd, Msg, update};

/// How long a graphics terminal may take to say what it draws (they answer in milliseconds;
/// over a slow SSH link the photo falls back to halfblocks).
const PICKER_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// Team mode: the sync loop's reports, and a bell that starts its next round at once;
/// presence both ways (sync/presence.rs).
pub struct SyncLink {
    pub status: mpsc::UnboundedReceiver<crate::sync::runner::SyncStatus>,
    pub kick: std::sync::Arc<tokio::sync::Notify>,
    /// Where this console is; the loop sets it after every batch of messages, and the
    /// reporter reads only the latest. Dropped when the console closes (its goodbye).
    pub here: tokio::sync::watch::Sender<crate::sync::presence::Here>,
    /// The others' whereabouts from the server's stream.
    pub presence: mpsc::UnboundedReceiver<Vec<crate::wire::presence::Presence>>,
    /// The server's channels and who is on shift (sync/team.rs), and the marks to send it.
    pub team: mpsc::UnboundedReceiver<crate::sync::team::News>,
    pub marks: mpsc::UnboundedSender<crate::sync::team::Ask>,
    /// The files the server's gateway fetched, for the card's photo and `o`.
    pub files: crate::sync::files::FileLink,
}

/// How long a frame may wait for the card the same keystroke asked for.
pub const DETAIL_GRACE: std::time::Duration = std::time::Duration::from_millis(3);

/// Runs a command against the store and reports back; never blocks the UI task.
fn execute(store: &Store, cmd: Cmd, tx: &mpsc::UnboundedSender<Msg>) {
    let store = store.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        if let Some(msg) = run_command(&store, cmd).await {
            let _ = tx.send(msg);
        }
    });
}

/// One command to the message that answers it (`None` for those that answer nothing). Public so
/// the console benchmark drives the same store path as the event loop.
pub async fn run_command(store: &Store, cmd: Cmd) -> Option<Msg> {
    Some(match cmd {
        Cmd::LoadPage {
            generation,
            filter,
            sort,
            after,
            limit,
            append,
        } => match store.inbox(*filter, sort, after, limit).await {
            Ok(page) => Msg::Page {
                generation,
                append,
                page,
            },
            Err(e) => Msg::Failed(e.to_string()),
        },
        Cmd::MarkDepartment(then) => {
            if let Err(e) = store.mark_department_view().await {
                return Some(Msg::Failed(e.to_string()));
            }
            return Box::pin(run_command(store, *then)).await;
        }
        Cmd::LoadDetail(id) => match store.detail(&id.to_string()).await {
            Ok(d) => Msg::Detail(Box::new(d)),
            Err(e) => Msg::Failed(e.to_string()),
        },
        Cmd::Apply(batch) => {
            let id = batch.first().map(|m| m.request_id);
            match store.apply_batch(batch).await {
                Ok(_) => {
                    let number = match id {
                        Some(id) => store
                            .resolve(&id.to_string())
                            .await
                            .map(|r| r.number.to_string())
                            .unwrap_or_default(),
                        None => String::new(),
                    };
                    Msg::Applied(id, Ok(number))
                }
                Err((_, e)) => Msg::Applied(
                    id,
                    Err(match crate::present::refusal::store_error_ru(&e) {
                        Some(ru) => ru,
                        None => e.to_string(),
                    }),
                ),
            }
        }
        Cmd::Views(work) => Msg::Views(saved::run(store, work).await),
        Cmd::LoadIncidents(rules) => {
            Msg::Incidents(store.incidents(rules).await.map_err(|e| e.to_string()))
        }
        Cmd::ConfirmIncident {
            members,
            title,
            topic,
            actor,
        } => confirm_incident(store, members, title, topic, &actor).await,
        Cmd::LoadAlarms => match store.open_alarms().await {
            Ok(a) => Msg::Alarms(a),
            Err(e) => Msg::Failed(e.to_string()),
        },
        Cmd::LinkDuplicate {
            target,
            actor,
            number,
            lang,
            merge,
        } => Msg::Applied(
            Some(target),
            if merge {
                link::merge(store, target, &actor, &number, lang).await
            } else {
                link::link_duplicate(store, target, &actor, &number, lang).await
            },
        ),
        Cmd::Resend {
            target,
            actor,
            message_id,
        } => Msg::Applied(
            Some(target),
            resend(store, target, &actor, message_id).await,
        ),
        Cmd::ClearAlarms => match store.clear_alarms().await {
            Ok(a) => Msg::Alarms(a),
            Err(e) => Msg::Failed(e.to_string()),
        },
        Cmd::Open { program, file } => Msg::Opened(open_externally(&program, &file.path).await),
        Cmd::Copy(text) => {
            copy_to_clipboard(&text);
            return None;
        }
        Cmd::LoadDashboard => Msg::Dashboard(
            store
                .dashboard()
                .await
                .map(Box::new)
                .map_err(|e| e.to_string()),
        ),
        Cmd::ExportCsv {
            filter,
            sort,
            english,
        } => Msg::Exported(match std::env::current_dir() {
            Ok(dir) => export_csv(store, *filter, sort, english, &dir).await,
            Err(e) => Err(e.to_string()),
        }),
        Cmd::LookAlerts { from, to, rules } => Msg::Alerts {
            to,
            found: store
                .alerts(from, to, rules)
                .await
                .map_err(|e| e.to_string()),
        },
        Cmd::LoadHandover { hours } => {
            let now = store.now();
            let shift = chrono::Duration::minutes((hours * 60.0).round() as i64);
            Msg::Handover(
                store
                    .handover(now - shift, now)
                    .await
                    .map(|(open, notes)| {
                        Box::new(crate::present::handover::build(
                            &open,
                            notes,
                            &store.env().policy,
                            now,
                            shift,
                        ))
                    })
                    .map_err(|e| e.to_string()),
            )
        }
        // The event loop runs the editor and rings the bell itself: it owns the terminal; it
        // hands marks to the team link (the store has no part in them).
        Cmd::Edit(_) | Cmd::Bell | Cmd::MarkShift { .. } | Cmd::Team(_) => return None,
    })
}

/// `target` joined to the request `number` names as its duplicate (`incidents::plan`): the
/// same citizen's repeat is told which request handles it. The repeat's number when stored.
/// A candidate group made one incident, as `mcu incident confirm` makes it: the members read,
/// the title (when none is given) the topic's name and the first address, the incident's
/// number when stored.
async fn confirm_incident(
    store: &Store,
    members: Vec<uuid::Uuid>,
    title: Option<String>,
    topic: Option<String>,
    actor: &str,
) -> Msg {
    use crate::incidents::plan;
    let refused = |e: crate::store::StoreError| {
        crate::present::refusal::store_error_ru(&e).unwrap_or_else(|| e.to_string())
    };
    let rs = match store.requests_of(members).await {
        Ok(rs) => rs,
        Err(e) => return Msg::Applied(None, Err(refused(e))),
    };
    let catalog = &store.env().catalog;
    let topic = topic.filter(|t| catalog.topic(t).is_some());
    let refs: Vec<&crate::domain::Request> = rs.iter().collect();
    let title = title.unwrap_or_else(|| {
        let name = topic
            .as_deref()
            .and_then(|t| catalog.topic(t))
            .map(|t| t.name.clone());
        plan::default_title(name.as_deref(), plan::place_of(&refs).as_deref())
    });
    let Some((id, batch)) = plan::confirm(&refs, &title, topic.as_deref(), actor, store.now())
    else {
        return Msg::Applied(None, Err("—".into()));
    };
    match store.apply_batch(batch).await {
        Ok(_) => Msg::Applied(
            Some(id),
            store
                .resolve(&id.to_string())
                .await
                .map(|r| r.number.to_string())
                .map_err(refused),
        ),
        Err((_, e)) => Msg::Applied(Some(id), Err(refused(e))),
    }
}

/// A new reply with the undelivered one's text, as `mcu resend` sends it; the request's
/// number when stored.
async fn resend(
    store: &Store,
    target: uuid::Uuid,
    actor: &str,
    message_id: uuid::Uuid,
) -> Result<String, String> {
    use crate::domain::mutation::{Mutation, Op};
    let refused = |e: crate::store::StoreError| {
        crate::present::refusal::store_error_ru(&e).unwrap_or_else(|| e.to_string())
    };
    let d = store.detail(&target.to_string()).await.map_err(refused)?;
    let Some(body) = d.undelivered_reply().map(|m| m.body.clone()) else {
        return Err(crate::present::refusal::rejection_ru(
            &crate::domain::Rejection::NoUndeliveredReply,
        ));
    };
    let m = Mutation::new(target, actor, store.now(), Op::Reply { message_id, body });
    store
        .apply(m)
        .await
        .map(|a| a.request.number.to_string())
        .map_err(refused)
}

/// The list into `mcu-YYYYMMDD-HHMMSS.csv` in `dir` (the console's working directory),
/// written under a temporary name and renamed, so a half-written file never carries the
/// final name.
pub async fn export_csv(
    store: &Store,
    filter: crate::store::Filter,
    sort: crate::store::Sort,
    english: bool,
    dir: &std::path::Path,
) -> Result<(usize, String), String> {
    use crate::report::export::{Lang, list_csv};
    let lang = if english { Lang::En } else { Lang::Ru };
    let now = store.now();
    let tz = store.env().policy.calendar.tz();
    let name = format!("mcu-{}.csv", now.with_timezone(&tz).format("%Y%m%d-%H%M%S"));
    let path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));
    let shown = path.display().to_string();
    let written = match std::fs::File::create(&partial) {
        Ok(f) => list_csv(store, filter, sort, now, lang, std::io::BufWriter::new(f))
            .await
            .map_err(|e| e.to_string())
            .and_then(|n| {
                std::fs::rename(&partial, &path)
                    .map(|()| n)
                    .map_err(|e| e.to_string())
            }),
        Err(e) => Err(e.to_string()),
    };
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
        .map(|n| (n, shown))
        .map_err(|e| format!("{}: {e}", lang.pick("выгрузка не удалась", "export failed")))
}

/// Team mode's `o`: the file fetched from the server when it is not on this machine, then
/// the viewer, on a task of its own (a photo over a slow link takes seconds).
fn open_from_server(
    files: crate::sync::files::FileLink,
    program: Vec<String>,
    file: crate::sync::files::FileRef,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let tx = tx.clone();
    tokio::spawn(async move {
        let opened = match files.local(&file).await {
            Ok(path) => open_externally(&program, &path.to_string_lossy()).await,
            Err(e) => Err(e),
        };
        let _ = tx.send(Msg::Opened(opened));
    });
}

/// Starts the viewer without waiting for it and without letting it write over the screen;
/// only a failure to start (or an opener that fails at once) is reported.
async fn open_externally(program: &[String], path: &str) -> Result<String, String> {
    let default = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let (cmd, args) = match program.split_first() {
        Some((c, a)) => (c.as_str(), a),
        None => (default, &[][..]),
    };
    if !std::path::Path::new(path).exists() {
        return Err(format!("{path}: файла нет / no such file"));
    }
    let mut child = tokio::process::Command::new(cmd)
        .args(args)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{cmd}: {e}"))?;
    // xdg-open hands the file to a viewer and exits; a quick failure means no viewer here
    // (a console over SSH), which the operator should hear about.
    match tokio::time::timeout(std::time::Duration::from_secs(2), child.wait()).await {
        Ok(Ok(status)) if !status.success() => Err(format!("{cmd} {path}: {status}")),
        Ok(Err(e)) => Err(format!("{cmd}: {e}")),
        _ => Ok(std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()),
    }
}

/// OSC 52: the terminal puts the text on the clipboard (works over SSH too).
fn copy_to_clipboard(text: &str) {
    use base64::Engine;
    use std::io::Write;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

fn enter_screen() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::EnableMouseCapture,
        crossterm::event::EnableBracketedPaste
    );
}

fn leave_screen() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::event::DisableBracketedPaste
    );
    ratatui::restore();
}

/// Gives the terminal to `$EDITOR` and takes it back, redrawn from scratch.
async fn suspended(
    terminal: &mut ratatui::DefaultTerminal,
    text: &str,
    lang: strings::Lang,
) -> Result<String, String> {
    leave_screen();
    let argv = editor::command(std::env::var_os("VISUAL"), std::env::var_os("EDITOR"));
    let edited = editor::edit(&argv, text, lang == strings::Lang::Ru).await;
    *terminal = ratatui::init();
    enter_screen();
    let _ = terminal.clear();
    edited
}

pub async fn run(
    store: Store,
    settings: Settings,
    mut gateway: Option<mpsc::UnboundedReceiver<(crate::domain::Channel, GatewayEvent)>>,
    sync: Option<SyncLink>,
) -> anyhow::Result<()> {
    // The CLI refuses to start without a terminal; one that still can't be taken over (its
    // size unreadable, say) is an error to report, not a panic.
    let mut terminal = ratatui::try_init().map_err(|e| {
        ratatui::restore();
        anyhow::Error::from(e).context("cannot take the terminal over")
    })?;
    enter_screen();
    let result = event_loop(&mut terminal, store, settings, &mut gateway, sync).await;
    leave_screen();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    store: Store,
    settings: Settings,
    gateway: &mut Option<mpsc::UnboundedReceiver<(crate::domain::Channel, GatewayEvent)>>,
    sync: Option<SyncLink>,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    // Taken apart so `select!` can wait on both receivers at once.
    let (mut status, mut presence, mut team, marks, link, files) = match sync {
        Some(SyncLink {
            status,
            kick,
            here,
            presence,
            team,
            marks,
            files,
        }) => (
            Some(status),
            Some(presence),
            Some(team),
            Some(marks),
            Some((kick, here)),
            Some(files),
        ),
        None => (None, None, None, None, None, None),
    };
    let mut app = App::new(settings, store.now());
    if team.is_some() {
        app.team = Some(team::Team::default());
    }
    let size = terminal.size()?;
    let mut cmds = update(
        &mut app,
        Msg::Resize {
            height: size.height,
        },
    );
    cmds.extend(update::refresh(&mut app));
    cmds.push(Cmd::LoadAlarms);
    cmds.push(Cmd::LoadIncidents(app.incident_rules.clone()));
    cmds.push(saved::load(&app));
    // Asked before the key reader exists: the terminal's answer arrives on stdin.
    let (photo_tx, mut photo_rx) = mpsc::unbounded_channel();
    let mut photos = app.photos.then(|| {
        photo::Photos::new(
            photo::picker(PICKER_TIMEOUT),
            photo_tx,
            app.lang,
            files.clone(),
        )
    });
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        // A move asks for the newly selected request's card; the store answers in well under a
        // millisecond, so one frame with both beats two frames (the second only adding the card).
        let wants_detail = cmds.iter().any(|c| matches!(c, Cmd::LoadDetail(_)));
        let mut ring = false;
        while !cmds.is_empty() {
            for c in std::mem::take(&mut cmds) {
                if let Cmd::Edit(text) = c {
                    // Dropping the stream stops crossterm's reader before the editor reads keys.
                    drop(events);
                    let edited = suspended(terminal, &text, app.lang).await;
                    events = EventStream::new();
                    cmds.extend(update(&mut app, Msg::Edited(edited)));
                    continue;
                }
                if c == Cmd::Bell {
                    ring = true;
                    continue;
                }
                // Marks and shared views go to the team link (the store has no part in them).
                let ask = match c {
                    Cmd::MarkShift { user, on_shift } => {
                        crate::sync::team::Ask::Mark { user, on_shift }
                    }
                    Cmd::Team(ask) => ask,
                    Cmd::Open { program, file } if let Some(files) = &files => {
                        open_from_server(files.clone(), program, file, &tx);
                        continue;
                    }
                    c => {
                        execute(&store, c, &tx);
                        continue;
                    }
                };
                if let Some(m) = &marks {
                    let _ = m.send(ask);
                }
            }
        }
        if app.quit {
            return Ok(());
        }
        if wants_detail && let Ok(Some(m)) = tokio::time::timeout(DETAIL_GRACE, rx.recv()).await {
            cmds.extend(update(&mut app, m));
            while let Ok(m) = rx.try_recv() {
                cmds.extend(update(&mut app, m));
            }
            for c in std::mem::take(&mut cmds) {
                execute(&store, c, &tx);
            }
        }
        if let Some(p) = photos.as_mut() {
            p.follow(photo::wanted(&app));
        }
        if let Some((_, tx)) = link.as_ref() {
            let here = app.here();
            tx.send_if_modified(|h| {
                let moved = *h != here;
                *h = here;
                moved
            });
        }
        terminal.draw(|f| {
            let slot = view::draw_with_photo_slot(f, &app);
            if let (Some(p), Some(slot)) = (photos.as_mut(), slot) {
                p.draw(f, slot);
            }
        })?;
        // After the frame, never inside one of its escape sequences.
        if ring {
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = out.write_all(b"\x07").and_then(|_| out.flush());
        }
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Some(Ok(Event::Paste(p))) => Msg::Paste(p),
                Some(Ok(Event::Mouse(m))) => match m.kind {
                    MouseEventKind::ScrollDown => Msg::Scroll(1),
                    MouseEventKind::ScrollUp => Msg::Scroll(-1),
                    MouseEventKind::Down(MouseButton::Left) => Msg::Click { row: m.row },
                    _ => continue,
                },
                Some(Ok(Event::Resize(_, h))) => Msg::Resize { height: h },
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(m) = rx.recv() => m,
            Some((c, g)) = async { match gateway.as_mut() { Some(r) => r.recv().await, None => std::future::pending().await } } => Msg::Gateway(c, g),
            Some(s) = async { match status.as_mut() { Some(r) => r.recv().await, None => std::future::pending().await } } => Msg::Sync(s),
            Some(p) = async { match presence.as_mut() { Some(r) => r.recv().await, None => std::future::pending().await } } => Msg::Presence(p),
            Some(n) = async { match team.as_mut() { Some(r) => r.recv().await, None => std::future::pending().await } } => Msg::Team(n),
            _ = tick.tick() => Msg::Tick(store.now()),
            Some(p) = photo_rx.recv() => {
                if let Some(photos) = photos.as_mut() {
                    photos.on_msg(p);
                }
                continue;
            }
        };
        let mut applied = matches!(msg, Msg::Applied(_, Ok(_)));
        cmds.extend(update(&mut app, msg));
        // Drain what else has arrived before drawing again.
        while let Ok(m) = rx.try_recv() {
            applied |= matches!(m, Msg::Applied(_, Ok(_)));
            cmds.extend(update(&mut app, m));
        }
        // An action stored here goes to the server now, not at the next round.
        if applied && let Some((kick, _)) = link.as_ref() {
            kick.notify_one();
        }
    }
}

#[cfg(test)]
mod tests;
