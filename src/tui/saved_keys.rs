//! The views window (`v`): every view by number, built-in and saved, and its keys — Enter (or
//! a typed number and Enter) switches, `x` twice deletes one's own view or takes a shared one
//! back (a lead), `s` shares one's own with the team (a lead, team mode). Apart from
//! `saved.rs`, which keeps the views and saves them.

use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Mode, View};
use super::saved::{Pane, Work, switch};
use super::update::{Cmd, flash, set_view};
use crate::domain::views::{Origin, SavedView};
use crate::sync::team::Ask;

/// One row of the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub number: usize,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq)]
pub enum What {
    BuiltIn(View),
    Saved {
        origin: Origin,
        view: SavedView,
        /// Why its filter no longer reads with today's catalog.
        problem: Option<String>,
    },
}

/// The rows: `1`…`7` built in, then the saved views in their numbers.
pub fn entries(app: &App) -> Vec<Entry> {
    let mut out: Vec<Entry> = View::ALL
        .into_iter()
        .map(|v| Entry {
            number: v.number(),
            what: What::BuiltIn(v),
        })
        .collect();
    for n in app.saved.numbered() {
        let base = n.view.base.filter(&app.me, app.now, app.tz);
        let problem = super::filter::parse(&n.view.filter, base, &app.catalog, &app.me).err();
        out.push(Entry {
            number: n.number,
            what: What::Saved {
                origin: n.origin,
                view: n.view.clone(),
                problem,
            },
        });
    }
    out
}

/// `v`: the window, its cursor on the view on screen.
pub(super) fn show(app: &mut App) -> Vec<Cmd> {
    let on = match super::saved::active(app) {
        Some((n, _)) => n.number,
        None => app.view.number(),
    };
    let selected = entries(app)
        .iter()
        .position(|e| e.number == on)
        .unwrap_or(0);
    app.mode = Mode::Views(Pane {
        selected,
        ..Default::default()
    });
    vec![]
}

/// Whether this console's user is known to be a plain operator (the server decides for names
/// it has not told yet).
fn plain_operator(app: &App) -> bool {
    app.team
        .as_ref()
        .is_some_and(|t| t.staff.iter().any(|s| s.user == app.me && !s.lead))
}

/// Why this console may not share or take back a view, if it may not.
fn no_sharing(app: &App) -> Option<&'static str> {
    if app.team.is_none() {
        Some(app.lang.pick(
            "делиться видами можно в командном режиме: общие виды хранит сервер",
            "views are shared in team mode: the server keeps the team's views",
        ))
    } else if app.readonly {
        Some(app.lang.readonly())
    } else if plain_operator(app) {
        Some(app.lang.pick(
            "делиться видами с командой может только старший смены",
            "only a shift lead shares views with the team",
        ))
    } else {
        None
    }
}

pub(super) fn key(app: &mut App, k: KeyEvent, mut pane: Pane) -> Vec<Cmd> {
    let rows = entries(app);
    let last = rows.len().saturating_sub(1);
    // The list may have shrunk since the last key (a view deleted meanwhile).
    pane.selected = pane.selected.min(last);
    let confirm = pane.confirm.take();
    match k.code {
        KeyCode::Esc | KeyCode::Char('q' | 'й') => return vec![],
        KeyCode::Down | KeyCode::Char('j' | 'о') => pane.selected = (pane.selected + 1).min(last),
        KeyCode::Up | KeyCode::Char('k' | 'л') => pane.selected = pane.selected.saturating_sub(1),
        KeyCode::Home => pane.selected = 0,
        KeyCode::End => pane.selected = last,
        KeyCode::Char(c) if c.is_ascii_digit() => {
            pane.typed.push(c);
            if let Some(i) = rows.iter().position(|e| e.number.to_string() == pane.typed) {
                pane.selected = i;
            }
        }
        KeyCode::Backspace => {
            pane.typed.pop();
        }
        KeyCode::Enter => {
            let chosen = if pane.typed.is_empty() {
                rows.get(pane.selected)
            } else {
                rows.iter().find(|e| e.number.to_string() == pane.typed)
            };
            return match chosen.map(|e| e.what.clone()) {
                Some(What::BuiltIn(v)) => set_view(app, v),
                Some(What::Saved { view, .. }) => switch(app, view),
                None => {
                    let text = match app.lang {
                        super::strings::Lang::En => format!("no view {}", pane.typed),
                        _ => format!("нет вида {}", pane.typed),
                    };
                    flash(app, text, true);
                    pane.typed.clear();
                    app.mode = Mode::Views(pane);
                    vec![]
                }
            };
        }
        KeyCode::Char('x' | 'ч') | KeyCode::Delete => {
            let confirmed = confirm == Some(pane.selected);
            match remove(app, rows.get(pane.selected), confirmed) {
                Some(cmds) => {
                    app.mode = Mode::Views(pane);
                    return cmds;
                }
                None => pane.confirm = Some(pane.selected),
            }
        }
        KeyCode::Char('s' | 'ы') => {
            let cmds = share(app, rows.get(pane.selected));
            app.mode = Mode::Views(pane);
            return cmds;
        }
        _ => {}
    }
    app.mode = Mode::Views(pane);
    vec![]
}

/// `x` on a row: the first press asks (`None`: the footer says what the next one does), the
/// second deletes one's own view or takes the team's back; a refusal is said at once.
fn remove(app: &mut App, row: Option<&Entry>, confirmed: bool) -> Option<Vec<Cmd>> {
    let Some(What::Saved { origin, view, .. }) = row.map(|e| &e.what) else {
        let text = app
            .lang
            .pick("встроенные виды не удаляются", "the built-in views stay");
        flash(app, text.into(), true);
        return Some(vec![]);
    };
    if *origin == Origin::Shared
        && let Some(why) = no_sharing(app)
    {
        flash(app, why.into(), true);
        return Some(vec![]);
    }
    if !confirmed {
        return None;
    }
    Some(match origin {
        Origin::Own => vec![Cmd::Views(Work::Delete {
            owner: app.me.clone(),
            name: view.name.clone(),
        })],
        Origin::Shared => vec![Cmd::Team(Ask::Unshare(view.name.clone()))],
    })
}

/// `s` on one's own view: to the server, which makes it the team's (a lead's call).
fn share(app: &mut App, row: Option<&Entry>) -> Vec<Cmd> {
    let view = match row.map(|e| &e.what) {
        Some(What::Saved {
            origin: Origin::Own,
            view,
            problem: None,
        }) => view.clone(),
        Some(What::Saved {
            origin: Origin::Own,
            problem: Some(_),
            ..
        }) => {
            let text = app.lang.pick(
                "этот вид не читается: сначала поправьте его фильтр",
                "this view does not read: fix its filter first",
            );
            flash(app, text.into(), true);
            return vec![];
        }
        Some(What::Saved { .. }) => {
            let text = app
                .lang
                .pick("этот вид уже общий", "this view is shared already");
            flash(app, text.into(), true);
            return vec![];
        }
        _ => {
            let text = app.lang.pick(
                "встроенные виды и так есть у всех",
                "everyone has the built-in views",
            );
            flash(app, text.into(), true);
            return vec![];
        }
    };
    if let Some(why) = no_sharing(app) {
        flash(app, why.into(), true);
        return vec![];
    }
    let text = app
        .lang
        .pick("отправлено на сервер…", "sent to the server…");
    flash(app, text.into(), false);
    vec![Cmd::Team(Ask::Share(view))]
}
