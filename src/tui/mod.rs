//! The operator console. One task owns the `App`; keys, store answers, gateway events and a
//! 1 Hz tick arrive as messages; `update` is pure and returns commands, which run on other
//! tasks against the store (its own thread) and answer with messages. The screen is drawn
//! after the queue is drained, so it never waits on disk or network.

pub mod app;
pub mod filter;
pub mod keymap;
pub mod strings;
pub mod update;
pub mod view;

use crossterm::event::{Event, EventStream, KeyEventKind, MouseButton, MouseEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::channels::gateway::GatewayEvent;
use crate::store::Store;
use app::{App, Settings};
use update::{Cmd, Msg, update};

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
                    Msg::Applied(Ok(number))
                }
                Err((_, e)) => Msg::Applied(Err(match crate::cli::i18n::store_error_ru(&e) {
                    Some(ru) => ru,
                    None => e.to_string(),
                })),
            }
        }
        Cmd::LoadAlarms => match store
            .call(|c, _| crate::store::outbox::open_alarms(c))
            .await
        {
            Ok(a) => Msg::Alarms(a.into_iter().map(|a| a.text).collect()),
            Err(e) => Msg::Failed(e.to_string()),
        },
        Cmd::LinkDuplicate {
            target,
            actor,
            number,
        } => match store.resolve(&number).await {
            Ok(parent) => {
                let m = crate::domain::mutation::Mutation::new(
                    target,
                    &actor,
                    store.now(),
                    crate::domain::mutation::Op::LinkDuplicate {
                        parent_id: parent.id,
                    },
                );
                match store.apply(m).await {
                    Ok(a) => Msg::Applied(Ok(a.request.number.to_string())),
                    Err(e) => Msg::Applied(Err(
                        crate::cli::i18n::store_error_ru(&e).unwrap_or_else(|| e.to_string())
                    )),
                }
            }
            Err(e) => Msg::Applied(Err(
                crate::cli::i18n::store_error_ru(&e).unwrap_or_else(|| e.to_string())
            )),
        },
        Cmd::Copy(text) => {
            copy_to_clipboard(&text);
            return None;
        }
    })
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

pub async fn run(
    store: Store,
    settings: Settings,
    mut gateway: Option<mpsc::UnboundedReceiver<GatewayEvent>>,
) -> anyhow::Result<()> {
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::EnableMouseCapture,
        crossterm::event::EnableBracketedPaste
    );
    let result = event_loop(&mut terminal, store, settings, &mut gateway).await;
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::event::DisableBracketedPaste
    );
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    store: Store,
    settings: Settings,
    gateway: &mut Option<mpsc::UnboundedReceiver<GatewayEvent>>,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut app = App::new(settings, store.now());
    let size = terminal.size()?;
    let mut cmds = update(
        &mut app,
        Msg::Resize {
            height: size.height,
        },
    );
    cmds.extend(update::refresh(&mut app));
    cmds.push(Cmd::LoadAlarms);
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        for c in cmds.drain(..) {
            execute(&store, c, &tx);
        }
        if app.quit {
            return Ok(());
        }
        terminal.draw(|f| view::draw(f, &app))?;
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
            Some(g) = async { match gateway.as_mut() { Some(r) => r.recv().await, None => std::future::pending().await } } => Msg::Gateway(g),
            _ = tick.tick() => Msg::Tick(store.now()),
        };
        cmds.extend(update(&mut app, msg));
        // Drain what else has arrived before drawing again.
        while let Ok(m) = rx.try_recv() {
            cmds.extend(update(&mut app, m));
        }
    }
}

#[cfg(test)]
mod tests;
