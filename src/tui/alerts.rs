//! Alerts: a request's clock turned at risk, came within the last warning, or ran out. Each
//! second the console asks the store for the crossings since its last look
//! (`Cmd::LookAlerts` → `Msg::Alerts`), flashes the newest in the status bar, rings the bell
//! if asked to, and keeps them in a list (`w`) until the operator has seen them.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Mode, View};
use super::update::{self, Cmd};
use crate::store::alerts::{AlertKind, AlertRules, Crossing};

/// The list keeps this many; older ones go.
const KEEP: usize = 200;

#[derive(Debug, Default)]
pub struct Alerts {
    /// None: every kind is off in `[alerts]`.
    pub rules: Option<AlertRules>,
    pub bell: bool,
    /// Newest first.
    pub list: Vec<Alert>,
    /// Refused replies' texts by request, until the operator opens the composer on it again.
    pub drafts: std::collections::HashMap<uuid::Uuid, String>,
    /// The end of the last look; None until the first tick (the console starts from now:
    /// what crossed before it was opened is in the At-risk view, not news).
    pub checked: Option<DateTime<Utc>>,
    pub looking: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub crossing: Crossing,
    pub seen: bool,
}

impl Alerts {
    pub fn unseen(&self) -> usize {
        self.list.iter().filter(|a| !a.seen).count()
    }
}

/// The 1 Hz tick: one look at a time, over the span since the last.
pub fn on_tick(app: &mut App) -> Vec<Cmd> {
    let Some(rules) = app.alerts.rules.clone() else {
        return vec![];
    };
    let Some(from) = app.alerts.checked else {
        app.alerts.checked = Some(app.now);
        return vec![];
    };
    if app.alerts.looking || app.now <= from {
        return vec![];
    }
    app.alerts.looking = true;
    vec![Cmd::LookAlerts {
        from,
        to: app.now,
        rules,
    }]
}

/// The store's answer for the span ending at `to`. A failed look is tried again over the
/// same span at the next tick, so nothing is skipped.
pub fn on_found(
    app: &mut App,
    to: DateTime<Utc>,
    found: Result<Vec<Crossing>, String>,
) -> Vec<Cmd> {
    app.alerts.looking = false;
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            update::flash(app, e, true);
            return vec![];
        }
    };
    app.alerts.checked = Some(to);
    let fresh: Vec<Crossing> = found
        .into_iter()
        .filter(|c| {
            !app.alerts.list.iter().any(|a| {
                a.crossing.id == c.id && a.crossing.kind == c.kind && a.crossing.at == c.at
            })
        })
        .collect();
    let Some(newest) = fresh.last().cloned() else {
        return vec![];
    };
    let n = fresh.len();
    for c in fresh {
        app.alerts.list.insert(
            0,
            Alert {
                crossing: c,
                seen: false,
            },
        );
    }
    app.alerts.list.truncate(KEEP);
    let text = if n == 1 {
        let soon = app
            .alerts
            .rules
            .as_ref()
            .and_then(|r| r.due_within)
            .map_or(0, |d| d.num_minutes());
        app.lang.alert_line(&newest, soon)
    } else {
        let key = app
            .keymap
            .keys_of(super::keymap::Action::Alerts)
            .first()
            .cloned()
            .unwrap_or_default();
        app.lang.alerts_new(n, &key)
    };
    update::flash(app, text, true);
    if app.alerts.bell {
        vec![Cmd::Bell]
    } else {
        vec![]
    }
}

/// `w`: the list, every alert in it now seen.
pub fn show(app: &mut App) -> Vec<Cmd> {
    for a in &mut app.alerts.list {
        a.seen = true;
    }
    app.mode = Mode::Alerts { selected: 0 };
    vec![]
}

/// Keys over the list: move, Enter opens the request in the inbox, Delete empties the list,
/// anything else closes it.
pub fn key(app: &mut App, k: KeyEvent, selected: usize) -> Vec<Cmd> {
    let last = app.alerts.list.len().saturating_sub(1);
    let stay = |app: &mut App, selected: usize| {
        app.mode = Mode::Alerts { selected };
        vec![]
    };
    match k.code {
        KeyCode::Down | KeyCode::Char('j' | 'о') => stay(app, (selected + 1).min(last)),
        KeyCode::Up | KeyCode::Char('k' | 'л') => stay(app, selected.saturating_sub(1)),
        KeyCode::PageDown => stay(app, (selected + 10).min(last)),
        KeyCode::PageUp => stay(app, selected.saturating_sub(10)),
        KeyCode::Home => stay(app, 0),
        KeyCode::End => stay(app, last),
        KeyCode::Delete | KeyCode::Char('x' | 'ч') => {
            app.alerts.list.clear();
            vec![]
        }
        KeyCode::Enter => match app.alerts.list.get(selected) {
            Some(a) => {
                let (id, number) = (a.crossing.id, a.crossing.number.clone());
                open(app, id, &number)
            }
            None => vec![],
        },
        _ => vec![],
    }
}

/// The request alone in the inbox, whatever view it would be in now, with its card; the
/// filter line says so and the view keys bring the queue back.
pub fn open(app: &mut App, id: uuid::Uuid, number: &str) -> Vec<Cmd> {
    app.dash.shown = false;
    app.show_detail = true;
    let cmds = update::set_view(app, View::All);
    app.filter.number = Some(number.to_string());
    app.filter_line = format!("№{number}");
    // set_view asked for the page with the view's filter: ask again with the number, and
    // keep the request selected when it arrives.
    let mut cmds: Vec<Cmd> = cmds
        .into_iter()
        .filter(|c| !matches!(c, Cmd::LoadPage { .. }))
        .collect();
    cmds.extend(update::refresh(app));
    app.keep = Some(id);
    cmds
}

pub fn kind_short(kind: AlertKind, en: bool) -> &'static str {
    match (kind, en) {
        (AlertKind::AtRisk, false) => "под угрозой",
        (AlertKind::DueSoon, false) => "срок близко",
        (AlertKind::Breached, false) => "просрочено",
        (AlertKind::Undelivered, false) => "не доставлено",
        (AlertKind::Refused, false) => "отказ сервера",
        (AlertKind::AtRisk, true) => "at risk",
        (AlertKind::DueSoon, true) => "due soon",
        (AlertKind::Breached, true) => "breached",
        (AlertKind::Undelivered, true) => "undelivered",
        (AlertKind::Refused, true) => "refused",
    }
}

/// The server refused actions taken here: each stays in the list (`w`) in the operator's words
/// with what stands now, `Enter` opens the request, and a refused reply's text waits as a draft
/// for the next `r` on it.
pub fn refused(app: &mut App, rejected: &[crate::store::mirror::Rejected]) {
    for r in rejected {
        let mut text =
            crate::present::refusal::sync_refusal(r, &app.catalog, app.lang, app.tz, app.now);
        if let Some(d) = &r.draft {
            app.alerts.drafts.insert(r.request_id, d.clone());
            text.push_str(app.lang.pick(
                " · текст ответа сохранён: r",
                " · the reply's text is kept: r",
            ));
        }
        app.alerts.list.insert(
            0,
            Alert {
                crossing: Crossing {
                    id: r.request_id,
                    number: r.number.clone().unwrap_or_else(|| "?".into()),
                    kind: AlertKind::Refused,
                    at: app.now,
                    assignee: None,
                    topic: None,
                    text,
                },
                seen: false,
            },
        );
    }
    app.alerts.list.truncate(KEEP);
}
