//! The shift lead's dashboard screen: its state, keys and refresh. The numbers come from the
//! store's thread (`Cmd::LoadDashboard` → `Msg::Dashboard`); drawing is dashboard_view.rs.

use chrono::{DateTime, Duration, Utc};

use super::app::{App, View};
use super::keymap::Action;
use super::update::{self, Cmd};
use crate::domain::dashboard::Item;
use crate::store::dashboard::Board;

/// While the dashboard is on screen it is recomputed this often anyway: clocks move on their
/// own, and other consoles' work arrives without a word to this one.
const REFRESH_EVERY: i64 = 5;
/// After a change here (an action, a new request), at most this soon.
const AFTER_CHANGE: i64 = 1;

#[derive(Debug, Default)]
pub struct Dash {
    pub shown: bool,
    pub board: Option<Box<Board>>,
    /// On the breached list followed by the at-risk list.
    pub selected: usize,
    pub loading: bool,
    /// When the last load was asked for.
    pub asked: Option<DateTime<Utc>>,
    /// Something changed since then.
    pub stale: bool,
}

impl Dash {
    /// The listed requests in screen order: breached, then at risk.
    pub fn items(&self) -> Vec<&Item> {
        match &self.board {
            Some(b) => b
                .dashboard
                .breached_list
                .iter()
                .chain(&b.dashboard.at_risk_list)
                .collect(),
            None => vec![],
        }
    }
}

fn load(app: &mut App) -> Vec<Cmd> {
    if app.dash.loading {
        return vec![];
    }
    app.dash.loading = true;
    app.dash.stale = false;
    app.dash.asked = Some(app.now);
    vec![Cmd::LoadDashboard]
}

pub fn show(app: &mut App) -> Vec<Cmd> {
    app.dash.shown = true;
    load(app)
}

/// The 1 Hz tick: a load when one is due, never more than one at a time.
pub fn on_tick(app: &mut App) -> Vec<Cmd> {
    if !app.dash.shown {
        return vec![];
    }
    let since = app.dash.asked.map(|t| app.now - t);
    let due = since.is_none_or(|s| {
        s >= Duration::seconds(REFRESH_EVERY)
            || (app.dash.stale && s >= Duration::seconds(AFTER_CHANGE))
    });
    if due { load(app) } else { vec![] }
}

/// Something this console saw changed the queue.
pub fn changed(app: &mut App) {
    app.dash.stale = true;
}

/// The store's answer; an error is the caller's to show.
pub fn on_board(app: &mut App, board: Result<Box<Board>, String>) -> Result<(), String> {
    app.dash.loading = false;
    let board = board?;
    // The selection stays on the same request when the lists move under it.
    let before = app.dash.items().get(app.dash.selected).map(|i| i.key);
    app.dash.board = Some(board);
    let items = app.dash.items();
    app.dash.selected = before
        .and_then(|k| items.iter().position(|i| i.key == k))
        .unwrap_or(app.dash.selected)
        .min(items.len().saturating_sub(1));
    Ok(())
}

fn step(app: &mut App, by: isize) {
    let n = app.dash.items().len();
    let last = n.saturating_sub(1) as isize;
    app.dash.selected = (app.dash.selected as isize + by).clamp(0, last.max(0)) as usize;
}

/// The mouse wheel moves along the lists.
pub fn scroll(app: &mut App, by: i32) -> Vec<Cmd> {
    step(app, by as isize);
    vec![]
}

/// Keys while the dashboard is on screen. It shows no inbox row, so an action on a request
/// would act on one the lead cannot see: those are refused.
pub fn key(app: &mut App, action: Action) -> Vec<Cmd> {
    match action {
        Action::Dashboard | Action::Back => {
            app.dash.shown = false;
            app.flash = None;
            vec![]
        }
        Action::Down => {
            step(app, 1);
            vec![]
        }
        Action::Up => {
            step(app, -1);
            vec![]
        }
        Action::PageDown => {
            step(app, 10);
            vec![]
        }
        Action::PageUp => {
            step(app, -10);
            vec![]
        }
        Action::Top => {
            app.dash.selected = 0;
            vec![]
        }
        Action::Bottom => {
            step(app, isize::MAX / 2);
            vec![]
        }
        Action::Open => open(app),
        Action::Refresh => {
            let mut cmds = load(app);
            cmds.push(Cmd::LoadAlarms);
            cmds
        }
        Action::Quit
        | Action::Help
        | Action::Alarms
        | Action::Alerts
        | Action::Handover
        | Action::Shift => update::perform(app, action),
        Action::ViewMine
        | Action::ViewNew
        | Action::ViewAtRisk
        | Action::ViewWaiting
        | Action::ViewClosedToday
        | Action::ViewAll
        | Action::View8
        | Action::View9
        | Action::Views => {
            app.dash.shown = false;
            update::perform(app, action)
        }
        _ => {
            let text = if app.readonly && update::is_mutation(action) {
                app.lang.readonly()
            } else {
                app.lang.dashboard_keys()
            };
            update::flash(app, text.into(), true);
            vec![]
        }
    }
}

/// The selected request in the inbox's At-risk view (the same requests, in the same order),
/// with its card.
fn open(app: &mut App) -> Vec<Cmd> {
    let Some(item) = app
        .dash
        .items()
        .get(app.dash.selected)
        .map(|i| (*i).clone())
    else {
        return vec![];
    };
    let Some(id) = app
        .dash
        .board
        .as_ref()
        .and_then(|b| b.ids.get(&item.key).copied())
    else {
        return vec![];
    };
    app.dash.shown = false;
    app.show_detail = true;
    let cmds = update::set_view(app, View::AtRisk);
    // After the reload is asked: it would keep the (now empty) selection instead.
    app.keep = Some(id);
    cmds
}
