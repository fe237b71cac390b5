//! The shift handover in the console (`h`): what `mcu handover` prints, over the inbox, with
//! the listed requests a key away. Read on the store's thread (`Cmd::LoadHandover`).

use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Mode};
use super::update::Cmd;
use crate::present::RequestView;
use crate::present::handover::Handover;

#[derive(Debug)]
pub struct Pane {
    /// None while it is being read.
    pub data: Option<Box<Handover>>,
    /// Over the late requests, then those falling due next shift.
    pub selected: usize,
}

impl Pane {
    pub fn items(&self) -> Vec<&RequestView> {
        match &self.data {
            Some(h) => h.breached.iter().chain(&h.due_next_shift).collect(),
            None => vec![],
        }
    }
}

pub fn show(app: &mut App) -> Vec<Cmd> {
    app.mode = Mode::Handover(Box::new(Pane {
        data: None,
        selected: 0,
    }));
    vec![Cmd::LoadHandover {
        hours: app.shift_hours,
    }]
}

/// The store's answer; dropped if the pane was closed meanwhile.
pub fn on_loaded(app: &mut App, loaded: Result<Box<Handover>, String>) {
    match loaded {
        Ok(h) => {
            if let Mode::Handover(p) = &mut app.mode {
                p.data = Some(h);
                p.selected = p.selected.min(p.items().len().saturating_sub(1));
            }
        }
        Err(e) => super::update::flash(app, e, true),
    }
}

pub fn key(app: &mut App, k: KeyEvent, mut pane: Box<Pane>) -> Vec<Cmd> {
    let last = pane.items().len().saturating_sub(1);
    let to = match k.code {
        KeyCode::Down | KeyCode::Char('j' | 'о') => (pane.selected + 1).min(last),
        KeyCode::Up | KeyCode::Char('k' | 'л') => pane.selected.saturating_sub(1),
        KeyCode::PageDown => (pane.selected + 10).min(last),
        KeyCode::PageUp => pane.selected.saturating_sub(10),
        KeyCode::Home | KeyCode::Char('g' | 'п') => 0,
        KeyCode::End => last,
        KeyCode::Enter => {
            let picked = pane
                .items()
                .get(pane.selected)
                .and_then(|v| Some((uuid::Uuid::parse_str(&v.id).ok()?, v.number.clone())));
            return match picked {
                Some((id, number)) => super::alerts::open(app, id, &number),
                None => {
                    app.mode = Mode::Handover(pane);
                    vec![]
                }
            };
        }
        KeyCode::Char('r' | 'к') => {
            pane.data = None;
            app.mode = Mode::Handover(pane);
            return vec![Cmd::LoadHandover {
                hours: app.shift_hours,
            }];
        }
        KeyCode::Char('q' | 'й') | KeyCode::Esc => return vec![],
        _ if app.keymap.action(k) == Some(super::keymap::Action::Handover) => return vec![],
        _ => pane.selected,
    };
    pane.selected = to;
    app.mode = Mode::Handover(pane);
    vec![]
}
