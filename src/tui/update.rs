//! `update`: a message in, the state changed, commands out. Pure: no disk, no network, no
//! clock (time arrives as `Msg::Tick`), so every behaviour is tested as a plain function.

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use uuid::Uuid;

use super::app::{App, Flash, Mode};
pub(super) use super::perform::{is_mutation, perform, set_view};
use super::perform::{normal, palette_key};
use super::request_keys::{compose_key, filter_key, link_key, picker_key};
use crate::channels::gateway::GatewayEvent;
use crate::domain::mutation::Mutation;
use crate::store::{Cursor, Detail, Filter, Page, Sort};

pub enum Msg {
    Key(KeyEvent),
    /// Wheel: +1 down, -1 up.
    Scroll(i32),
    /// A click on a screen row (0 = top line of the terminal).
    Click {
        row: u16,
    },
    Paste(String),
    Resize {
        height: u16,
    },
    Tick(DateTime<Utc>),
    Page {
        generation: u64,
        append: bool,
        page: Page,
    },
    Detail(Box<Detail>),
    /// A change written (the request's number) or refused (why), for the request it was on.
    Applied(Option<Uuid>, Result<String, String>),
    Alarms(Vec<crate::store::alarms::Alarm>),
    /// A gateway's event, with its channel.
    Gateway(crate::domain::Channel, GatewayEvent),
    Failed(String),
    /// The composer's text back from `$EDITOR`, or why the editor did not run.
    Edited(Result<String, String>),
    /// A sync round ended (team mode).
    Sync(crate::sync::runner::SyncStatus),
    /// Who else is on which request now (team mode); empty when the server can't say.
    Presence(Vec<crate::wire::presence::Presence>),
    /// The viewer started (the file's name) or why it did not.
    Opened(Result<String, String>),
    /// The dashboard's numbers, or why they could not be read.
    Dashboard(Result<Box<crate::store::dashboard::Board>, String>),
    /// The list exported: how many requests, and the file; or why not.
    Exported(Result<(usize, String), String>),
    /// Clock crossings found in the span that ends at `to` (tui/alerts.rs).
    Alerts {
        to: DateTime<Utc>,
        found: Result<Vec<crate::store::alerts::Crossing>, String>,
    },
    Handover(Result<Box<crate::present::handover::Handover>, String>),
    /// The server on the team: its channels, who is on shift, a mark's answer (team mode).
    Team(crate::sync::team::News),
    /// The open incidents and candidate groups, or why they could not be read.
    Incidents(Result<Vec<crate::store::incidents::Group>, String>),
    /// The saved views after the store did what it was asked (tui/saved.rs), or why not.
    Views(Result<(crate::store::views::Views, super::saved::Done), String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Team mode: asks the server to mark `user` on or off shift (tui/team.rs).
    MarkShift {
        user: String,
        on_shift: bool,
    },
    /// Team mode: asks the server to share a view or take one back (tui/saved_keys.rs).
    Team(crate::sync::team::Ask),
    /// Saved views read or written in the store (tui/saved.rs).
    Views(super::saved::Work),
    LoadPage {
        generation: u64,
        filter: Box<Filter>,
        sort: Sort,
        after: Option<Cursor>,
        limit: usize,
        append: bool,
    },
    LoadDetail(Uuid),
    /// A department account's console: its file follows the department's clock from now
    /// on (`store::department_view`), then this load runs.
    MarkDepartment(Box<Cmd>),
    /// The open incidents and candidate groups (`m`, the rows' marks).
    LoadIncidents(crate::incidents::Rules),
    /// A candidate group made one incident: its members read, then `incidents::plan::confirm`.
    ConfirmIncident {
        members: Vec<Uuid>,
        /// None: the topic's name and the first address.
        title: Option<String>,
        topic: Option<String>,
        actor: String,
    },
    Apply(Vec<Mutation>),
    LoadAlarms,
    /// Marks every open alarm as seen and dealt with.
    ClearAlarms,
    /// A stored attachment in the system's viewer: the program (with its arguments) and the
    /// file (in team mode fetched from the server first, when it is not on this machine).
    Open {
        program: Vec<String>,
        file: crate::sync::files::FileRef,
    },
    Copy(String),
    /// Hands the composer's text to `$VISUAL`/`$EDITOR`; the terminal is theirs until it exits.
    Edit(String),
    /// Finds the request by its number, then links `target` to it as a duplicate (the same
    /// citizen's repeat is told, in `lang`, which request handles it) or, with `merge`, merges
    /// `target`'s thread into it.
    LinkDuplicate {
        target: Uuid,
        actor: String,
        number: String,
        lang: super::strings::Lang,
        merge: bool,
    },
    /// The request's undelivered reply sent again as a new reply (`message_id`) with the same
    /// text, read from its thread where the command runs.
    Resend {
        target: Uuid,
        actor: String,
        message_id: Uuid,
    },
    /// The dashboard's facts read and its numbers computed, on the store's thread.
    LoadDashboard,
    /// Every request of the current list, one CSV row each, into a new file in the working
    /// directory (on the store's thread).
    ExportCsv {
        filter: Box<Filter>,
        sort: Sort,
        english: bool,
    },
    /// Clock crossings in `(from, to]`, on the store's thread.
    LookAlerts {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        rules: crate::store::alerts::AlertRules,
    },
    /// The terminal's bell, rung by the event loop between frames.
    Bell,
    /// The handover for a shift of this many hours.
    LoadHandover {
        hours: f64,
    },
}

/// How often the inbox re-reads the store on its own (other consoles, `mcu reply`).
const REFRESH_EVERY: i64 = 3;

/// Seconds between reads of the incidents and candidate groups while the console idles.
const INCIDENTS_EVERY: i64 = 30;

pub fn update(app: &mut App, msg: Msg) -> Vec<Cmd> {
    if matches!(
        msg,
        Msg::Applied(_, Ok(_)) | Msg::Gateway(_, GatewayEvent::Ingested(_))
    ) {
        super::dashboard::changed(app);
    }
    match msg {
        Msg::Scroll(d) if app.dash.shown && matches!(app.mode, Mode::Normal) => {
            super::dashboard::scroll(app, d)
        }
        Msg::Click { .. } if app.dash.shown => vec![],
        Msg::Key(k) => key(app, k),
        Msg::Scroll(d) if matches!(app.mode, Mode::Normal) => {
            move_to(app, app.selected as isize + d as isize)
        }
        Msg::Click { row } if matches!(app.mode, Mode::Normal) => {
            // Rows start under the view tabs, the rule and the table header.
            match (row as usize).checked_sub(3) {
                Some(i) if app.scroll + i < app.rows.len() && i < app.height => {
                    move_to(app, (app.scroll + i) as isize)
                }
                _ => vec![],
            }
        }
        Msg::Scroll(_) | Msg::Click { .. } => vec![],
        Msg::Paste(text) => {
            if let Mode::Compose(c) = &mut app.mode {
                c.editor.insert_str(text);
            } else if let Mode::Filter { input } = &mut app.mode {
                input.push_str(&crate::sanitize::line(&text));
            }
            vec![]
        }
        Msg::Resize { height } => {
            app.height = (height as usize).saturating_sub(4).max(3);
            vec![]
        }
        Msg::Tick(now) => {
            app.now = now;
            let mut cmds = super::dashboard::on_tick(app);
            cmds.extend(super::alerts::on_tick(app));
            if app
                .flash
                .as_ref()
                .is_some_and(|f| now - f.at > Duration::seconds(6))
            {
                app.flash = None;
            }
            if now - app.last_refresh >= Duration::seconds(REFRESH_EVERY)
                && matches!(app.mode, Mode::Normal)
            {
                cmds.extend(refresh(app));
                cmds.push(Cmd::LoadAlarms);
                // Grouping reads the window's open requests: not with every list refresh.
                if now - app.incidents_at >= Duration::seconds(INCIDENTS_EVERY) {
                    app.incidents_at = now;
                    cmds.push(Cmd::LoadIncidents(app.incident_rules.clone()));
                }
            }
            cmds
        }
        Msg::Page {
            generation,
            append,
            page,
        } => {
            if generation != app.generation {
                return vec![];
            }
            app.loading = false;
            let before = app.current().map(|r| r.id);
            if append {
                app.rows.extend(page.rows);
                app.suggested.extend(page.suggested);
                app.members.extend(page.members);
            } else {
                app.rows = page.rows;
                app.suggested = page.suggested;
                app.members = page.members;
                let keep = app.keep.take().or(before);
                app.selected = keep
                    .and_then(|id| app.rows.iter().position(|r| r.id == id))
                    .unwrap_or(app.selected);
            }
            // Topics are the operators' to set: a department's console shows no suggestions.
            if app.department.is_some() {
                app.suggested.clear();
            }
            app.next = page.next;
            clamp(app);
            detail_if_changed(app, before)
        }
        Msg::Detail(d) => {
            if app.current().is_some_and(|r| r.id == d.request.id) {
                app.detail = Some(*d);
            }
            vec![]
        }
        Msg::Applied(id, result) => {
            if !super::bulk::on_applied(app, id, &result)
                && !super::macros::on_applied(app, id, &result)
            {
                match &result {
                    Ok(number) => flash(app, format!("{}: {number}", app.lang.done()), false),
                    Err(e) => flash(app, e.clone(), true),
                }
            }
            if result.is_err() {
                return vec![];
            }
            let mut cmds = refresh(app);
            // Groups change with any change of a request (a topic set, a member added).
            cmds.push(Cmd::LoadIncidents(app.incident_rules.clone()));
            if let Some(r) = app.current() {
                cmds.push(Cmd::LoadDetail(r.id));
            }
            cmds
        }
        Msg::Failed(e) => {
            flash(app, e, true);
            vec![]
        }
        Msg::Alarms(a) => {
            app.alarms = a;
            vec![]
        }
        Msg::Gateway(channel, e) => gateway(app, channel, e),
        Msg::Edited(Ok(text)) => {
            if let Mode::Compose(c) = &mut app.mode {
                // Editors end files with a newline the citizen should not get.
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let text = text.strip_suffix('\r').unwrap_or(text);
                c.editor = super::app::editor(text.split('\n').map(str::to_string).collect());
                c.editor.move_cursor(ratatui_textarea::CursorMove::Bottom);
                c.editor.move_cursor(ratatui_textarea::CursorMove::End);
            }
            vec![]
        }
        Msg::Sync(s) => {
            // Locked out: said once, in words, not left to a badge that reads like a network
            // failure.
            let locked = match s.version {
                Some((console, server)) => {
                    Some(crate::present::skew::text(console, server, app.lang))
                }
                None => s
                    .error
                    .as_deref()
                    .and_then(|e| locked_out(e, app.lang))
                    .map(str::to_string),
            };
            let was = app.sync.as_ref().and_then(|o| o.error.clone());
            if let Some(text) = locked
                && was != s.error
            {
                flash(app, text, true);
            }
            let changed = s.online && app.sync.as_ref().is_none_or(|old| !old.online);
            if !s.rejected.is_empty() {
                let text = s
                    .rejected
                    .iter()
                    .map(|r| {
                        format!(
                            "{}: {} — {}",
                            r.number.as_deref().unwrap_or("?"),
                            app.lang.refused_by_server(),
                            crate::present::refusal::sync_refusal(
                                r,
                                &app.catalog,
                                app.lang,
                                app.tz,
                                app.now,
                            )
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                flash(app, text, true);
                super::alerts::refused(app, &s.rejected);
            }
            let reload = !s.rejected.is_empty() || changed;
            app.sync = Some(s);
            if reload { refresh(app) } else { vec![] }
        }
        Msg::Presence(p) => {
            app.presence = p;
            vec![]
        }
        Msg::Opened(Ok(name)) => {
            flash(app, format!("{}: {name}", app.lang.opened()), false);
            vec![]
        }
        Msg::Opened(Err(e)) | Msg::Edited(Err(e)) => {
            flash(app, e, true);
            vec![]
        }
        Msg::Dashboard(board) => {
            if let Err(e) = super::dashboard::on_board(app, board) {
                flash(app, e, true);
            }
            vec![]
        }
        Msg::Alerts { to, found } => super::alerts::on_found(app, to, found),
        Msg::Team(news) => super::team::on_news(app, news),
        Msg::Incidents(found) => super::incidents::on_loaded(app, found),
        Msg::Views(done) => super::saved::on_done(app, done),
        Msg::Handover(h) => {
            super::handover::on_loaded(app, h);
            vec![]
        }
        Msg::Exported(done) => {
            match done {
                Ok((n, path)) => {
                    let text = app.lang.exported(n, &path);
                    flash(app, text, false)
                }
                Err(e) => flash(app, e, true),
            }
            vec![]
        }
    }
}

fn gateway(app: &mut App, channel: crate::domain::Channel, e: GatewayEvent) -> Vec<Cmd> {
    use crate::channels::health::observe;
    match app.health.iter_mut().find(|h| h.channel == channel) {
        Some(h) => observe(h, &e, app.now),
        None => {
            let mut h = crate::wire::team::ChannelHealth::new(channel);
            observe(&mut h, &e, app.now);
            app.health.push(h);
        }
    }
    match e {
        GatewayEvent::Ingested(r) if !r.created.is_empty() || r.appended > 0 => refresh(app),
        GatewayEvent::Sent { .. } | GatewayEvent::Unknown { .. } | GatewayEvent::Failed { .. } => {
            let mut cmds = vec![];
            if let Some(r) = app.current() {
                cmds.push(Cmd::LoadDetail(r.id));
            }
            cmds
        }
        GatewayEvent::Alarm(a) => {
            flash(app, a, true);
            vec![Cmd::LoadAlarms]
        }
        _ => vec![],
    }
}

pub(super) fn flash(app: &mut App, text: String, error: bool) {
    app.flash = Some(Flash {
        text,
        error,
        at: app.now,
    });
}

fn clamp(app: &mut App) {
    if app.rows.is_empty() {
        app.selected = 0;
        app.scroll = 0;
        return;
    }
    app.selected = app.selected.min(app.rows.len() - 1);
    if app.selected < app.scroll {
        app.scroll = app.selected;
    }
    if app.selected >= app.scroll + app.height {
        app.scroll = app.selected + 1 - app.height;
    }
}

fn detail_if_changed(app: &mut App, before: Option<Uuid>) -> Vec<Cmd> {
    let now = app.current().map(|r| r.id);
    if now != before {
        app.detail_scroll = 0;
    }
    if now != before || app.detail.as_ref().map(|d| d.request.id) != now {
        if now.is_none() {
            app.detail = None;
        }
        return now.map(Cmd::LoadDetail).into_iter().collect();
    }
    vec![]
}

/// Loads the inbox again from the top, as many rows as are loaded now, keeping the selection.
pub fn refresh(app: &mut App) -> Vec<Cmd> {
    app.generation += 1;
    app.loading = true;
    app.last_refresh = app.now;
    app.keep = app.current().map(|r| r.id);
    // What is on screen and a screen beyond: rows further down are fetched again as the
    // operator scrolls, instead of every loaded row being re-read every few seconds.
    let limit = (app.scroll + app.height * 2).max(50);
    vec![Cmd::LoadPage {
        generation: app.generation,
        filter: Box::new(app.filter.clone()),
        sort: app.sort,
        after: None,
        limit,
        append: false,
    }]
}

pub(super) fn reload_from_top(app: &mut App) -> Vec<Cmd> {
    app.rows.clear();
    app.selected = 0;
    app.scroll = 0;
    app.detail = None;
    app.keep = None;
    refresh(app)
}

pub(super) fn move_to(app: &mut App, index: isize) -> Vec<Cmd> {
    let before = app.current().map(|r| r.id);
    let last = app.rows.len().saturating_sub(1) as isize;
    app.selected = index.clamp(0, last.max(0)) as usize;
    clamp(app);
    let mut cmds = detail_if_changed(app, before);
    // Near the end of what is loaded: fetch the next page before the operator gets there.
    if app.selected + app.height >= app.rows.len()
        && let Some(after) = app.next
        && !app.loading
    {
        app.loading = true;
        cmds.push(Cmd::LoadPage {
            generation: app.generation,
            filter: Box::new(app.filter.clone()),
            sort: app.sort,
            after: Some(after),
            limit: app.height.max(50),
            append: true,
        });
    }
    cmds
}

fn key(app: &mut App, k: KeyEvent) -> Vec<Cmd> {
    match std::mem::replace(&mut app.mode, Mode::Normal) {
        Mode::Normal => normal(app, k),
        Mode::Help => vec![],
        Mode::Alerts { selected } => super::alerts::key(app, k, selected),
        Mode::Shift { selected } => super::team::key(app, k, selected),
        Mode::Incidents { selected } => super::incidents::key(app, k, selected),
        Mode::Handover(pane) => super::handover::key(app, k, pane),
        Mode::Alarms => match k.code {
            KeyCode::Char('x' | 'ч') | KeyCode::Delete if !app.alarms.is_empty() => {
                if app.readonly {
                    flash(app, app.lang.readonly().into(), true);
                    app.mode = Mode::Alarms;
                    return vec![];
                }
                vec![Cmd::ClearAlarms]
            }
            _ => vec![],
        },
        Mode::Filter { input } => filter_key(app, k, input),
        Mode::LinkInput {
            target,
            input,
            merge,
        } => link_key(app, k, target, input, merge),
        Mode::IncidentTitle {
            id,
            selected,
            input,
        } => super::incidents::title_key(app, k, id, selected, input),
        Mode::Picker(p) => picker_key(app, k, p),
        Mode::Tags(p) => super::tags::key(app, k, p),
        Mode::Compose(c) => compose_key(app, k, c),
        Mode::Palette { query, selected } => palette_key(app, k, query, selected),
        Mode::Unreachable { targets } => super::undelivered::confirm_key(app, k, targets),
        Mode::Views(pane) => super::saved_keys::key(app, k, pane),
        Mode::SaveView { input } => super::saved::save_key(app, k, input),
    }
}

/// The server's word that this account may not sync at all, in the operator's language.
fn locked_out(error: &str, lang: super::strings::Lang) -> Option<&'static str> {
    use crate::sync::client::SyncError;
    if error == SyncError::Disabled.to_string() {
        Some(lang.pick(
            "учётная запись отключена на сервере: обратитесь к администратору; действия ждут в этой консоли",
            "this account is disabled on the server: ask the administrator; actions wait in this console",
        ))
    } else if error == SyncError::OutOfScope.to_string() {
        Some(lang.pick(
            "учётной записи не открыт этот город на сервере: обратитесь к администратору",
            "this account does not reach this city on the server: ask the administrator",
        ))
    } else {
        None
    }
}
