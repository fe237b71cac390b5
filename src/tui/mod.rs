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
mod commands;
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
mod outside;
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
use commands::execute;
pub use commands::{export_csv, run_command};
use outside::open_from_server;
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
                        open_from_server(files.clone(), program, file, app.lang, &tx);
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
